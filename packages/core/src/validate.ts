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

/** `undefined`, or a finite number of milliseconds ≥ 0. */
export function checkDuration(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(
      `Expected ${name} to be a non-negative number of milliseconds, got ${describe(value)}`,
    );
  }
  return value;
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
