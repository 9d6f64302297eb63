/**
 * What makes nunjucks read Jinja2's Python: patches of a private nunjucks instance's runtime and
 * compiler (engine.ts loads that instance; no other nunjucks user of the process sees them).
 *
 * - nunjucks' own compat: True/False/None, slices, dict and list methods;
 * - Python's str methods, negative indexes, a string's slice as a string;
 * - `%` (formatting, modulo), `*` (repetition), `~` (str() of each side) and tuples as Python's;
 * - Python's truth in `if`, `not`, `and`, `or`, `x if c else y`: an empty list or dict is false;
 * - printed as Python prints: True, False, None, `[1, 'a']`, `{'k': 1}`;
 * - a `for` loop over an undefined value (or a placeholder) is an error naming it; one loop
 *   variable over a dict goes over its keys;
 * - `{% for a, b %}` loop variables seen by an `{% include %}` (a nunjucks bug);
 * - `__proto__`, `constructor` and `prototype` cannot be reached from a template.
 */
import { expressionText, isPlaceholder, operatorPlaceholder, placeholderMember } from './placeholder.js';
import {
  pythonConcat,
  pythonModulo,
  pythonMultiply,
  pythonRepr,
  pythonStr,
  pythonTruth,
  stringMethod,
} from './python-methods.js';
import { pythonAdd, pythonArithmetic, pythonCompare, pythonUnary } from './python-operators.js';

/** nunjucks' parts that are patched: public in the package, absent from its type definitions. */
export interface NunjucksInternals {
  parser: { parse(src: string, extensions: unknown[], options: object): unknown };
  runtime: Record<string, unknown> & {
    contextOrFrameLookup(context: unknown, frame: unknown, name: string): unknown;
    memberLookup(obj: unknown, name: unknown, ...rest: unknown[]): unknown;
    suppressValue(value: unknown, autoescape: boolean): unknown;
    ensureDefined(value: unknown, lineno: number, colno: number): unknown;
  };
  installJinjaCompat(): void;
  compiler: { Compiler: { prototype: Record<string, unknown> } };
  /** An error as nunjucks reports it: `(path) [Line l, Column c]` before its message. */
  lib: { _prettifyError(path: string, withInternals: boolean, error: unknown): Error };
  nodes: {
    FunCall: NodeClass;
    NodeList: NodeClass;
    Literal: NodeClass;
    Symbol: NodeClass & { prototype: { value?: unknown; toString(): string } };
  };
}

/** A class of nunjucks' syntax tree: `new X(lineno, colno, …fields)`. */
type NodeClass = new (...args: unknown[]) => Record<string, unknown>;

/** A `for` loop met an undefined value where its list should be. */
export class LoopOverUndefined extends Error {
  readonly variable: string;
  readonly line: number;
  readonly column: number;
  /** The included or imported file the loop is in; undefined in the template rendered itself. */
  readonly file: string | undefined;
  constructor(variable: string, line: number, column: number, file: string | undefined) {
    super(`undefined variable "${variable}" in a for loop`);
    this.variable = variable;
    this.line = line;
    this.column = column;
    this.file = file;
  }
}

/** The last {@link LoopOverUndefined} thrown (renders are synchronous): nunjucks wraps errors in its own. */
let lastLoopFailure: LoopOverUndefined | undefined;

/** Takes the loop failure of the render that just failed, if that was the reason. */
export function takeLoopFailure(): LoopOverUndefined | undefined {
  const failure = lastLoopFailure;
  lastLoopFailure = undefined;
  return failure;
}

/** nunjucks' comparison operators as Python's (`===` is nunjucks' own spelling of `==`). */
const COMPARISONS: Record<string, string> = { '==': '==', '===': '==', '!=': '!=', '!==': '!=' };

/** Names a template may not reach: they lead to Object's prototype and constructors. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !isPlaceholder(value);

type CompilerThis = {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
  _compileAggregate(node: unknown, frame: unknown, start: string, end: string): void;
};

/** The global a `for` loop's list goes through (see {@link patchNunjucks}). */
export const LOOP_GLOBAL = '__jobgraph_loop_list';

