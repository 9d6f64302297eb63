/**
 * Python's `str` methods, as Jinja2 templates call them on strings (`host.upper()`,
 * `line.split(':')`, `'{}-{}'.format(a, b)`): nunjucks looks members up on JavaScript strings,
 * which have other names (`toUpperCase`) or other meanings (`'a b'.split()` does not split,
 * `replace` replaces only the first). These follow Python's semantics.
 */

import { isPlaceholder, PLACEHOLDER, placeholderTruth } from './placeholder.js';
import { definedOperands, isDict, isNumeric, pending, unsupported } from './python-operators.js';

/** nunjucks' keyword arguments (`f(x, sep=',')`): a last argument marked `__keywords`. */
export function splitKeywords(args: readonly unknown[]): {
  positional: unknown[];
  keywords: Record<string, unknown>;
} {
  const last = args.at(-1);
  if (typeof last === 'object' && last !== null && Object.hasOwn(last, '__keywords')) {
    const { __keywords: _marker, ...keywords } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), keywords };
  }
  return { positional: [...args], keywords: {} };
}

const WHITESPACE = ' \t\n\r\f\v';

function stripChars(text: string, chars: unknown, left: boolean, right: boolean): string {
  const set = typeof chars === 'string' ? chars : WHITESPACE;
  let start = 0;
  let end = text.length;
  if (left) while (start < end && set.includes(text.charAt(start))) start++;
  if (right) while (end > start && set.includes(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python's `str.split(sep=None, maxsplit=-1)`. */
function pythonSplit(text: string, sep: unknown, maxsplit: unknown): string[] {
  const limit = typeof maxsplit === 'number' && maxsplit >= 0 ? maxsplit : Number.POSITIVE_INFINITY;
  if (sep === undefined || sep === null) {
    // runs of whitespace, none at the ends
    const words: string[] = [];
    let rest = text.replace(/^\s+/, '');
    while (rest.length > 0) {
      if (words.length === limit) {
        words.push(rest);
        break;
      }
      const match = /\s+/.exec(rest);
      if (match === null) {
        words.push(rest);
        break;
      }
      words.push(rest.slice(0, match.index));
      rest = rest.slice(match.index + match[0].length);
    }
    return words;
  }
  const separator = String(sep);
  if (separator === '') throw new Error('empty separator');
  const parts: string[] = [];
  let rest = text;
  for (let at = rest.indexOf(separator); at >= 0 && parts.length < limit; at = rest.indexOf(separator)) {
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}

/** `str.format`: `{}`, `{0}`, `{name}`, `{{` and `}}`; no format specs. */
function pythonFormat(text: string, args: readonly unknown[]): string {
  const { positional, keywords } = splitKeywords(args);
  let next = 0;
  return text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const name = (field ?? '').split(/[:!]/)[0] ?? '';
    const value =
      name === '' ? positional[next++] : /^\d+$/.test(name) ? positional[Number(name)] : keywords[name];
    if (value === undefined) throw new Error(`format: no value for {${name}}`);
    return pythonStr(value);
  });
}

/** How Python's `str()` shows a value: what `format` and `%` insert. */
export function pythonStr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value) || isDict(value)) return pythonRepr(value);
  return String(value);
}

const matchesAny = (text: string, what: unknown, test: (text: string, part: string) => boolean): boolean =>
  Array.isArray(what) ? what.some((part) => test(text, String(part))) : test(text, String(what));

