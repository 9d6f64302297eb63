/**
 * Escaping for the report page: everything in it that comes from a run (labels, commands, output,
 * errors) is text, never markup.
 */

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `text` safe inside HTML or SVG text and attribute values. Control characters (a NUL in an id,
 * the escape codes of coloured output) are not allowed in XML: they are shown as their pictures
 * (`␀`, `␛`), tab and line ends kept.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[&<>"']/g, (char) => XML[char] ?? char)
    .replace(CONTROL, (char) =>
      char === '\x7f' ? '\u2421' : String.fromCharCode(0x2400 + char.charCodeAt(0)),
    );
}

/** C0 controls but tab, line feed and carriage return; and DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
