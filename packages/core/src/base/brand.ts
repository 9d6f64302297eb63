/**
 * Brand symbols: how core recognises its own objects without `instanceof`, which
 * fails when two copies of the package are loaded, and without import cycles
 * between the job, sequence and scheduler modules.
 */
export const JOB_BRAND: unique symbol = Symbol.for('@jobgraph/core.job');
export const SEQUENCE_BRAND: unique symbol = Symbol.for('@jobgraph/core.sequence');
export const SCHEDULER_BRAND: unique symbol = Symbol.for('@jobgraph/core.scheduler');
export const NESTABLE_BRAND: unique symbol = Symbol.for('@jobgraph/core.nestable');

/** Whether `value` carries `brand`; false for anything whose reading throws (a revoked Proxy a job threw). */
export function hasBrand(value: unknown, brand: symbol): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[brand] === true;
  } catch {
    return false;
  }
}
