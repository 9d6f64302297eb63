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
  return JSON.stringify(text.length > max ? `${firstUnits(text, max)}…` : text);
}

/**
 * The items of a long list as a message shows them: all of up to 12, else the first 6, `… (N more)`
 * and the last 5 (a cycle of 20,000 jobs made a message of 170,000 characters).
 * @example `elided(ids).join(' -> ')`
 */
export function elided(items: readonly string[]): string[] {
  if (items.length <= 12) return [...items];
  return [...items.slice(0, 6), `… (${items.length - 11} more)`, ...items.slice(-5)];
}

/** `text` in at most `max` characters, an ellipsis last when cut: a listing's column. */
export function shortened(text: string, max: number): string {
  return text.length > max ? `${firstUnits(text, max - 1)}…` : text;
}

/** The first `count` UTF-16 units of `text`, one fewer rather than half of a character (an emoji's surrogate pair). */
function firstUnits(text: string, count: number): string {
  const code = text.charCodeAt(count - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? count - 1 : count);
}

/** Whether `value` is an Error, false where asking throws (a revoked Proxy). */
export function isError(value: unknown): value is Error {
  return safely(() => value instanceof Error, false);
}

/**
 * An error's message, or any other value as text: never throwing (a `message` getter may). A plain
 * object thrown with a string `message` (`throw { code, message }`) is its message too.
 */
export function messageText(value: unknown): string {
  if (isError(value)) return safely(() => safeText(value.message), '');
  if (typeof value === 'object' && value !== null) {
    const message = safely(() => (value as { message?: unknown }).message, undefined);
    if (typeof message === 'string') return message;
  }
  return safeText(value);
}

/**
 * `text`, or its first `max` characters and how many more there were: a job that throws a
 * 1 MB message must not make every view of the run a megabyte.
 * @example `cutText('x'.repeat(12), 10)   // 'xxxxxxxxxx… (2 more characters)'`
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = firstUnits(text, max);
  return `${kept}… (${text.length - kept.length} more characters)`;
}

/** `read()`, or `fallback` when it throws (a getter of a thrown value). */
export function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
