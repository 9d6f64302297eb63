/**
 * Recognising nested schedulers, for the modules that walk a graph of schedulers
 * (listing, DOT) without importing the scheduler itself at run time.
 */
import type { AbstractJob } from './abstract-job.js';
import { hasBrand, NESTABLE_BRAND } from './brand.js';
import type { PureScheduler } from './pure-scheduler.js';

/** True for a nested {@link Scheduler} (a job that is also a scheduler). */
export function isNestedScheduler(job: AbstractJob): job is PureScheduler {
  return hasBrand(job, NESTABLE_BRAND);
}