/** The methods, called with the string as `this`. */
const STRING_METHODS: Record<string, (this: string, ...args: unknown[]) => unknown> = {
  upper() {
    return this.toUpperCase();
  },
  lower() {
    return this.toLowerCase();
  },
  strip(chars) {
    return stripChars(this, chars, true, true);
  },
  lstrip(chars) {
    return stripChars(this, chars, true, false);
  },
  rstrip(chars) {
    return stripChars(this, chars, false, true);
  },
  split(...args) {
    const { positional, keywords } = splitKeywords(args);
    return pythonSplit(this, positional[0] ?? keywords.sep, positional[1] ?? keywords.maxsplit);
  },
  splitlines() {
    const lines = this.split(/\r\n|\r|\n/);
    if (lines.at(-1) === '') lines.pop();
    return lines;
  },
  startswith(prefix) {
    return matchesAny(this, prefix, (text, part) => text.startsWith(part));
  },
  endswith(suffix) {
    return matchesAny(this, suffix, (text, part) => text.endsWith(part));
  },
  replace(old, replacement, count) {
    const from = String(old);
    const to = String(replacement);
    const limit = typeof count === 'number' && count >= 0 ? count : Number.POSITIVE_INFINITY;
    if (from === '') return this;
    const parts = this.split(from);
    if (parts.length - 1 <= limit) return parts.join(to);
    return parts.slice(0, limit + 1).join(to) + from + parts.slice(limit + 1).join(from);
  },
  format(...args) {
    return pythonFormat(this, args);
  },
  capitalize() {
    return this.charAt(0).toUpperCase() + this.slice(1).toLowerCase();
  },
  title() {
    return this.toLowerCase().replace(
      /(^|[^A-Za-z])([a-z])/g,
      (_all, before: string, letter: string) => before + letter.toUpperCase(),
    );
  },
  join(items) {
    return (Array.isArray(items) ? items : [...String(items)]).map(String).join(this);
  },
  find(sub) {
    return this.indexOf(String(sub));
  },
  count(sub) {
    const part = String(sub);
    return part === '' ? this.length + 1 : this.split(part).length - 1;
  },
  zfill(width) {
    const sign = /^[+-]/.test(this) ? this.charAt(0) : '';
    return sign + this.slice(sign.length).padStart(Number(width) - sign.length, '0');
  },
  ljust(width, fill = ' ') {
    return this.padEnd(Number(width), String(fill));
  },
  rjust(width, fill = ' ') {
    return this.padStart(Number(width), String(fill));
  },
  isdigit() {
    return /^\d+$/.test(this);
  },
  isalpha() {
    return /^[A-Za-z]+$/.test(this);
  },
  isalnum() {
    return /^[A-Za-z0-9]+$/.test(this);
  },
  isspace() {
    return /^\s+$/.test(this);
  },
  islower() {
    return /[a-z]/.test(this) && this === this.toLowerCase();
  },
  isupper() {
    return /[A-Z]/.test(this) && this === this.toUpperCase();
  },
};

/** The Python method `name` of a string, bound to it; undefined when Python's `str` has none of that name here. */
export function stringMethod(text: string, name: unknown): ((...args: unknown[]) => unknown) | undefined {
  if (typeof name !== 'string' || !Object.hasOwn(STRING_METHODS, name)) return undefined;
  const method = STRING_METHODS[name] as (this: string, ...args: unknown[]) => unknown;
  return (...args: unknown[]) => {
    // an undefined argument is a missing variable: never a silent default
    if (args.some((arg) => arg === undefined)) throw new Error(`an undefined value given to ${name}()`);
    return method.apply(text, args);
  };
}

