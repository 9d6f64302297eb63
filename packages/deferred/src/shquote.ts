/** Shell quoting, the `shquote` filter of templates. */
import { pythonStr } from './python-methods.js';

/** Single-quotes a value for a POSIX shell: `it's` → `'it'\''s'`. */
export function shquote(value: unknown): string {
  return `'${pythonStr(value).replace(/'/g, `'\\''`)}'`;
}
