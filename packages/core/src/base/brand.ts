/**
 * Brand symbols: how core recognises its own objects without `instanceof`, which
 * fails when two copies of the package are loaded, and without import cycles
 * between the job, sequence and scheduler modules.
 */
export const JOB_BRAND: unique symbol = Symbol.for('@jobgraph/core.job');
export const SEQUENCE_BRAND: unique symbol = Symbol.for('@jobgraph/core.sequence');
export const SCHEDULER_BRAND: unique symbol = Symbol.for('@jobgraph/core.scheduler');
export const NESTABLE_BRAND: unique symbol = Symbol.for('@jobgraph/core.nestable');

export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
