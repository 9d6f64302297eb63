/**
 * Durations in scenario files: `"500ms"`, `"30s"`, `"2m"`, `"1h"`, `"1.5s"`, or a number of milliseconds.
 */

import { MAX_DURATION } from '@jobgraph/core';
import { quoted } from './quoted.js';

/** The longest duration a timer can wait (2^31 - 1 ms, about 596 h): Node.js fires longer ones at once. */
export const LONGEST_MS = MAX_DURATION;

/** A duration string: a non-negative number followed by `ms`, `s`, `m` or `h`. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Whether `text` is a duration string that {@link parseDuration} accepts. */
export function isDurationString(text: string): boolean {
  return DURATION_PATTERN.test(text.trim());
}

/**
 * Milliseconds in a duration: a number is taken as milliseconds, a string needs a unit.
 *
 * @example
 * ```ts
 * parseDuration('30s')   // 30000
 * parseDuration('500ms') // 500
 * parseDuration(1500)    // 1500
 * ```
 * @throws RangeError when the text is not a duration or the number is negative or not finite.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Expected a duration in milliseconds (a number >= 0), got ${value}`);
    }
    return value;
  }
  const match = DURATION_PATTERN.exec(value.trim());
  const unit = match?.[2];
  if (match === null || unit === undefined) {
    throw new RangeError(`Expected a duration like "30s", "500ms", "2m" or "1h", got ${quoted(value)}`);
  }
  return Math.round(Number(match[1]) * (UNIT_MS[unit] ?? 1));
}