/**
 * What a loop over an undefined value (or a lenient render's placeholder) does: fail (strict
 * rendering, a scenario's pre-render) or go over nothing (a Deferred shown by `toString()`).
 */
let missingLoopList: 'error' | 'empty' = 'error';

/** Runs `render` with loops over missing values doing `policy`. */
export function withMissingLoopList<T>(policy: 'error' | 'empty', render: () => T): T {
  const outer = missingLoopList;
  missingLoopList = policy;
  try {
    return render();
  } finally {
    missingLoopList = outer;
  }
}

/** The function behind {@link LOOP_GLOBAL}. */
export function loopList(
  value: unknown,
  name: string,
  single: boolean,
  line: number,
  column: number,
  file: string | null,
): unknown {
  if (value === undefined || isPlaceholder(value)) {
    if (missingLoopList === 'empty') return [];
    lastLoopFailure = new LoopOverUndefined(name, line, column, file ?? undefined);
    throw lastLoopFailure;
  }
  return single && isPlainObject(value) ? Object.keys(value) : value;
}

/** Patches `nunjucks` (a private instance) as the module's comment says. */
export function patchNunjucks(nunjucks: NunjucksInternals): void {
  // True/False/None, slices, dict and list methods; installed first: the lookups below must not
  // see True as missing
  nunjucks.installJinjaCompat();
  const { runtime, nodes } = nunjucks;
  const compiler = nunjucks.compiler.Compiler.prototype;

  const member = runtime.memberLookup;
  runtime.memberLookup = function memberLookup(obj, name, ...rest) {
    if (typeof name === 'string' && FORBIDDEN.has(name)) return undefined;
    // what every object inherits (`__defineGetter__`, `toString`) is no attribute of a value
    if (
      typeof name === 'string' &&
      name in Object.prototype &&
      obj !== null &&
      obj !== undefined &&
      !Object.hasOwn(Object(obj), name) &&
      (obj as Record<string, unknown>)[name] ===
        (Object.prototype as unknown as Record<string, unknown>)[name]
    )
      return undefined;
    // nothing to look into: undefined (nunjucks' compat would look into {} instead, and
    // `missing.items()` would be an empty list rather than an error)
    if (obj === undefined || obj === null) return undefined;
    // a placeholder's attribute, item, slice or method is a placeholder (nunjucks' compat would
    // take it for a dict, and its slice loop never ended on a placeholder's length)
    if (isPlaceholder(obj)) return placeholderMember(obj, name, rest);
    // a placeholder held in a list or dict (`[ip, 'b'][0]`, `{'ip': ip}.ip`) is itself: nunjucks
    // wraps a function it finds there in a closure of its own, printed as JavaScript source
    if (rest.length < 2 && obj !== null && typeof obj === 'object') {
      const found = (obj as Record<string | number, unknown>)[name as string | number];
      if (isPlaceholder(found)) return found;
    }
    if (typeof obj === 'string' && rest.length < 2) {
      const method = stringMethod(obj, name);
      if (method !== undefined) return method;
    }
    // `d.get(k)` of the compat layer reads inherited names too (`get('constructor')`)
    if (isPlainObject(obj) && name === 'get' && rest.length < 2)
      return (key: unknown, fallback: unknown = null) =>
        Object.hasOwn(obj, String(key)) ? obj[String(key)] : fallback;
    // a slice of a string is a string (nunjucks' compat gives a list of characters)
    if (typeof obj === 'string' && rest.length === 2)
      return (member.call(this, obj, name, ...rest) as unknown[]).join('');
    // a negative index counts from the end: `hosts[-1]`
    if (
      (Array.isArray(obj) || typeof obj === 'string') &&
      typeof name === 'number' &&
      name < 0 &&
      rest.length < 2
    )
      return member.call(this, obj, obj.length + name, ...rest);
    return member.call(this, obj, name, ...rest);
  };

  // `x in hosts` of a missing name: a placeholder of the test (in a condition, what only the run
  // can decide), not nunjucks' error, which left a whole scenario file unrendered
  const inOperator = runtime.inOperator as (key: unknown, value: unknown) => unknown;
  runtime.inOperator = (key: unknown, value: unknown) =>
    isPlaceholder(key) || isPlaceholder(value)
      ? operatorPlaceholder(`${expressionText(key)} in ${expressionText(value)}`)
      : inOperator(key, value);
  Object.assign(runtime, {
    pythonModulo,
    pythonMultiply,
    pythonConcat,
    pythonTruth,
    pythonAdd,
    pythonArithmetic,
    pythonUnary,
    pythonCompare,
  });
  const asCall = (helper: string) =>
    function compileOperator(this: CompilerThis, node: { left: unknown; right: unknown }, frame: unknown) {
      this._emit(`runtime.${helper}(`);
      this.compile(node.left, frame);
      this._emit(',');
      this.compile(node.right, frame);
      this._emit(')');
    };
  compiler.compileMod = asCall('pythonModulo');
  compiler.compileMul = asCall('pythonMultiply');
  compiler.compileConcat = asCall('pythonConcat');
  compiler.compileAdd = asCall('pythonAdd');
  const arithmetic = (operator: string) =>
    function compileArithmetic(this: CompilerThis, node: { left: unknown; right: unknown }, frame: unknown) {
      this._emit(`runtime.pythonArithmetic(${JSON.stringify(operator)},`);
      this.compile(node.left, frame);
      this._emit(',');
      this.compile(node.right, frame);
      this._emit(')');
    };
  compiler.compileSub = arithmetic('-');
  compiler.compileDiv = arithmetic('/');
  compiler.compileFloorDiv = arithmetic('//');
  compiler.compilePow = arithmetic('**');
  const unary = (operator: string) =>
    function compileUnary(this: CompilerThis, node: { target: unknown }, frame: unknown) {
      this._emit(`runtime.pythonUnary(${JSON.stringify(operator)},`);
      this.compile(node.target, frame);
      this._emit(')');
    };
  compiler.compileNeg = unary('-');
  compiler.compilePos = unary('+');
  compiler.compileCompare = function compileCompare(
    this: CompilerThis,
    node: { expr: unknown; ops: Array<{ type: string; expr: unknown }> },
    frame: unknown,
  ) {
    this._emit('runtime.pythonCompare(');
    this.compile(node.expr, frame);
    for (const op of node.ops) {
      this._emit(`,${JSON.stringify(COMPARISONS[op.type] ?? op.type)},`);
      this.compile(op.expr, frame);
    }
    this._emit(')');
  };

  // Python's truth: `or` gives its left operand when true, `and` when false; else the right one
  const shortCircuit = (keepLeftWhenTrue: boolean) =>
    function compileBoolean(this: CompilerThis, node: { left: unknown; right: unknown }, frame: unknown) {
      this._emit(`(function(l){return ${keepLeftWhenTrue ? '' : '!'}runtime.pythonTruth(l)?l:(`);
      this.compile(node.right, frame);
      this._emit(');})(');
      this.compile(node.left, frame);
      this._emit(')');
    };
  compiler.compileOr = shortCircuit(true);
  compiler.compileAnd = shortCircuit(false);
  compiler.compileNot = function compileNot(this: CompilerThis, node: { target: unknown }, frame: unknown) {
    this._emit('!runtime.pythonTruth(');
    this.compile(node.target, frame);
    this._emit(')');
  };
  const truthOf = (cond: Record<string, unknown>) =>
    new nodes.FunCall(
      cond.lineno,
      cond.colno,
      new nodes.Symbol(cond.lineno, cond.colno, TRUTH_GLOBAL),
      new nodes.NodeList(cond.lineno, cond.colno, [cond]),
    );
  for (const name of ['compileIf', 'compileInlineIf']) {
    const asIs = compiler[name] as (this: unknown, node: Record<string, unknown>, ...rest: unknown[]) => void;
    compiler[name] = function compileCondition(
      this: unknown,
      node: Record<string, unknown>,
      ...rest: unknown[]
    ) {
      if (!node.pythonTruth) {
        node.cond = truthOf(node.cond as Record<string, unknown>);
        node.pythonTruth = true;
      }
      asIs.call(this, node, ...rest);
    };
  }

  // a for loop's list through LOOP_GLOBAL: an undefined one is an error, a dict's keys for one variable
  const forAsIs = compiler.compileFor as (
    this: unknown,
    node: Record<string, unknown>,
    frame: unknown,
  ) => void;
  compiler.compileFor = function compileFor(
    this: { templateName?: string },
    node: Record<string, unknown>,
    frame: unknown,
  ) {
    if (!node.loopList) {
      const list = node.arr as Record<string, unknown>;
      // where the name is, as a reader counts: `nodes` in `nodes.items()`
      const at = rootNode(list) ?? list;
      const [line, column] = [Number(at.lineno) + 1, Number(at.colno) + 1];
      const literal = (value: unknown) => new nodes.Literal(list.lineno, list.colno, value);
      node.arr = new nodes.FunCall(
        list.lineno,
        list.colno,
        new nodes.Symbol(list.lineno, list.colno, LOOP_GLOBAL),
        new nodes.NodeList(list.lineno, list.colno, [
          list,
          literal(rootNode(list)?.value ?? 'the loop list'),
          literal(node.name instanceof nodes.Symbol),
          literal(line),
          literal(column),
          // the file being compiled: an included one has its path as name, the rendered text none
          literal(this.templateName ?? null),
        ]),
      );
      node.loopList = true;
    }
    forAsIs.call(this, node, frame);
  };

  // `{% for a, b in … %}` sets its variables in the frame under the name `"${symbol}"`:
  // "[object Object]", so an `{% include %}` in the loop could not see them
  nodes.Symbol.prototype.toString = function symbolName(this: { value?: unknown }) {
    return String(this.value);
  };
  // a tuple `(a, b)` as a list (nunjucks compiles it to JavaScript's comma operator: b)
  const groupAsIs = compiler.compileGroup as (this: unknown, ...args: unknown[]) => void;
  compiler.compileGroup = function compileGroup(
    this: CompilerThis,
    node: { children: unknown[] },
    frame: unknown,
  ) {
    if (node.children.length > 1) this._compileAggregate(node, frame, '[', ']');
    else groupAsIs.call(this, node, frame);
  };

  // printed as Python prints (a strict render prints None, as Jinja2 does: only an undefined
  // value is an error)
  const suppress = runtime.suppressValue;
  runtime.suppressValue = (value, autoescape) =>
    suppress(
      typeof value === 'boolean' || value === null
        ? pythonStr(value)
        : Array.isArray(value) || isPlainObject(value)
          ? pythonRepr(value)
          : value,
      autoescape,
    );
  const ensure = runtime.ensureDefined;
  runtime.ensureDefined = (value, lineno, colno) => (value === null ? value : ensure(value, lineno, colno));
}

/** The global through which conditions get Python's truth. */
export const TRUTH_GLOBAL = '__jobgraph_truth';

/** The name at the root of an expression (`nodes` in `nodes.items()`), if any: its Symbol node. */
function rootNode(node: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (node === undefined) return undefined;
  if (node.typename === 'Symbol') return node;
  if (node.typename === 'LookupVal') return rootNode(node.target as Record<string, unknown>);
  if (node.typename === 'FunCall') {
    // `range(count)`: the name to blame is the argument's (range is always there)
    const callee = node.name as Record<string, unknown> | undefined;
    if (callee?.typename === 'Symbol' && callee.value === 'range') {
      const args = (node.args as { children?: Record<string, unknown>[] })?.children ?? [];
      for (const arg of args) {
        const root = rootNode(arg);
        if (root !== undefined) return root;
      }
      return callee;
    }
    return rootNode(callee);
  }
  if (node.typename === 'Filter')
    return rootNode((node.args as { children?: Record<string, unknown>[] })?.children?.[0]);
  return undefined;
}
