/**
 * The shutdown phase of a run (asynciojobs' `co_shutdown`): `shutdown()` of every job that
 * has one, all at once, bounded.
 */
import { settleWithin } from '../base/settle.js';
import type { AbstractJob } from '../model/abstract-job.js';

/**
 * Calls `shutdown()` on each job that overrides it, at once, and waits at most `timeout` ms.
 * A rejection or a synchronous throw of a job's `shutdown()` is ignored.
 * @returns the number of jobs whose `shutdown()` did not settle in time.
 */
export function shutdownJobs(jobs: Iterable<AbstractJob>, timeout: number): Promise<number> {
  const calls: Promise<unknown>[] = [];
  for (const job of jobs) {
    if (!job.hasShutdown) continue;
    try {
      calls.push(job.shutdown().catch(() => undefined));
    } catch {
      // a synchronous throw from a job's shutdown() is ignored like a rejected one
    }
  }
  return settleWithin(calls, timeout);
}
