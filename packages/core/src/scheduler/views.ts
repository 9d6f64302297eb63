/**
 * The views that the package exports as functions, typed with the scheduler users hold
 * (views/ itself takes the `JobGraph` interface, being below the scheduler).
 */
import { type DotOptions, toDot as graphToDot } from '../views/dot.js';
import type { PureScheduler } from './pure-scheduler.js';

/**
 * The graph of a scheduler in DOT (asynciojobs `dot_format`); `scheduler.toDot()` does the same.
 * @throws CycleError on a cyclic graph.
 * @example
 * ```ts
 * await writeFile('graph.dot', toDot(scheduler))
 * ```
 */
export function toDot(scheduler: PureScheduler, options: DotOptions = {}): string {
  return graphToDot(scheduler, options);
}
