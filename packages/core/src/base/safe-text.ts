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

/** `read()`, or `fallback` when it throws (a getter of a thrown value). */
export function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
