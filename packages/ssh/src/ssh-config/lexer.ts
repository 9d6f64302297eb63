/**
 * Lexing: a file's text becomes a list of keyword lines, split exactly as OpenSSH's
 * readconf.c does (strdelim for the keyword, argv_split for the arguments).
 *
 * Our own code rather than the `ssh-config` package's parser, which keeps single quotes and
 * `\ ` escapes, cuts a value at a `#` inside a word, accepts a keyword without an argument
 * and reports no line numbers — each of which changes what a config means or says.
 */
import { ConfigProblem, show, type Where } from './problem.js';

/** One meaningful line: keyword lower-cased (keywords are case-insensitive), arguments unquoted. */
export interface ConfigLine extends Where {
  readonly keyword: string;
  readonly args: readonly string[];
  /** The text after the keyword, unsplit (ProxyCommand is a shell command, shown as written). */
  readonly rest: string;
}

/**
 * Splits `keyword args` or `keyword=args` (OpenSSH's strdelim: the keyword ends at a
 * blank or `=`, and one `=` with blanks around it may separate it from the arguments).
 * Returns undefined for blank lines and comments.
 */
function splitKeyword(text: string): { keyword: string; rest: string } | undefined {
  // ssh strips trailing blanks (and a form feed); \r covers files written on Windows.
  const line = text.replace(/[ \t\f\r]+$/, '').replace(/^[ \t]+/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  const match = /^([^ \t=]+)[ \t]*(?:=[ \t]*)?(.*)$/.exec(line);
  if (match === null) return undefined; // a line of "=" only: nothing ssh would read either
  return { keyword: (match[1] ?? '').toLowerCase(), rest: match[2] ?? '' };
}

/**
 * Splits arguments as OpenSSH's argv_split does: blanks separate them, `"…"` and `'…'`
 * quote (also in the middle of an argument), `\"`, `\'`, `\\` and (unquoted) `\ ` escape,
 * and a `#` at the start of an argument ends the line.
 */
function splitArgs(rest: string, where: Where): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let arg = '';
    let quote: string | undefined;
    for (; i < rest.length; i++) {
      const ch = rest[i] as string;
      const next = rest[i + 1];
      if (
        ch === '\\' &&
        (next === '"' || next === "'" || next === '\\' || (quote === undefined && next === ' '))
      ) {
        arg += next;
        i++;
      } else if (quote === undefined && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === undefined && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== undefined && ch === quote) {
        quote = undefined;
      } else {
        arg += ch;
      }
    }
    if (quote !== undefined) throw new ConfigProblem(`unterminated ${quote} quote`, where);
    args.push(arg);
  }
  return args;
}

/**
 * The keyword lines of one file's text. Every line is checked, as ssh does, even in blocks
 * that do not apply.
 * @throws ConfigProblem for an unterminated quote or a keyword without argument
 */
export function parseConfig(text: string, file: string): ConfigLine[] {
  // read as a keyword, the mark made the first block's lines apply to every host (ssh refuses it)
  if (text.startsWith('\ufeff')) {
    throw new ConfigProblem(
      'the file starts with a byte order mark (U+FEFF), which ssh refuses too: save it without one',
      { file, line: 1 },
    );
  }
  const lines: ConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const split = splitKeyword(raw);
    if (split === undefined) return;
    const where = { file, line: index + 1 };
    const args = splitArgs(split.rest, where);
    if (args.length === 0) throw new ConfigProblem(`no argument after keyword ${show(split.keyword)}`, where);
    lines.push({ ...where, keyword: split.keyword, args, rest: split.rest });
  });
  return lines;
}
