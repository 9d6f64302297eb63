/**
 * Scheduler: a scheduler that is also a job, so it can be nested (asynciojobs' `Scheduler`).
 */

import { JOB_BRAND, NESTABLE_BRAND } from '../base/brand.js';
import { isNestedGraph } from '../graph/nesting.js';
import type { AbstractJob, JobContext, JobOptions } from '../model/abstract-job.js';
import type { RunOptions, SchedulerOptions } from './options.js';
import { PureScheduler } from './pure-scheduler.js';

/**
 * A nestable scheduler. As a job of a parent scheduler it runs its own graph with its
 * own window and timeout, and its result is its run's boolean.
 *
 * A **critical** Scheduler (the default) does not resolve false: its `run()` rejects
 * with the failing critical job's error, or with a `RunTimeoutError` (`ERR_RUN_TIMEOUT`)
 * on timeout, which is how failures propagate up through nested schedulers. Pass
 * `critical: false` to get `false` instead.
 *
 * @example
 * ```ts
 * const prepare = new Scheduler({ label: 'prepare nodes', jobsWindow: 10 })
 * for (const node of nodes) prepare.add(new Job(() => setup(node)))
 * const main = new Scheduler({ jobs: [new Sequence([checkLease, prepare, measure])], critical: false })
 * await main.run()
 * ```
 */
export class Scheduler extends PureScheduler {
  constructor(options: SchedulerOptions & JobOptions = {}) {
    super(options);
  }

  /**
   * Runs the nested graph. Resolves true on success; on a critical failure or timeout,
   * rejects if this scheduler is critical, else resolves false.
   */
  override async run(options: RunOptions | JobContext = {}): Promise<boolean> {
    const outcome = await this.runOutcome(options);
    switch (outcome.kind) {
      case 'ok':
        return true;
      case 'aborted':
        throw outcome.reason;
      case 'critical':
        if (this.critical) throw outcome.error;
        return false;
      case 'timeout':
        if (this.critical) throw outcome.error;
        return false;
    }
  }
}
Object.defineProperty(Scheduler.prototype, JOB_BRAND, { value: true, writable: false });
Object.defineProperty(Scheduler.prototype, NESTABLE_BRAND, { value: true, writable: false });

/** True for a nested {@link Scheduler} (a job that is also a scheduler). */
export function isNestedScheduler(job: AbstractJob): job is PureScheduler {
  return isNestedGraph(job);
}
