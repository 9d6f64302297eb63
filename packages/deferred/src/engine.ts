/**
 * The template engine: nunjucks, loaded by the first render or parse (25 modules, ~15–20 ms: a
 * script that never renders a template does not pay for it), made to read Jinja2 — nunjucks'
 * own compat (True/False/None, slices, dict and list methods), Python's str methods, `%` and
 * tuples as Python's, True/False/None printed as Python prints them, Jinja2's filters and tests
 * (jinja-filters.ts) — and its environments: strict (a missing value throws) and lenient
 * (missing values are placeholders), per search path of `{% include %}`.
 */
import { createRequire } from 'node:module';
import type Nunjucks from 'nunjucks';
import type { Environment } from 'nunjucks';
import { addJinjaFiltersAndTests } from './jinja-filters.js';
import { expressionText, isPlaceholder, placeholder } from './placeholder.js';
import { pythonModulo, pythonMultiply, pythonStr, stringMethod } from './python-methods.js';
import { shquote } from './shquote.js';

/** nunjucks' parser and runtime: public in the package, absent from its type definitions. */
interface Internals {
  parser: { parse(src: string, extensions: unknown[], options: object): unknown };
  runtime: {
    contextOrFrameLookup(context: unknown, frame: unknown, name: string): unknown;
    memberLookup(obj: unknown, name: unknown, ...rest: unknown[]): unknown;
    suppressValue(value: unknown, autoescape: boolean): unknown;
    ensureDefined(value: unknown, lineno: number, colno: number): unknown;
  };
  installJinjaCompat(): void;
  compiler: { Compiler: { prototype: Record<string, unknown> } };
  nodes: { Symbol: { prototype: { value?: unknown; toString(): string } } };
}

/**
 * The names looked up without a value during the render in progress (renders are synchronous).
 * nunjucks copies the context it is given, so a Proxy cannot observe lookups: its runtime's
 * lookup function is wrapped instead. Outside our renders the wrapper only passes through.
 */
let lookups: Lookups | undefined;
export interface Lookups {
  /** Every name looked up in vain. */
  readonly missing: Set<string>;
  /** The name of the latest lookup, if it found nothing: what a failing expression used. */
  last: string | undefined;
}

/** The two environments of a search path. */
export interface Environments {
  /** A missing value throws. */
  readonly strict: Environment;
  /** Missing values are placeholders. */
  readonly lenient: Environment;
}

/** What the first render sets up: nunjucks, patched, and its parser. */
interface Engine {
  readonly nunjucks: typeof Nunjucks;
  readonly parser: Internals['parser'];
  /** By search path of `{% include %}` ('' for none). */
  readonly environments: Map<string, Environments>;
}
let engine: Engine | undefined;

/** Loads nunjucks and sets up the environments, on the first call. */
function nunjucksEngine(): Engine {
  if (engine !== undefined) return engine;
  const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof Nunjucks;
  const internals = nunjucks as unknown as Internals;
  // Jinja2's Python: True/False/None, slices, dict and list methods (nunjucks' own compat), and
  // str methods (ours) — installed before the lookup below, which must not see True as missing
  internals.installJinjaCompat();
  const member = internals.runtime.memberLookup;
  internals.runtime.memberLookup = function memberLookup(obj, name, ...rest) {
    if (typeof obj === 'string' && rest.length < 2) {
      const method = stringMethod(obj, name);
      if (method !== undefined) return method;
    }
    // a slice of a string is a string, as in Python (nunjucks' compat gives a list of characters)
    if (typeof obj === 'string' && rest.length === 2)
      return (member.call(this, obj, name, ...rest) as unknown[]).join('');
    // a negative index counts from the end, as in Python: `hosts[-1]`
    if (
      (Array.isArray(obj) || typeof obj === 'string') &&
      typeof name === 'number' &&
      name < 0 &&
      rest.length < 2
    )
      return member.call(this, obj, obj.length + name, ...rest);
    return member.call(this, obj, name, ...rest);
  };
  const runtime = internals.runtime as unknown as Record<string, unknown>;
  runtime.pythonModulo = pythonModulo;
  runtime.pythonMultiply = pythonMultiply;
  // `%` and `*` as Python's: `'%s-%s' % (a, b)` formats, `'-' * 20` repeats (nunjucks compiles
  // them to JavaScript's operators)
  const asCall = (helper: string) =>
    function compileOperator(
      this: { _emit(code: string): void; compile(node: unknown, frame: unknown): void },
      node: { left: unknown; right: unknown },
      frame: unknown,
    ) {
      this._emit(`runtime.${helper}(`);
      this.compile(node.left, frame);
      this._emit(',');
      this.compile(node.right, frame);
      this._emit(')');
    };
  internals.compiler.Compiler.prototype.compileMod = asCall('pythonModulo');
  internals.compiler.Compiler.prototype.compileMul = asCall('pythonMultiply');
  // `{% for a, b in … %}` sets its variables in the frame under the name `"${symbol}"` (a nunjucks
  // bug): "[object Object]", so an `{% include %}` in the loop could not see them, as Jinja2's does
  internals.nodes.Symbol.prototype.toString = function symbolName(this: { value?: unknown }) {
    return String(this.value);
  };
  // a tuple `(a, b)` as a list (nunjucks compiles it to JavaScript's comma operator: b)
  const groupAsIs = internals.compiler.Compiler.prototype.compileGroup as (...args: unknown[]) => void;
  internals.compiler.Compiler.prototype.compileGroup = function compileGroup(
    this: { _compileAggregate(node: unknown, frame: unknown, start: string, end: string): void },
    node: { children: unknown[] },
    frame: unknown,
  ) {
    if (node.children.length > 1) this._compileAggregate(node, frame, '[', ']');
    else groupAsIs.call(this, node, frame);
  };
  // printed as Python prints them: True, False, None (a strict render prints None, as Jinja does:
  // only an undefined value is an error)
  const suppress = internals.runtime.suppressValue;
  internals.runtime.suppressValue = (value, autoescape) =>
    suppress(typeof value === 'boolean' || value === null ? pythonStr(value) : value, autoescape);
  const ensure = internals.runtime.ensureDefined;
  internals.runtime.ensureDefined = (value, lineno, colno) =>
    value === null ? value : ensure(value, lineno, colno);
  const lookup = internals.runtime.contextOrFrameLookup;
  internals.runtime.contextOrFrameLookup = function contextOrFrameLookup(context, frame, name) {
    const value = lookup.call(this, context, frame, name);
    if (lookups !== undefined) {
      lookups.last = value === undefined ? name : undefined;
      if (value === undefined) lookups.missing.add(name);
    }
    return value;
  };
  engine = { nunjucks, parser: internals.parser, environments: new Map() };
  return engine;
}

