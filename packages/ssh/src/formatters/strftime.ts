/**
 * A small, pure `strftime`: the subset of C's conversions that apssh formats use
 * (`-f '%Y-%m-%d {host}:{line}'`, `{time}` = `%H-%M-%S`, `-d` = `%Y-%m-%d@%H:%M`).
 */

/** C-locale names: output must not depend on the user's locale (apssh runs in the C locale). */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const pad = (value: number, width = 2, fill = '0') => String(value).padStart(width, fill);

/** Day of the year, 1..366, counted on calendar dates so that a DST shift cannot skew it. */
function dayOfYear(date: Date): number {
  const today = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const newYear = Date.UTC(date.getFullYear(), 0, 1);
  return Math.round((today - newYear) / 86_400_000) + 1;
}

/** One renderer per conversion letter: adding a code is adding a row. */
const CONVERSIONS: Readonly<Record<string, (date: Date) => string>> = {
  Y: (d) => pad(d.getFullYear(), 4),
  y: (d) => pad(d.getFullYear() % 100),
  m: (d) => pad(d.getMonth() + 1),
  d: (d) => pad(d.getDate()),
  e: (d) => pad(d.getDate(), 2, ' '),
  H: (d) => pad(d.getHours()),
  M: (d) => pad(d.getMinutes()),
  S: (d) => pad(d.getSeconds()),
  j: (d) => pad(dayOfYear(d), 3),
  b: (d) => MONTHS[d.getMonth()] ?? '???',
  a: (d) => DAYS[d.getDay()] ?? '???',
  F: (d) => `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
  T: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  '%': () => '%',
};

/**
 * Formats `date` in local time with C `strftime` conversions: `%Y` `%m` `%d` `%H`
 * `%M` `%S` `%y` `%j` `%b` `%a` `%e` `%F` `%T` `%s` and `%%`. Month and day names
 * are the C locale's (`Jan`, `Mon`).
 *
 * The string is scanned once, left to right, so `%%Y` gives `%Y`. Any other `%x`
 * (and a lone trailing `%`) is kept as written, as glibc does, rather than throwing:
 * a format comes from the user's command line and a typo should show, not crash.
 *
 * @param format - the text with `%` conversions.
 * @param date - the instant to render, in the local time zone.
 * @returns the formatted text.
 *
 * @example
 * ```ts
 * strftime('%Y-%m-%d@%H:%M', new Date(2026, 10, 25, 1, 36, 42)) // '2026-11-25@01:36'
 * strftime('%H-%M-%S 100%%', new Date(2026, 10, 25, 1, 36, 42)) // '01-36-42 100%'
 * ```
 */
export function strftime(format: string, date: Date): string {
  if (!format.includes('%')) return format;
  return format.replace(/%([YymdeHMSjbaFTs%])/g, (_match, code: string) => {
    const convert = CONVERSIONS[code];
    return convert ? convert(date) : `%${code}`;
  });
}
