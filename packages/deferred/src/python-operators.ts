/**
 * Jinja2's arithmetic and comparison operators, as Python computes them, for the compiled
 * templates (python-syntax.ts makes nunjucks call them instead of JavaScript's operators):
 *
 * - an undefined operand (a missing variable or attribute) is an error, as with Jinja's
 *   StrictUndefined: JavaScript would give NaN, `undefined1` or false, and a command would run
 *   with it;
 * - a lenient render's placeholder gives the placeholder of the whole expression
 *   (`{{ count * 2 }}`), so that a scenario's pre-render leaves it to the run-time render whole;
 * - lists add up as lists, `==` compares lists and dicts by content, `1 == '1'` is false.
 */
import { expressionText, isPlaceholder, operatorPlaceholder } from './placeholder.js';

/** An operand that is undefined: the render fails (its caller names the missing variable). */
export class UndefinedOperand extends Error {
  readonly operator: string;
  constructor(operator: string) {
    super(`an undefined value used with ${operator}`);
    this.operator = operator;
  }
}

/** Throws {@link UndefinedOperand} when an operand is undefined. */
export function definedOperands(operator: string, ...operands: unknown[]): void {
  if (operands.some((operand) => operand === undefined)) throw new UndefinedOperand(operator);
}

/** The placeholder of `left op right` when either is one, else undefined. */
export function pending(operator: string, left: unknown, right: unknown): unknown {
  if (!isPlaceholder(left) && !isPlaceholder(right)) return undefined;
  return operatorPlaceholder(`${expressionText(left)} ${operator} ${expressionText(right)}`);
}

/** Python's name of a value's type, for messages. */
function typeName(value: unknown): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value === 'object' ? 'dict' : typeof value;
}

/** A number, or a bool (Python's bool is an int). */
export const isNumeric = (value: unknown): value is number | boolean =>
  typeof value === 'number' || typeof value === 'boolean';

/** Python's TypeError: JavaScript would give NaN, a glued string or a number of a list. */
export function unsupported(operator: string, left: unknown, right: unknown): TypeError {
  const text = operator === '+' && (typeof left === 'string' || typeof right === 'string');
  return new TypeError(
    `unsupported operand types for ${operator}: ${typeName(left)} and ${typeName(right)}${text ? ': use ~ to join text' : ''}`,
  );
}

/** `+`: numbers added, strings and lists joined (JavaScript would make "12" of two lists). */
export function pythonAdd(left: unknown, right: unknown): unknown {
  const later = pending('+', left, right);
  if (later !== undefined) return later;
  definedOperands('+', left, right);
  if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
  if (typeof left === 'string' && typeof right === 'string') return left + right;
  if (isNumeric(left) && isNumeric(right)) return Number(left) + Number(right);
  throw unsupported('+', left, right);
}

/** `-`, `/`, `//` and `**` on numbers; a division by zero is an error, as Python's. */
export function pythonArithmetic(operator: '-' | '/' | '//' | '**', left: unknown, right: unknown): unknown {
  const later = pending(operator, left, right);
  if (later !== undefined) return later;
  definedOperands(operator, left, right);
  if (!isNumeric(left) || !isNumeric(right)) throw unsupported(operator, left, right);
  const [a, b] = [Number(left), Number(right)];
  if ((operator === '/' || operator === '//') && b === 0)
    throw new RangeError(`division by zero: ${a} ${operator} 0`);
  if (operator === '**' && a === 0 && b < 0) throw new RangeError(`division by zero: 0 ** ${b}`);
  switch (operator) {
    case '-':
      return a - b;
    case '/':
      return a / b;
    case '//':
      return Math.floor(a / b);
    case '**':
      return a ** b;
  }
}

/** Unary `-` and `+`. */
export function pythonUnary(operator: '-' | '+', value: unknown): unknown {
  if (isPlaceholder(value)) return operatorPlaceholder(`${operator}${expressionText(value)}`);
  definedOperands(operator, value);
  if (!isNumeric(value)) throw new TypeError(`bad operand type for unary ${operator}: ${typeName(value)}`);
  return operator === '-' ? -Number(value) : Number(value);
}

/**
 * A comparison chain `a op1 b op2 c` (operators and operands alternating after the first), as
 * Python reads it: `a op1 b and b op2 c`.
 */
export function pythonCompare(first: unknown, ...chain: unknown[]): unknown {
  let left = first;
  let result: unknown = true;
  let text = expressionText(first);
  let pendingResult = false;
  for (let i = 0; i + 1 < chain.length; i += 2) {
    const operator = String(chain[i]);
    const right = chain[i + 1];
    text += ` ${operator} ${expressionText(right)}`;
    if (isPlaceholder(left) || isPlaceholder(right)) pendingResult = true;
    // as Python's `a < b < c`: the chain stops at the first false
    else if (result === true && !compare(operator, left, right)) result = false;
    left = right;
  }
  if (!pendingResult) return result;
  // In a condition, Jinja's Undefined equals nothing (`x != 1` is true) and cannot be ordered.
  const [operator] = chain;
  const single = chain.length === 2;
  return operatorPlaceholder(
    text,
    single && operator === '==' ? false : single && operator === '!=' ? true : 'unknown',
  );
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  switch (operator) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    default:
      definedOperands(operator, left, right);
      // numbers with numbers, text with text, lists with lists: anything else has no order in Python
      if (
        !(isNumeric(left) && isNumeric(right)) &&
        !(typeof left === 'string' && typeof right === 'string') &&
        !(Array.isArray(left) && Array.isArray(right))
      )
        throw new TypeError(`'${operator}' not supported between ${typeName(left)} and ${typeName(right)}`);
      return ordered(
        operator,
        Array.isArray(left) ? listOrder(left, right as unknown[]) : order(left, right),
      );
  }
}

/** Python's `==`: by content for lists and dicts, no conversion between types (`1 == '1'` is false). */
function equal(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left === 'number' && typeof right === 'boolean') return left === Number(right);
  if (typeof left === 'boolean' && typeof right === 'number') return Number(left) === right;
  if (Array.isArray(left) && Array.isArray(right))
    return left.length === right.length && left.every((item, i) => equal(item, right[i]));
  if (isDict(left) && isDict(right)) {
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every((key) => Object.hasOwn(right, key) && equal(left[key], right[key]))
    );
  }
  return false;
}

/** A dict as templates see one: a plain object, not a lenient render's placeholder. */
export function isDict(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !isPlaceholder(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** -1, 0 or 1: numbers and strings as JavaScript orders them (as Python does for these). */
function order(left: unknown, right: unknown): number {
  const [a, b] = typeof left === 'string' ? [left, right as string] : [Number(left), Number(right)];
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python's order of two lists: item by item, then the shorter first (-1, 0, 1). */
function listOrder(left: unknown[], right: unknown[]): number {
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (equal(left[i], right[i])) continue;
    return compare('<', left[i], right[i]) ? -1 : 1;
  }
  return Math.sign(left.length - right.length);
}

/** Whether `order` (-1, 0, 1) satisfies `operator`. */
function ordered(operator: string, order: number): boolean {
  if (operator === '<') return order < 0;
  if (operator === '>') return order > 0;
  if (operator === '<=') return order <= 0;
  return order >= 0;
}
