/**
 * Jinja2 rendering (the engine: engine.ts, nunjucks made to read Jinja2):
 *
 * - autoescape is OFF: templates are shell commands, `&&`, `<` and quotes must pass intact
 *   (nunjucks escapes HTML by default);
 * - strict rendering names the variable that is missing (nunjucks' own error does not);
 * - lenient rendering leaves a missing variable visible as `{{ name }}`, as Jinja's
 *   DebugUndefined does for apssh, so that labels, graphs and dry runs show the template;
 * - a `shquote` filter quotes a value for a POSIX shell;
 * - `{% include %}` reads files from the search path a caller gives (a scenario's directory).
 */
import { environments, FOR_MISSING, type Lookups, noteLookups, parse } from './engine.js';
import { DeferredError, DeferredErrorCode } from './errors.js';
import { withInOperator } from './in-operator.js';
import { isPlaceholder, placeholder } from './placeholder.js';
import { lastUndecided, UndecidableCondition, withUndecidedConditions } from './python-methods.js';
import { type LoopOverUndefined, takeLoopFailure, withMissingLoopList } from './python-syntax.js';
import { explainTemplateError, includedTemplate, templateErrorPosition } from './template-errors.js';

export { shquote } from './shquote.js';

/**
 * Calls `visit` on every node of a syntax tree, parents first (positions and type names are
 * not nodes); `visit` returning false skips the node's children.
 */
function eachNode(node: unknown, visit: (node: Record<string, unknown>) => boolean | undefined): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) eachNode(item, visit);
    return;
  }
  if (visit(node as Record<string, unknown>) === false) return;
  for (const [key, value] of Object.entries(node))
    if (key !== 'lineno' && key !== 'colno') eachNode(value, visit);
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