/**
 * The strict and lenient environments whose `{% include %}` and `{% import %}` read files from
 * `searchPath` (none: no file can be included), made at first use.
 */
export function environments(searchPath = ''): Environments {
  const { nunjucks, environments: made } = nunjucksEngine();
  let found = made.get(searchPath);
  if (found === undefined) {
    const loader = () =>
      searchPath === '' ? null : new nunjucks.FileSystemLoader(searchPath, { noCache: true });
    const strict = new nunjucks.Environment(loader(), { autoescape: false, throwOnUndefined: true });
    strict.addFilter('shquote', shquote);
    addJinjaFiltersAndTests(strict);
    strictFilters(strict);
    const lenient = new nunjucks.Environment(loader(), { autoescape: false, throwOnUndefined: false });
    lenient.addFilter('shquote', shquote);
    addJinjaFiltersAndTests(lenient);
    lenientFilters(lenient);
    found = { strict, lenient };
    made.set(searchPath, found);
  }
  return found;
}

/**
 * Starts noting the names looked up in vain, for the render that follows (renders are
 * synchronous); `end()` puts back what an outer render was noting (a value may render a template
 * of its own: a Deferred in Variables).
 */
export function noteLookups(): { seen: Lookups; end(): void } {
  const seen: Lookups = { missing: new Set(), last: undefined };
  const outer = lookups;
  lookups = seen;
  return {
    seen,
    end: () => {
      lookups = outer;
    },
  };
}

/** nunjucks' syntax tree of a template. @throws when the template is malformed */
export function parse(template: string): unknown {
  return nunjucksEngine().parser.parse(template, [], {});
}

/** Filters that are meant for missing values. */
export const FOR_MISSING = new Set(['default', 'd']);

/** A filter was given an undefined value (strict rendering). */
export class UndefinedInFilter extends Error {
  readonly filter: string;
  constructor(filter: string) {
    super(`an undefined value reached the filter "${filter}"`);
    this.filter = filter;
  }
}

type Filter = (this: unknown, ...args: unknown[]) => unknown;
type FilterMap = Record<string, Filter>;

/**
 * nunjucks' filters turn `undefined` into '' or 'undefined' (`{{ typo | shquote }}` would run
 * `echo 'undefined'`): in strict rendering, a filter given an undefined value fails, as Jinja's
 * StrictUndefined does; `default` is the exception.
 */
function strictFilters(env: Environment): void {
  const filters = (env as unknown as { filters: FilterMap }).filters;
  for (const [name, filter] of Object.entries(filters)) {
    if (FOR_MISSING.has(name)) continue;
    filters[name] = function strict(this: unknown, ...args: unknown[]) {
      if (args.some((arg) => arg === undefined)) throw new UndefinedInFilter(name);
      return filter.apply(this, args);
    };
  }
}

/**
 * In lenient rendering, a filter given a placeholder gives back the placeholder of the whole
 * expression (`{{ pods | upper }}` stays `{{ pods | upper }}`); `default` and `is defined` see a
 * placeholder as the missing value it stands for.
 */
function lenientFilters(env: Environment): void {
  const filters = (env as unknown as { filters: FilterMap }).filters;
  for (const [name, filter] of Object.entries(filters)) {
    filters[name] = function lenient(this: unknown, ...args: unknown[]) {
      const [value, ...rest] = args;
      if (FOR_MISSING.has(name) && isPlaceholder(value)) return filter.apply(this, [undefined, ...rest]);
      if (!args.some(isPlaceholder)) return filter.apply(this, args);
      const shown = rest.length === 0 ? name : `${name}(${rest.map(expressionText).join(', ')})`;
      return placeholder(`${expressionText(value)} | ${shown}`, false);
    };
  }
  const tests = (env as unknown as { tests: FilterMap }).tests;
  const defined = tests.defined;
  tests.defined = (value: unknown) => !isPlaceholder(value) && defined?.(value) === true;
  tests.undefined = (value: unknown) => isPlaceholder(value) || value === undefined;
}
