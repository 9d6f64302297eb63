/**
 * The template engine: a private nunjucks, loaded by the first render or parse (25 modules,
 * ~15–20 ms: a script that never renders a template does not pay for it), made to read Jinja2
 * by python-syntax.ts (its runtime and compiler patched) and jinja-filters.ts (Jinja2's filters
 * and tests); and its environments — strict (a missing value throws) and lenient (missing values
 * are placeholders) — per search path of `{% include %}`.
 */

import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import type Nunjucks from 'nunjucks';
import type { Environment } from 'nunjucks';
import { withInOperator } from './in-operator.js';
import { addJinjaFiltersAndTests } from './jinja-filters.js';
import { expressionText, isPlaceholder, placeholder } from './placeholder.js';
import { pythonTruth } from './python-methods.js';
import {
  LOOP_GLOBAL,
  loopList,
  type NunjucksInternals,
  patchNunjucks,
  TRUTH_GLOBAL,
} from './python-syntax.js';
import { shquote } from './shquote.js';

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
  readonly parser: NunjucksInternals['parser'];
  /** By search path of `{% include %}` ('' for none). */
  readonly environments: Map<string, Environments>;
}
let engine: Engine | undefined;

/**
 * A nunjucks of our own: the patches of python-syntax.ts change its runtime and compiler, which
 * are shared by every user of one loaded copy. Loaded with nunjucks' modules out of Node's
 * require cache, then put back as they were: a script's own `require('nunjucks')`, before or
 * after, gets the copy it would have had, unpatched.
 */
function privateNunjucks(): typeof Nunjucks {
  const require = createRequire(import.meta.url);
  const home = dirname(require.resolve('nunjucks/package.json'));
  const inHome = (key: string) => key.startsWith(`${home}${sep}`);
  const theirs = Object.entries(require.cache).filter(([key]) => inHome(key));
  for (const [key] of theirs) delete require.cache[key];
  const ours = require('nunjucks') as typeof Nunjucks;
  for (const key of Object.keys(require.cache)) if (inHome(key)) delete require.cache[key];
  for (const [key, module] of theirs) require.cache[key] = module;
  return ours;
}

/** Loads nunjucks and sets up the environments, on the first call. */
function nunjucksEngine(): Engine {
  if (engine !== undefined) return engine;
  const nunjucks = privateNunjucks();
  const internals = nunjucks as unknown as NunjucksInternals;
  patchNunjucks(internals);
  const lookup = internals.runtime.contextOrFrameLookup;
  internals.runtime.contextOrFrameLookup = function contextOrFrameLookup(context, frame, name) {
    // The context and frames are plain objects: a bare `constructor` or `toString` would find
    // Object's, and `constructor` leads to Function, i.e. any JavaScript. What Object.prototype
    // holds is no variable.
    const found = lookup.call(this, context, frame, name);
    const value = inheritedFromObject(name, found) ? undefined : found;
    if (lookups !== undefined) {
      lookups.last = value === undefined ? name : undefined;
      if (value === undefined) lookups.missing.add(name);
    }
    return value;
  };
  limitIncludeDepth(nunjucks);
  engine = { nunjucks, parser: internals.parser, environments: new Map() };
  return engine;
}

/** Whether `value`, found under `name`, is only what every object inherits (`constructor`, `toString`, `__proto__`). */
function inheritedFromObject(name: string, value: unknown): boolean {
  // `__proto__` is an accessor: what it gives is the object's prototype, not Object.prototype's own value
  if (name === '__proto__') return true;
  return name in Object.prototype && value === (Object.prototype as unknown as Record<string, unknown>)[name];
}

/** The deepest `{% include %}`s may nest: deeper, a file includes itself, directly or not. */
export const MAX_INCLUDE_DEPTH = 100;

/**
 * Makes a template that includes itself (directly or through others) fail at once, naming the
 * file: nunjucks would go on until the stack overflows, seconds later. The nesting is read from the
 * frame an included template is rendered in: each template's render makes one top-level frame,
 * below the one of the template that includes it.
 */
function limitIncludeDepth(nunjucks: typeof Nunjucks): void {
  type Frame = { parent?: Frame | null; topLevel?: boolean };
  const template = nunjucks.Template.prototype as unknown as {
    render(this: { path?: string }, context: unknown, parentFrame?: unknown, ...rest: unknown[]): unknown;
  };
  const render = template.render;
  template.render = function limitedRender(context, parentFrame, ...rest) {
    let depth = 0;
    if (typeof parentFrame === 'object' && parentFrame !== null) {
      for (let frame: Frame | null | undefined = parentFrame as Frame; frame; frame = frame.parent)
        if (frame.topLevel === true) depth++;
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new Error(
        `templates included ${MAX_INCLUDE_DEPTH} deep: does ${this.path ?? 'a template'} include itself?`,
      );
    }
    return render.call(this, context, parentFrame, ...rest);
  };
}

