/**
 * Hand-written checks for the few numeric and boolean options of core
 * (core has no runtime dependency, so no zod here). Each message names the option,
 * what was expected, and what was received, on one line.
 */
import { InvalidOptionError } from './errors.js';

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}" (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** `undefined`, or an integer ≥ 0. */
export function checkNonNegativeInteger(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(`Expected ${name} to be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_DURATION = 2_147_483_647;

/** `undefined`, or a number of milliseconds from 0 to {@link MAX_DURATION}. */
export function checkDuration(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION) {
    throw new InvalidOptionError(
      `Expected ${name} to be a number of milliseconds from 0 to ${MAX_DURATION}, got ${describe(value)}`,
    );
  }
  return value;
}

/** `undefined`, or an object with an `add()` method (a scheduler). */
export function checkContainer(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || typeof (value as { add?: unknown }).add !== 'function') {
    throw new InvalidOptionError(
      `Expected ${name} to be a Scheduler or PureScheduler, got ${describe(value)}`,
    );
  }
}

/** Rejects keys of `options` that are not in `known` (a typo must not be silently ignored). */
export function checkKnownKeys(where: string, options: object, known: ReadonlySet<string>): void {
  if (Object.getPrototypeOf(options) !== Object.prototype) return;
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new InvalidOptionError(
        `Unknown option "${key}" for ${where}; expected one of: ${[...known].join(', ')}`,
      );
    }
  }
}

/** `undefined`, or a boolean. */
export function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(`Expected ${name} to be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** `undefined`, or a string. */
export function checkString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new InvalidOptionError(`Expected ${name} to be a string, got ${describe(value)}`);
  }
  return value;
}

/** An options argument must be undefined or a plain object. */
export function checkOptionsObject(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`Expected ${name} to be an options object, got ${describe(value)}`);
  }
}

export { describe as describeValue };
