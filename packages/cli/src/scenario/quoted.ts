/**
 * A text of the scenario file as a message shows it: quoted, and cut past a length, so that a
 * one-line error stays one line however long the value (a whole file read as one string was
 * written out whole, 135 MB of stderr).
 */

/** The most characters of a value a message shows. */
const SHOWN = 60;

/**
 * `"text"`, or `"the first 60 characters…" (12345 characters)` for a longer one.
 * @example `quoted('fit01')   // '"fit01"'`
 */
export function quoted(text: string): string {
  if (text.length <= SHOWN) return JSON.stringify(text);
  return `${JSON.stringify(`${text.slice(0, SHOWN)}…`)} (${text.length} characters)`;
}
