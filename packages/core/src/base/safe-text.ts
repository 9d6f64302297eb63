/**
 * Text of any value a job may throw or a caller may abort with, for the listings and messages:
 * never throwing itself. An object without a prototype, one whose `toString` or `message` getter
 * throws, a revoked Proxy: each has a text all the same.
 */

/**
 * `String(value)`, or, when that throws, `Object.prototype.toString`'s text (else its type).
 * @example `safeText(Object.create(null))   // '[object Object]'`
 */
export function safeText(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value}]`;
    }
  }
}

/**
 * A name (a job's label) quoted for a one-line message: newlines and other control characters
 * escaped as JSON escapes them, cut after `max` characters.
 * @example `quoted('a\nb')   // '"a\\nb"'`
 */
export function quoted(text: string, max = 100): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/** `read()`, or `fallback` when it throws (a getter of a thrown value). */
export function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
