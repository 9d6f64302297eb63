/** Shell quoting, the `shquote` filter of templates. */

/** Single-quotes a value for a POSIX shell: `it's` → `'it'\''s'`. */
export function shquote(value: unknown): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}
