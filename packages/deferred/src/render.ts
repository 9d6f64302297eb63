/**
 * Jinja-style rendering with nunjucks: the only module that uses it.
 *
 * - autoescape is OFF: templates are shell commands, `&&`, `<` and quotes must pass intact
 *   (nunjucks escapes HTML by default);
 * - strict rendering names the variable that is missing (nunjucks' own error does not);
 * - lenient rendering leaves a missing variable visible as `{{ name }}`, as Jinja's
 *   DebugUndefined does for apssh, so that labels, graphs and dry runs show the template;
 * - a `shquote` filter quotes a value for a POSIX shell.
 *
 * nunjucks (25 modules, ~15–20 ms) is loaded by the first render or parse, not on import: a
 * script that never renders a template does not pay for it. It is CommonJS, so a synchronous
 * `require` loads it, and rendering stays synchronous.
 */
import { createRequire } from 'node:module';
import type Nunjucks from 'nunjucks';
import type { Environment } from 'nunjucks';
import { DeferredError, DeferredErrorCode } from './errors.js';
import { addJinjaFiltersAndTests } from './jinja-filters.js';
import { pythonStr, stringMethod } from './python-methods.js';

/** Single-quotes a value for a POSIX shell: `it's` → `'it'\''s'`. */
export function shquote(value: unknown): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

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
}

/**
 * The names looked up without a value during the render in progress (renders are synchronous).
 * nunjucks copies the context it is given, so a Proxy cannot observe lookups: its runtime's
 * lookup function is wrapped instead. Outside our renders the wrapper only passes through.
 */
let lookups: Lookups | undefined;
interface Lookups {
  /** Every name looked up in vain. */
  readonly missing: Set<string>;
  /** The name of the latest lookup, if it found nothing: what a failing expression used. */
  last: string | undefined;
}

/** What the first render sets up: nunjucks' parser and our two environments. */
interface Engine {
  readonly parser: Internals['parser'];
  /** A missing value throws. */
  readonly strict: Environment;
  /** Missing values are placeholders. */
  readonly lenient: Environment;
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
    return member.call(this, obj, name, ...rest);
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
  const strict = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  strict.addFilter('shquote', shquote);
  addJinjaFiltersAndTests(strict);
  strictFilters(strict);
  const lenient = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  lenient.addFilter('shquote', shquote);
  addJinjaFiltersAndTests(lenient);
  lenientFilters(lenient);
  engine = { parser: internals.parser, strict, lenient };
  return engine;
}

/** nunjucks' syntax tree of a template. @throws when the template is malformed */
function parse(template: string): unknown {
  return nunjucksEngine().parser.parse(template, [], {});
}

/** Filters that are meant for missing values. */
const FOR_MISSING = new Set(['default', 'd']);

/** A filter was given an undefined value (strict rendering). */
class UndefinedInFilter extends Error {
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

/** How a filter argument reads in a placeholder. */
function expressionText(value: unknown): string {
  if (isPlaceholder(value)) return value[PLACEHOLDER];
  return typeof value === 'string' ? `'${value.replace(/'/g, "\\'")}'` : String(value);
}

/**
 * The names a template reads from its context, in order of appearance: loop variables,
 * `set` targets and filter names are not context variables and are left out. (nunjucks
 * copies the context it is given, so a Proxy cannot observe its lookups.)
 */
function contextNames(template: string): string[] {
  const names: string[] = [];
  const local = new Set<string>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const typed = node as { typename?: string; value?: unknown; name?: unknown; targets?: unknown };
    if (typed.typename === 'Symbol' && typeof typed.value === 'string') {
      if (!local.has(typed.value)) names.push(typed.value);
      return;
    }
    if (typed.typename === 'For' || typed.typename === 'AsyncEach' || typed.typename === 'AsyncAll') {
      collectLocal(typed.name, local);
    }
    if (typed.typename === 'Set') collectLocal(typed.targets, local);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'lineno' || key === 'colno' || key === 'typename') continue;
      if (typed.typename === 'Filter' && key === 'name') continue;
      walk(value);
    }
  };
  try {
    walk(parse(template));
  } catch {
    return [];
  }
  return [...new Set(names)];
}

