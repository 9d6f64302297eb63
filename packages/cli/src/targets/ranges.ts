/**
 * Host ranges in a target: `fit[01-37]`, `fit[1,3,5-7]` (pdsh style) and `node{1..4}`,
 * `{amf,upf}` (shell brace style), expanded before the target is parsed. Several groups in one
 * target give every combination, in order.
 */
import { TargetError } from './errors.js';

/** More hosts than this from one target is a mistake (`fit[1-1000000]`), not an experiment. */
export const MAX_EXPANSION = 10_000;

/** A `[…]` group without a colon is a range (`[::1]` is an IPv6 address). */
const BRACKET = /\[([^\]:]*)\]/;
/** `{1..4}` or `{a,b}`: a sequence or a list. */
const BRACE = /\{([^{}]*)\}/;

/** `1` → ['1'], `01-03` → ['01', '02', '03'] (zero-padded to the width of the first bound). */
function numericItem(item: string, token: string): string[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(item.trim());
  if (match === null) {
    throw new TargetError(token, `the range item "${item}" is not a number or low-high`);
  }
  const [, low = '', high] = match;
  if (high === undefined) return [low];
  const from = Number(low);
  const to = Number(high);
  if (to < from) throw new TargetError(token, `the range ${low}-${high} goes down: expected low-high`);
  if (to - from + 1 > MAX_EXPANSION) {
    throw new TargetError(token, `the range ${low}-${high} has more than ${MAX_EXPANSION} hosts`);
  }
  const width = low.length;
  return Array.from({ length: to - from + 1 }, (_, index) => String(from + index).padStart(width, '0'));
}

/** The values of a `[…]` group. */
function bracketValues(body: string, token: string): string[] {
  return body.split(',').flatMap((item) => numericItem(item, token));
}

/** The values of a `{…}` group: `a..b` (numbers, padded like the widest bound with a leading 0) or `x,y`. */
function braceValues(body: string, token: string): string[] {
  const sequence = /^(\d+)\.\.(\d+)$/.exec(body);
  if (sequence !== null) {
    const [, low = '', high = ''] = sequence;
    const padded = (low.length > 1 && low.startsWith('0')) || (high.length > 1 && high.startsWith('0'));
    return numericItem(`${low}-${high}`, token).map((value) =>
      padded ? value.padStart(Math.max(low.length, high.length), '0') : String(Number(value)),
    );
  }
  if (body.includes(',')) {
    const items = body.split(',');
    if (items.some((item) => item === ''))
      throw new TargetError(token, `the list {${body}} has an empty item`);
    return items;
  }
  throw new TargetError(token, `{${body}} is neither a sequence {1..4} nor a list {a,b}`);
}

/**
 * Every host name a target stands for, ranges expanded.
 * @example expandRanges('fit[01-03]') → ['fit01', 'fit02', 'fit03']
 * @throws TargetError for a malformed or too large range
 */
export function expandRanges(token: string): string[] {
  const results: string[] = [];
  const expand = (text: string): void => {
    const bracket = BRACKET.exec(text);
    const brace = BRACE.exec(text);
    // the leftmost group first, so that combinations come out in reading order
    const useBracket = bracket !== null && (brace === null || bracket.index <= brace.index);
    const match = useBracket ? bracket : brace;
    if (match === null) {
      if (results.length >= MAX_EXPANSION) {
        throw new TargetError(token, `the ranges give more than ${MAX_EXPANSION} hosts`);
      }
      results.push(text);
      return;
    }
    const [whole, body = ''] = match;
    const values = useBracket ? bracketValues(body, token) : braceValues(body, token);
    for (const value of values) {
      expand(text.slice(0, match.index) + value + text.slice(match.index + whole.length));
    }
  };
  expand(token);
  return results;
}

/** Whether a target holds a range group (`[1-3]`, `{1..3}`, `{a,b}`). */
export function hasRange(token: string): boolean {
  return BRACKET.test(token) || BRACE.test(token);
}