/** The names a template reads from its values (not its loop variables and `set` targets); none if it does not parse. */
export function usedNames(template: string): string[] {
  return contextNames(withInOperator(template));
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
export function renderStrict(source: string, values: Record<string, unknown>, searchPath = ''): string {
  const template = withInOperator(source);
  const { seen, end } = noteLookups();
  let output: string;
  try {
    output = withMissingLoopList('error', () =>
      environments(searchPath).strict.renderString(template, copyOf(values)),
    );
  } catch (error) {
    throw strictError(template, culpritOf(template, seen), error);
  } finally {
    end();
  }
  // The operators fail on a missing operand (python-operators.ts), but a missing name can still
  // reach the output through what computes on it inside (`[missing, 1] | sum` prints NaN): a
  // missing name with such output is that mistake; one that is only tested (`if`, `==`, `is`)
  // or given a default is not (whatever the values print).
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
  const visit = (node: Record<string, unknown>): undefined => {
    const typed = node as Node;
    if (typed.typename !== undefined && ARITHMETIC.has(typed.typename)) {
      for (const operand of [typed.left, typed.right, typed.target]) {
        const name = root(operand);
        if (name !== undefined) operands.add(name);
      }
    }
    if (typed.typename === 'If' || typed.typename === 'InlineIf') tested(typed.cond);
    // `zz == 1` of a missing zz is false, as Jinja's Undefined compares, wherever it is
    if (typed.typename === 'Compare') tested(typed);
    if (typed.typename === 'Is') tested(typed.left);
    if (typed.typename === 'Filter' && FOR_MISSING.has(String(typed.name?.value))) {
      const name = root(typed.args?.children?.[0]);
      if (name !== undefined) guarded.add(name);
    }
    return undefined;
  };
  try {
    eachNode(parse(template), visit);
  } catch {
    // a template that does not parse has already failed to render
  }
  return { operands, guarded };
}

/**
 * The missing name to blame: the last one looked up in vain, unless that is a name the template
 * set itself (`{% set q = zz %}{{ q }}`): then the missing one it was set from, as Jinja names it.
 */
function culpritOf(template: string, seen: Lookups): string | undefined {
  const last = seen.last;
  if (last === undefined) return undefined;
  const fromValues = new Set(contextNames(template));
  if (fromValues.has(last)) return last;
  return [...seen.missing].find((name) => name !== last && fromValues.has(name)) ?? last;
}

function strictError(template: string, name: string | undefined, error: unknown): DeferredError {
  // a for loop over an undefined value (python-syntax.ts): the variable and where the loop is
  const loop = takeLoopFailure();
  if (loop !== undefined) return loopError(template, loop, error);
  const broken = isMalformed(template) || /filter not found/.test(why(error));
  if (!broken && name !== undefined) return undefinedVariable(template, name, error);
  const reason = isOutputOfUndefined(error)
    ? 'an undefined value is printed (an attribute or key that does not exist?)'
    : explainTemplateError(why(error), template);
  // nunjucks' position, as a reader counts (it is there for most errors)
  const at = templateErrorPosition(why(error));
  const file = includedTemplate(why(error));
  const where = `${file === undefined ? '' : ` in ${file}`}${at === undefined ? '' : ` at line ${at.line}, column ${at.column}`}`;
  return new DeferredError(
    DeferredErrorCode.TEMPLATE,
    `Cannot render template ${oneLine(template)}${where}: ${reason}`,
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

/**
 * Why `template` does not parse (one line, with its line and column), or undefined when it does:
 * a check before run time of what will be rendered then (a scenario's commands).
 * @example `templateSyntaxError("echo '{{.Names}}'")   // 'line 1, column 9: unexpected token: .'`
 */
export function templateSyntaxError(template: string): string | undefined {
  const source = withInOperator(template);
  try {
    const tree = parse(source);
    // a filter that does not exist fails only when rendered: found now too
    const filters = (environments().strict as unknown as { filters: Record<string, unknown> }).filters;
    let unknown: { name: string; line: number; column: number } | undefined;
    eachNode(tree, (node) => {
      const name = (node.name as { value?: unknown } | undefined)?.value;
      if (
        unknown === undefined &&
        (node.typename === 'Filter' || node.typename === 'FilterAsync') &&
        typeof name === 'string' &&
        !Object.hasOwn(filters, name)
      )
        unknown = { name, line: Number(node.lineno) + 1, column: Number(node.colno) + 1 };
      return undefined;
    });
    return unknown === undefined
      ? undefined
      : `line ${unknown.line}, column ${unknown.column}: filter not found: ${unknown.name}`;
  } catch (error) {
    // the parser's own error holds its position (1-based), not in its message
    const { lineno, colno } = error as { lineno?: unknown; colno?: unknown };
    const reason = explainTemplateError(why(error), source);
    return typeof lineno === 'number' && typeof colno === 'number'
      ? `line ${lineno}, column ${colno}: ${reason}`
      : reason;
  }
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
export function renderLenient(
  template: string,
  values: Record<string, unknown>,
  searchPath = '',
  missingLoops: 'error' | 'empty' = 'empty',
): string {
  // First as Jinja would: `default` and `is defined` see missing names as undefined.
  try {
    return renderStrict(template, values, searchPath);
  } catch {
    // some name is missing where it is used: show it as {{ name }}
  }
  const source = withInOperator(template);
  const context: Record<string, unknown> = {};
  for (const name of contextNames(source)) if (values[name] === undefined) context[name] = placeholder(name);
  let undecided: UndecidableCondition | undefined;
  try {
    return withUndecidedConditions(missingLoops === 'error' ? 'error' : 'false', () =>
      withMissingLoopList(missingLoops, () =>
        environments(searchPath).lenient.renderString(source, { ...context, ...copyOf(values) }),
      ),
    );
  } catch (error) {
    const loop = takeLoopFailure();
    // a loop cannot be shown as a placeholder: with 'error', the caller wants to know
    if (loop !== undefined) throw loopError(template, loop, error);
    // nor a branch taken on a value not known yet (nunjucks wraps the error: found by its message)
    if (missingLoops === 'error') undecided = undecidedIn(error);
    if (undecided === undefined) return template;
  }
  const missing = Object.keys(context);
  const variable = missing.find((name) => new RegExp(`(^|[^\\w.])${name}\\b`).test(undecided.expression));
  const position = variable === undefined ? undefined : conditionPosition(template, variable);
  throw new DeferredError(
    DeferredErrorCode.UNDEFINED_VARIABLE,
    `Cannot decide the condition ${undecided.expression} of template ${oneLine(template)}${position === undefined ? '' : ` at line ${position.line}, column ${position.column}`}: ${variable === undefined ? 'it uses a value' : `"${variable}" has`} no value yet (a value known only when the run gets there cannot choose what the scenario holds)`,
    {
      cause: undecided,
      ...(variable === undefined ? {} : { variable }),
      ...(position === undefined ? {} : { position }),
    },
  );
}

/**
 * Where the condition that names `variable` is, 1-based (its `if`): of the `{% if %}`/`{% elif %}`
 * conditions that name it, the first that orders or computes with it (what cannot be decided),
 * else the first; from the syntax tree, so that comments and raw blocks are not read.
 */
function conditionPosition(template: string, variable: string): { line: number; column: number } | undefined {
  type Node = Record<string, unknown> & { typename?: string; lineno?: number; colno?: number };
  const conditions: Array<{ node: Node; decisive: boolean }> = [];
  const uses = (node: unknown, test: (n: Node) => boolean): boolean => {
    let found = false;
    eachNode(node, (n) => {
      if (test(n as Node)) found = true;
      return !found;
    });
    return found;
  };
  const names = (n: Node) => n.typename === 'Symbol' && n.value === variable;
  const computes = (n: Node) =>
    (n.typename !== undefined && ARITHMETIC.has(n.typename)) ||
    (n.typename === 'Compare' &&
      ((n.ops as Array<{ type?: string }> | undefined) ?? []).some(
        (op) => !['==', '!=', '===', '!=='].includes(String(op.type)),
      ));
  try {
    eachNode(parse(withInOperator(template)), (node) => {
      const typed = node as Node;
      if ((typed.typename === 'If' || typed.typename === 'IfAsync') && uses(typed.cond, names))
        conditions.push({ node: typed, decisive: uses(typed.cond, computes) });
      return undefined;
    });
  } catch {
    return undefined;
  }
  const chosen = conditions.find((c) => c.decisive) ?? conditions[0];
  if (chosen === undefined) return undefined;
  return { line: Number(chosen.node.lineno) + 1, column: Number(chosen.node.colno) + 1 };
}

/** The condition that could not be decided, if that is why the render failed. */
function undecidedIn(error: unknown): UndecidableCondition | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause)
    if (cause instanceof UndecidableCondition) return cause;
  return lastUndecided();
}

/** The error of a `for` loop over an undefined value: the variable, and where the loop is. */
function loopError(template: string, loop: LoopOverUndefined, cause: unknown): DeferredError {
  const where = loop.file === undefined ? 'of template' : `of ${loop.file}, included by template`;
  const position = {
    line: loop.line,
    column: loop.column,
    ...(loop.file === undefined ? {} : { file: loop.file }),
  };
  return new DeferredError(
    DeferredErrorCode.UNDEFINED_VARIABLE,
    `Undefined variable "${loop.variable}" in a for loop at line ${loop.line}, column ${loop.column} ${where}: ${oneLine(template)}`,
    { cause, variable: loop.variable, position },
  );
}

/**
 * The values a render is given: lists and plain objects copied (as deep as they go), so that a
 * template calling `hosts.append(…)` changes neither the caller's values nor the next render's.
 */
function copyOf<T>(value: T, copies = new Map<unknown, unknown>()): T {
  // a list or dict inside itself is copied as one inside itself (it overflowed the stack)
  const made = copies.get(value);
  if (made !== undefined) return made as T;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(copyOf(item, copies));
    return copy as T;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    !isPlaceholder(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const copy: Record<string, unknown> = {};
    copies.set(value, copy);
    for (const [key, item] of Object.entries(value)) copy[key] = copyOf(item, copies);
    return copy as T;
  }
  return value;
}

function oneLine(template: string): string {
  const flat = template.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

function why(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
}

/** Options of {@link renderTemplate}. */
export interface RenderOptions {
  /**
   * In a lenient render, a `for` loop over a name without a value: `'empty'` goes over nothing,
   * `'error'` throws `ERR_UNDEFINED_VARIABLE` with the loop's `position` (a scenario's pre-render:
   * a loop cannot wait for run time). A strict render always throws. @default 'empty'
   */
  readonly missingLoops?: 'error' | 'empty';
  /** Where `{% include 'x' %}` and `{% import 'x' as m %}` find `x`: a scenario's directory. @default none (no file can be included) */
  readonly searchPath?: string;
}

/**
 * Renders any text (a whole scenario file, say) with plain values, as Jinja2 does (see the
 * compatibility table in the package's README): `strict` throws `ERR_UNDEFINED_VARIABLE` on a
 * missing name, `lenient` keeps it as `{{ name }}`.
 * @example
 * ```ts
 * renderTemplate('gateway: {{ gateway }}', { gateway: 'faraday' }, 'strict')   // 'gateway: faraday'
 * renderTemplate("{{ nodes.values() | join(' ') }}", { nodes: { a: 'fit01', b: 'fit02' } })   // 'fit01 fit02'
 * ```
 */
export function renderTemplate(
  template: string,
  values: Record<string, unknown>,
  mode: 'strict' | 'lenient' = 'strict',
  options: RenderOptions = {},
): string {
  if (typeof template !== 'string')
    throw new DeferredError(
      DeferredErrorCode.INVALID_OPTION,
      `Expected a template to be a string, got ${typeof template}`,
    );
  if (mode !== 'strict' && mode !== 'lenient')
    throw new DeferredError(
      DeferredErrorCode.INVALID_OPTION,
      `Expected the mode of renderTemplate to be 'strict' or 'lenient', got ${JSON.stringify(mode)}`,
    );
  if (typeof values !== 'object' || values === null)
    throw new DeferredError(
      DeferredErrorCode.INVALID_OPTION,
      `Expected the values of renderTemplate to be an object of names and values, got ${values === null ? 'null' : typeof values}`,
    );
  const searchPath = options.searchPath ?? '';
  return mode === 'strict'
    ? renderStrict(template, values, searchPath)
    : renderLenient(template, values, searchPath, options.missingLoops);
}