function collectLocal(node: unknown, into: Set<string>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectLocal(item, into);
    return;
  }
  const typed = node as { typename?: string; value?: unknown; children?: unknown };
  if (typed.typename === 'Symbol' && typeof typed.value === 'string') into.add(typed.value);
  else collectLocal(typed.children, into);
}

/**
 * Renders strictly: a missing variable that is printed, filtered or looked into throws
 * `ERR_UNDEFINED_VARIABLE` naming it; a malformed template throws `ERR_TEMPLATE`.
 */
export function renderStrict(template: string, values: Record<string, unknown>): string {
  const seen: Lookups = { missing: new Set(), last: undefined };
  // a value may render a template of its own (a Deferred in Variables): restore, not reset
  const outer = lookups;
  lookups = seen;
  let output: string;
  try {
    output = nunjucksEngine().strict.renderString(template, values);
  } catch (error) {
    throw strictError(template, seen.last, error);
  } finally {
    lookups = outer;
  }
  // Operators are plain JavaScript in nunjucks: `{{ missing + 1 }}` prints NaN, `missing ~ 'x'`
  // prints undefinedx. A missing name used as an operand, with such output, is that mistake;
  // a name that is only tested or given a default is not (whatever the values print).
  if (seen.missing.size > 0 && /NaN|undefined/.test(output) && !/NaN|undefined/.test(template)) {
    const { operands, guarded } = namesByUse(template);
    const missing = [...seen.missing];
    // an operand first; else a name used elsewhere than in a test or a default (`[a, 1] | sum`)
    const culprit = missing.find((name) => operands.has(name)) ?? missing.find((name) => !guarded.has(name));
    if (culprit !== undefined) throw undefinedVariable(template, culprit, undefined);
  }
  return output;
}

/** Operators whose result is NaN or holds `undefined` when an operand is missing. */
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'FloorDiv', 'Mod', 'Pow', 'Neg', 'Pos', 'Concat']);

/**
 * The context names a template uses as operands of arithmetic or `~` (directly, through
 * attributes or parentheses), and those it only tests or defaults: in an `if` condition, before
 * `is`, or given to `default`, a missing name is as Jinja means it.
 */
function namesByUse(template: string): { operands: Set<string>; guarded: Set<string> } {
  const operands = new Set<string>();
  const guarded = new Set<string>();
  type Node = {
    typename?: string;
    value?: unknown;
    target?: unknown;
    left?: unknown;
    right?: unknown;
    children?: unknown[];
    cond?: unknown;
    name?: { value?: unknown };
    args?: { children?: unknown[] };
    expr?: unknown;
    ops?: Array<{ expr?: unknown }>;
  };
  const root = (node: unknown): string | undefined => {
    const typed = node as Node | null;
    if (typed?.typename === 'Symbol' && typeof typed.value === 'string') return typed.value;
    if (typed?.typename === 'LookupVal') return root(typed.target);
    if (typed?.typename === 'Group') return root(typed.children?.[0]);
    return undefined;
  };
  // the names a condition tests: `a`, `not a`, `a and b`, `a is defined`, `a == 1`
  const tested = (node: unknown): void => {
    const typed = node as Node | null;
    const name = root(node);
    if (name !== undefined) guarded.add(name);
    else if (typed?.typename === 'Not') tested(typed.target);
    else if (typed?.typename === 'And' || typed?.typename === 'Or' || typed?.typename === 'Is') {
      tested(typed.left);
      if (typed.typename !== 'Is') tested(typed.right);
    } else if (typed?.typename === 'Compare') {
      tested(typed.expr);
      for (const op of typed.ops ?? []) tested(op.expr);
    }
  };
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const typed = node as Node;
    if (typed.typename !== undefined && ARITHMETIC.has(typed.typename)) {
      for (const operand of [typed.left, typed.right, typed.target]) {
        const name = root(operand);
        if (name !== undefined) operands.add(name);
      }
    }
    if (typed.typename === 'If' || typed.typename === 'InlineIf') tested(typed.cond);
    if (typed.typename === 'Is') tested(typed.left);
    if (typed.typename === 'Filter' && FOR_MISSING.has(String(typed.name?.value))) {
      const name = root(typed.args?.children?.[0]);
      if (name !== undefined) guarded.add(name);
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'lineno' && key !== 'colno') walk(value);
  };
  try {
    walk(parse(template));
  } catch {
    // a template that does not parse has already failed to render
  }
  return { operands, guarded };
}

