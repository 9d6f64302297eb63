/**
 * The Jinja2 filters and tests that nunjucks lacks, or has with other arguments: added to (or
 * put in place of nunjucks' own in) an environment, before the strict and lenient wrappers of
 * render.ts go around every filter. Keyword arguments (`sort(attribute='name')`) arrive from
 * nunjucks as a last object marked `__keywords`.
 */
import type { Environment } from 'nunjucks';
import { printf, pythonStr, splitKeywords } from './python-methods.js';

type Filter = (this: FilterContext, ...args: unknown[]) => unknown;
interface FilterContext {
  env: {
    getTest(name: string): (this: unknown, ...args: unknown[]) => unknown;
    getFilter(name: string): Filter;
  };
}

/** `a.b.c` of a value, as Jinja's `attribute=` reads it (keys of objects, items of lists by index). */
function attributeOf(value: unknown, path: unknown): unknown {
  let current = value;
  for (const part of String(path).split('.')) {
    if (current === null || current === undefined) return undefined;
    const key = /^\d+$/.test(part) && Array.isArray(current) ? Number(part) : part;
    // its own keys only: `attribute='constructor'` would reach Function, i.e. any JavaScript
    if (!Object.hasOwn(Object(current), key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (value !== null && typeof value === 'object') return Object.keys(value);
  return [];
}

/** Compares as Jinja's sort does: strings without case unless asked. */
function comparer(caseSensitive: boolean): (a: unknown, b: unknown) => number {
  const key = (value: unknown) => (!caseSensitive && typeof value === 'string' ? value.toLowerCase() : value);
  return (a, b) => {
    const [x, y] = [key(a), key(b)] as [never, never];
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/** Python's `json.dumps(sort_keys=True)` (Jinja's `tojson`): `", "` and `": "`, ASCII only, then made safe for HTML. */
/** How deep `tojson` goes: deeper is a value inside itself (Python: "Circular reference detected"). */
const MAX_JSON_DEPTH = 1000;

function pythonJson(value: unknown, indent: number | undefined, depth = 0): string {
  if (value === undefined) throw new Error('tojson: an undefined value');
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  // as Python's json: a list or dict inside itself has no JSON (it overflowed the stack)
  if (depth > MAX_JSON_DEPTH)
    throw new Error('tojson: a value nested too deep, or inside itself (circular reference)');
  const inner = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`;
  const outer = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`;
  const comma = indent === undefined ? ', ' : ',';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${inner}${value.map((item) => pythonJson(item, indent, depth + 1)).join(comma + inner)}${outer}]`;
  }
  const keys = Object.keys(value as object).sort();
  if (keys.length === 0) return '{}';
  const entries = keys.map(
    (key) =>
      `${pythonJson(key, indent)}: ${pythonJson((value as Record<string, unknown>)[key], indent, depth + 1)}`,
  );
  return `{${inner}${entries.join(comma + inner)}${outer}}`;
}

/** Filters with Jinja2's names, arguments and results. */
const FILTERS: Record<string, Filter> = {
  tojson(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const indent = (positional[0] ?? keywords.indent) as number | undefined;
    return pythonJson(value, indent)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/'/g, '\\u0027');
  },
  map(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const items = toList(value);
    if (keywords.attribute !== undefined) {
      return items.map((item) => attributeOf(item, keywords.attribute) ?? keywords.default);
    }
    const [name, ...rest] = positional;
    if (typeof name !== 'string') throw new Error('map: expected a filter name or attribute=');
    const filter = this.env.getFilter(name);
    return items.map((item) => filter.call(this, item, ...rest));
  },
  selectattr(value, attribute, test, ...args) {
    return selectByAttribute.call(this, value, attribute, test, args, true);
  },
  rejectattr(value, attribute, test, ...args) {
    return selectByAttribute.call(this, value, attribute, test, args, false);
  },
  unique(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const caseSensitive = Boolean(positional[0] ?? keywords.case_sensitive ?? false);
    const attribute = positional[1] ?? keywords.attribute;
    const seen = new Set<unknown>();
    return toList(value).filter((item) => {
      let key = attribute === undefined ? item : attributeOf(item, attribute);
      if (!caseSensitive && typeof key === 'string') key = key.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  },
  count(value) {
    // Jinja2's other name of length
    return (this.env.getFilter('length') as Filter).call(this, value);
  },
  list(value) {
    // a dict's keys, a string's characters (nunjucks' own gives {key, value} objects for a dict)
    return [...toList(value)];
  },
  items(value) {
    if (value === null || value === undefined) return [];
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('items: expected a mapping');
    return Object.entries(value);
  },
  sort(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const reverse = Boolean(positional[0] ?? keywords.reverse ?? false);
    const caseSensitive = Boolean(positional[1] ?? keywords.case_sensitive ?? false);
    const attribute = positional[2] ?? keywords.attribute;
    const compare = comparer(caseSensitive);
    const key = (item: unknown) => (attribute === undefined ? item : attributeOf(item, attribute));
    const sorted = [...toList(value)].sort((a, b) => compare(key(a), key(b)));
    return reverse ? sorted.reverse() : sorted;
  },
  dictsort(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const caseSensitive = Boolean(positional[0] ?? keywords.case_sensitive ?? false);
    const by = positional[1] ?? keywords.by ?? 'key';
    const reverse = Boolean(positional[2] ?? keywords.reverse ?? false);
    const compare = comparer(caseSensitive);
    const index = by === 'value' ? 1 : 0;
    const sorted = Object.entries((value ?? {}) as object).sort((a, b) => compare(a[index], b[index]));
    return reverse ? sorted.reverse() : sorted;
  },
  join(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const separator = String(positional[0] ?? keywords.d ?? '');
    const attribute = positional[1] ?? keywords.attribute;
    return toList(value)
      .map((item) => pythonStr(attribute === undefined ? item : attributeOf(item, attribute)))
      .join(separator);
  },
  indent(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const width = positional[0] ?? keywords.width ?? 4;
    const first = Boolean(positional[1] ?? keywords.first ?? false);
    const blank = Boolean(positional[2] ?? keywords.blank ?? false);
    const pad = typeof width === 'string' ? width : ' '.repeat(Number(width));
    const lines = String(value).split('\n');
    return lines
      .map((line, index) => ((index === 0 && !first) || (line === '' && !blank) ? line : pad + line))
      .join('\n');
  },
  min(value, ...args) {
    return extreme(value, args, -1);
  },
  max(value, ...args) {
    return extreme(value, args, 1);
  },
  format(value, ...args) {
    return printf(String(value), args);
  },
  trim(value, chars) {
    const set = typeof chars === 'string' ? chars : ' \t\n\r\f\v';
    let [start, end] = [0, String(value).length];
    const text = String(value);
    while (start < end && set.includes(text.charAt(start))) start++;
    while (end > start && set.includes(text.charAt(end - 1))) end--;
    return text.slice(start, end);
  },
  string(value) {
    return pythonStr(value);
  },
  int(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const fallback = positional[0] ?? keywords.default ?? 0;
    const base = Number(positional[1] ?? keywords.base ?? 10);
    if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback;
    if (typeof value === 'boolean') return value ? 1 : 0;
    const text = String(value).trim();
    const whole = Number.parseInt(text, base);
    if (Number.isNaN(whole)) return fallback;
    // Jinja reads '1.5' as a float, then truncates it
    return base === 10 && /^[+-]?\d*\.\d+(e[+-]?\d+)?$/i.test(text) ? Math.trunc(Number(text)) : whole;
  },
  float(value, ...args) {
    const { positional, keywords } = splitKeywords(args);
    const fallback = positional[0] ?? keywords.default ?? 0;
    const number = typeof value === 'number' ? value : Number.parseFloat(String(value));
    return Number.isNaN(number) ? fallback : number;
  },
};

function extreme(value: unknown, args: unknown[], sign: 1 | -1): unknown {
  const { positional, keywords } = splitKeywords(args);
  const caseSensitive = Boolean(positional[0] ?? keywords.case_sensitive ?? false);
  const attribute = positional[1] ?? keywords.attribute;
  const compare = comparer(caseSensitive);
  const key = (item: unknown) => (attribute === undefined ? item : attributeOf(item, attribute));
  const items = toList(value);
  if (items.length === 0) return undefined;
  return items.reduce((best, item) => (sign * compare(key(item), key(best)) > 0 ? item : best));
}

function selectByAttribute(
  this: FilterContext,
  value: unknown,
  attribute: unknown,
  test: unknown,
  args: unknown[],
  keep: boolean,
): unknown[] {
  const check = test === undefined ? (item: unknown) => Boolean(item) : this.env.getTest(String(test));
  return toList(value).filter(
    (item) => Boolean(check.call(this, attributeOf(item, attribute), ...args)) === keep,
  );
}

/** Tests with Jinja2's names that nunjucks lacks. */
const TESTS: Record<string, (value: unknown, ...args: unknown[]) => boolean> = {
  none: (value) => value === null,
  in: (value, container) =>
    Array.isArray(container) || typeof container === 'string'
      ? container.includes(value as never)
      : container !== null && typeof container === 'object' && Object.hasOwn(container, String(value)),
  boolean: (value) => typeof value === 'boolean',
  true: (value) => value === true,
  false: (value) => value === false,
  integer: (value) => Number.isInteger(value),
  float: (value) => typeof value === 'number' && !Number.isInteger(value),
  sequence: (value) => Array.isArray(value) || typeof value === 'string',
  mapping: (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
};

/** Puts Jinja2's filters and tests in `env` (before render.ts wraps its filters). */
export function addJinjaFiltersAndTests(env: Environment): void {
  for (const [name, filter] of Object.entries(FILTERS)) env.addFilter(name, filter as never);
  // addTest is in nunjucks, not in its type definitions
  const withTests = env as unknown as { addTest(name: string, test: unknown): void };
  for (const [name, test] of Object.entries(TESTS)) withTests.addTest(name, test);
}
