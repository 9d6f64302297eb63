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

/** `+`: numbers added, strings and lists joined (JavaScript would make "12" of two lists). */
export function pythonAdd(left: unknown, right: unknown): unknown {
  const later = pending('+', left, right);
  if (later !== undefined) return later;
  definedOperands('+', left, right);
  if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
  if (typeof left === 'string' || typeof right === 'string') {
    if (typeof left !== typeof right)
      throw new TypeError(
        `cannot add ${expressionText(left)} and ${expressionText(right)} with +: use ~ to join text`,
      );
    return `${left as string}${right as string}`;
  }
  return Number(left) + Number(right);
}

/** `-`, `/`, `//` and `**` on numbers. */
export function pythonArithmetic(operator: '-' | '/' | '//' | '**', left: unknown, right: unknown): unknown {
  const later = pending(operator, left, right);
  if (later !== undefined) return later;
  definedOperands(operator, left, right);
  const [a, b] = [Number(left), Number(right)];
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
    else if (!compare(operator, left, right)) result = false;
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
      switch (operator) {
        case '<':
          return (left as number) < (right as number);
        case '>':
          return (left as number) > (right as number);
        case '<=':
          return (left as number) <= (right as number);
        default:
          return (left as number) >= (right as number);
      }
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

function isDict(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !isPlaceholder(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}