function strictError(template: string, name: string | undefined, error: unknown): DeferredError {
  const broken = isMalformed(template) || /filter not found/.test(why(error));
  if (!broken && name !== undefined) return undefinedVariable(template, name, error);
  const reason = isOutputOfUndefined(error)
    ? 'an undefined value is printed (an attribute or key that does not exist?)'
    : why(error);
  return new DeferredError(
    DeferredErrorCode.TEMPLATE,
    `Cannot render template ${oneLine(template)}: ${reason}`,
    {
      cause: error,
    },
  );
}

function undefinedVariable(template: string, name: string, cause: unknown): DeferredError {
  return new DeferredError(
    DeferredErrorCode.UNDEFINED_VARIABLE,
    `Undefined variable "${name}" in template: ${oneLine(template)}`,
    { cause, variable: name },
  );
}

function isOutputOfUndefined(error: unknown): boolean {
  return error instanceof Error && /attempted to output null or undefined value/.test(error.message);
}

/** Whether the template does not even parse. */
function isMalformed(template: string): boolean {
  try {
    parse(template);
    return false;
  } catch {
    return true;
  }
}

/**
 * Renders leniently: each missing variable shows as `{{ name }}` (attributes of it as
 * `{{ name.attr }}`, filters of it as `{{ name | upper }}`); a template that cannot render
 * comes back as it is.
 */
export function renderLenient(template: string, values: Record<string, unknown>): string {
  // First as Jinja would: `default` and `is defined` see missing names as undefined.
  try {
    return renderStrict(template, values);
  } catch {
    // some name is missing where it is used: show it as {{ name }}
  }
  const context: Record<string, unknown> = {};
  for (const name of contextNames(template))
    if (values[name] === undefined) context[name] = placeholder(name);
  try {
    return nunjucksEngine().lenient.renderString(template, { ...context, ...values });
  } catch {
    return template;
  }
}

/** The key under which a placeholder tells the expression it stands for. */
const PLACEHOLDER = Symbol('jobgraph.placeholder');

function isPlaceholder(value: unknown): value is { [PLACEHOLDER]: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[PLACEHOLDER] === 'string'
  );
}

/**
 * What a missing variable renders as: its own `{{ name }}`, attributes included (when
 * `attributes`, `{{ pod.name }}`).
 */
function placeholder(path: string, attributes = true): unknown {
  const text = `{{ ${path} }}`;
  return new Proxy(
    {},
    {
      get(_target, name) {
        if (name === PLACEHOLDER) return path;
        if (name === 'toString' || name === 'valueOf') return () => text;
        if (name === Symbol.toPrimitive) return () => text;
        if (typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'length')
          return undefined;
        return attributes ? placeholder(`${path}.${name}`) : undefined;
      },
    },
  );
}

function oneLine(template: string): string {
  const flat = template.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

function why(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Renders any text (a whole scenario file, say) with plain values: `strict` throws
 * `ERR_UNDEFINED_VARIABLE` on a missing name, `lenient` keeps it as `{{ name }}`.
 * @example
 * ```ts
 * renderTemplate('gateway: {{ gateway }}', { gateway: 'faraday' }, 'strict')   // 'gateway: faraday'
 * ```
 */
export function renderTemplate(
  template: string,
  values: Record<string, unknown>,
  mode: 'strict' | 'lenient' = 'strict',
): string {
  return mode === 'strict' ? renderStrict(template, values) : renderLenient(template, values);
}