/**
 * The strict and lenient environments whose `{% include %}` and `{% import %}` read files from
 * `searchPath` (none: no file can be included), made at first use.
 */
export function environments(searchPath = ''): Environments {
  const { nunjucks, environments: made } = nunjucksEngine();
  let found = made.get(searchPath);
  if (found === undefined) {
    // the same engine twice, but for what a missing value does
    const make = (throwOnUndefined: boolean, modeFilters: (env: Environment) => void) => {
      const loader = searchPath === '' ? null : rewritingLoader(nunjucks, searchPath);
      const env = new nunjucks.Environment(loader, { autoescape: false, throwOnUndefined });
      env.addGlobal(LOOP_GLOBAL, loopList);
      env.addGlobal(TRUTH_GLOBAL, pythonTruth);
      env.addFilter('shquote', shquote);
      addJinjaFiltersAndTests(env);
      modeFilters(env);
      return env;
    };
    found = { strict: make(true, strictFilters), lenient: make(false, lenientFilters) };
    made.set(searchPath, found);
  }
  return found;
}

/**
 * A loader of the files under `searchPath` (read anew at each render) that rewrites each file's
 * `x is in y` as the template's own (in-operator.ts), and parses it at once: nunjucks reports a
 * syntax error of an included file only after a synchronous render has returned (null), by an
 * exception in a later tick that nothing can catch. Thrown from here, the error is the render's,
 * naming the file and the line as nunjucks names them for the template itself.
 */
function rewritingLoader(nunjucks: typeof Nunjucks, searchPath: string): Nunjucks.FileSystemLoader {
  const internals = nunjucks as unknown as NunjucksInternals;
  const loader = new nunjucks.FileSystemLoader(searchPath, { noCache: true });
  const read = loader.getSource.bind(loader);
  loader.getSource = (name: string) => {
    checkIncluded(resolve(searchPath, name), name);
    const source = read(name);
    if (source === null || source === undefined) return source;
    source.src = withInOperator(source.src);
    try {
      internals.parser.parse(source.src, [], {});
    } catch (error) {
      throw internals.lib._prettifyError(source.path, false, error);
    }
    return source;
  };
  return loader;
}

/** The largest file a template may include or import (as a scenario file itself: 16 MiB). */
const MAX_INCLUDED_BYTES = 16 * 1024 * 1024;

/**
 * Refuses an included file that is no regular file or too large, before nunjucks reads it whole:
 * a link to /dev/zero read until the memory ran out (5.9 GB in 20 s).
 * @throws Error naming the file and what was expected
 */
function checkIncluded(path: string, name: string): void {
  let entry: ReturnType<typeof statSync> | undefined;
  try {
    entry = statSync(path);
  } catch {
    return; // missing: nunjucks says so, as it does
  }
  if (!entry.isFile())
    throw new Error(`template ${JSON.stringify(name)} is not a regular file (expected a file of text)`);
  if (entry.size > MAX_INCLUDED_BYTES)
    throw new Error(
      `template ${JSON.stringify(name)} is ${entry.size} bytes: at most ${MAX_INCLUDED_BYTES} are read`,
    );
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

/** Whether a filter's argument is a placeholder, or a list or dict that holds one (`[x, 1] | max`). */
function holdsPlaceholder(value: unknown): boolean {
  if (isPlaceholder(value)) return true;
  if (Array.isArray(value)) return value.some(isPlaceholder);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.values(value).some(isPlaceholder);
  return false;
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
  // `range(count)` of a missing count went over nothing, silently
  const globals = (env as unknown as { globals: Record<string, unknown> }).globals;
  const range = globals.range as (...args: unknown[]) => unknown;
  env.addGlobal('range', (...args: unknown[]) => {
    if (args.some((arg) => arg === undefined)) throw new UndefinedInFilter('range');
    return range(...args);
  });
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
      if (!args.some(holdsPlaceholder)) return filter.apply(this, args);
      const shown = rest.length === 0 ? name : `${name}(${rest.map(expressionText).join(', ')})`;
      return placeholder(`${expressionText(value)} | ${shown}`, false);
    };
  }
  // `range(count)` of a missing count: the placeholder of the call, so that a loop over it does
  // what a loop over a missing list does (an error in a scenario's pre-render), not go over nothing
  const globals = (env as unknown as { globals: Record<string, unknown> }).globals;
  const range = globals.range as (...args: unknown[]) => unknown;
  env.addGlobal('range', (...args: unknown[]) =>
    args.some(isPlaceholder)
      ? placeholder(`range(${args.map(expressionText).join(', ')})`, false)
      : range(...args),
  );
  const tests = (env as unknown as { tests: FilterMap }).tests;
  const defined = tests.defined;
  tests.defined = (value: unknown) => !isPlaceholder(value) && defined?.(value) === true;
  tests.undefined = (value: unknown) => isPlaceholder(value) || value === undefined;
}