/** Python's truth: empty strings, lists and dicts, 0, None and False are false. */
export function pythonTruth(value: unknown): boolean {
  // a lenient render's missing value is false, as Jinja's Undefined (`x != 1` of it is true);
  // `count > 3` of it only the run can tell
  if (isPlaceholder(value)) return placeholderTruth(value) ?? undecidable(value[PLACEHOLDER]);
  if (Array.isArray(value)) return value.length > 0;
  if (isDict(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** A condition on a value not known yet (`{% if count > 3 %}` in a lenient render). */
export class UndecidableCondition extends Error {
  readonly expression: string;
  constructor(expression: string) {
    super(`the condition ${expression} uses a value that is not known yet`);
    this.expression = expression;
  }
}

/**
 * What a lenient render does with a condition only the run can decide: `'false'` takes it as
 * false (labels, dry runs: something is shown), `'error'` throws (a scenario's pre-render, whose
 * choice would be baked into the scenario).
 */
let undecided: 'false' | 'error' = 'false';

/** Runs `render` with conditions on values not known yet doing `policy`. */
export function withUndecidedConditions<T>(policy: 'false' | 'error', render: () => T): T {
  const outer = undecided;
  undecided = policy;
  try {
    return render();
  } finally {
    undecided = outer;
  }
}

/** The last {@link UndecidableCondition} thrown (renders are synchronous; nunjucks wraps errors in its own). */
let lastThrown: UndecidableCondition | undefined;

/** Takes the undecidable condition the render that just failed threw, if any. */
export function lastUndecided(): UndecidableCondition | undefined {
  const thrown = lastThrown;
  lastThrown = undefined;
  return thrown;
}

function undecidable(expression: string): boolean {
  if (undecided === 'error') {
    lastThrown = new UndecidableCondition(expression);
    throw lastThrown;
  }
  return false;
}

/** `~`: each side as Python's `str()` shows it. */
export function pythonConcat(left: unknown, right: unknown): unknown {
  const later = pending('~', left, right);
  if (later !== undefined) return later;
  definedOperands('~', left, right);
  return pythonStr(left) + pythonStr(right);
}

/** How Python's `repr()` shows a value inside a list or dict (`inside`: the lists and dicts around it). */
function innerRepr(value: unknown, inside: Set<unknown>): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return pythonRepr(value, inside);
}

/**
 * How Python prints a value: lists `[1, 'a']`, dicts `{'k': 1}`, True, None; a list or dict
 * inside itself as `[...]` or `{...}`, as Python does (it overflowed the stack).
 */
export function pythonRepr(value: unknown, inside = new Set<unknown>()): string {
  if (!Array.isArray(value) && !isDict(value)) return pythonStr(value);
  if (inside.has(value)) return Array.isArray(value) ? '[...]' : '{...}';
  inside.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item) => innerRepr(item, inside)).join(', ')}]`;
    return `{${Object.entries(value)
      .map(([key, item]) => `${innerRepr(key, inside)}: ${innerRepr(item, inside)}`)
      .join(', ')}}`;
  } finally {
    inside.delete(value);
  }
}

/**
 * printf-style formatting, as Python's `%` and Jinja's `format` filter do it: `%s`, `%d`, `%i`,
 * `%f`, `%r`, `%%`, with flags (`-`, `0`, `+`, space), a width and a precision (`%-8s`, `%5.1f`),
 * and `%(name)s` from a mapping.
 */
export function printf(template: string, args: unknown[] | Record<string, unknown>): string {
  let next = 0;
  const unsupported = /%(?:\(\w+\))?[-+ 0#]*\d*(?:\.\d+)?([^-+ 0#\d.(sdifr%])/.exec(template);
  if (unsupported !== null)
    throw new Error(`format: the conversion %${unsupported[1]} is not supported (%s, %d, %i, %f, %r are)`);
  const pattern = /%(?:\((\w+)\))?([-+ 0]*)(\d+)?(?:\.(\d+))?([sdifr%])/g;
  return template.replace(
    pattern,
    (
      _all,
      key: string | undefined,
      flags: string,
      width: string | undefined,
      precision: string | undefined,
      kind: string,
    ) => {
      if (kind === '%') return '%';
      let value: unknown;
      if (key !== undefined) {
        if (Array.isArray(args) || !Object.hasOwn(args, key))
          throw new Error(`format: no value for %(${key})`);
        value = args[key];
      } else {
        const list = Array.isArray(args) ? args : [args];
        if (next >= list.length) throw new Error('format: not enough arguments for the format string');
        value = list[next++];
      }
      if (value === undefined) throw new Error('format: an undefined value');
      let text: string;
      if (kind === 'd' || kind === 'i') text = String(Math.trunc(Number(value)));
      else if (kind === 'f') text = Number(value).toFixed(precision === undefined ? 6 : Number(precision));
      else if (kind === 'r') text = typeof value === 'string' ? `'${value}'` : pythonStr(value);
      else text = precision === undefined ? pythonStr(value) : pythonStr(value).slice(0, Number(precision));
      const numeric = kind !== 's' && kind !== 'r';
      if (numeric && !text.startsWith('-') && (flags.includes('+') || flags.includes(' ')))
        text = (flags.includes('+') ? '+' : ' ') + text;
      const size = width === undefined ? 0 : Number(width);
      if (text.length >= size) return text;
      if (flags.includes('-')) return text.padEnd(size);
      if (flags.includes('0') && numeric) {
        const sign = /^[-+ ]/.test(text) ? text.charAt(0) : '';
        return sign + text.slice(sign.length).padStart(size - sign.length, '0');
      }
      return text.padStart(size);
    },
  );
}

/** Python's `*`: a string or a list repeated, else the product. */
export function pythonMultiply(left: unknown, right: unknown): unknown {
  const later = pending('*', left, right);
  if (later !== undefined) return later;
  definedOperands('*', left, right);
  const times = (count: number | boolean) => Math.max(0, Math.trunc(Number(count)));
  // a count may be a bool (Python's bool is an int), on either side of a string or a list
  if (typeof left === 'string' && isNumeric(right)) return left.repeat(times(right));
  if (typeof right === 'string' && isNumeric(left)) return right.repeat(times(left));
  if (Array.isArray(left) && isNumeric(right)) return Array.from({ length: times(right) }, () => left).flat();
  if (Array.isArray(right) && isNumeric(left)) return Array.from({ length: times(left) }, () => right).flat();
  if (!isNumeric(left) || !isNumeric(right)) throw unsupported('*', left, right);
  return Number(left) * Number(right);
}

/** Python's `%`: string formatting for a string on the left, else the modulo with the divisor's sign. */
export function pythonModulo(left: unknown, right: unknown): unknown {
  const later = pending('%', left, right);
  if (later !== undefined) return later;
  definedOperands('%', left, right);
  if (typeof left === 'string') {
    const args = Array.isArray(right)
      ? right
      : right !== null && typeof right === 'object'
        ? (right as Record<string, unknown>)
        : [right];
    return printf(left, args);
  }
  const [a, b] = [Number(left), Number(right)];
  if (!isNumeric(left) || !isNumeric(right)) throw unsupported('%', left, right);
  if (b === 0) throw new RangeError(`division by zero: ${a} % 0`);
  return a - b * Math.floor(a / b);
}
