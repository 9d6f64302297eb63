/**
 * Requirements: what `required:` and `requires()` accept, flattened to jobs.
 */
import type { AbstractJob } from './abstract-job.js';
import { hasBrand, JOB_BRAND, SCHEDULER_BRAND, SEQUENCE_BRAND } from './brand.js';
import { InvalidOptionError } from './errors.js';
import type { Sequence } from './sequence.js';
import { describeValue } from './validate.js';

/**
 * One job, a {@link Sequence} (meaning its last job, as it is at the time of the call),
 * `null`/`undefined` (ignored), or any nesting of iterables of those.
 */
export type Requirement = AbstractJob | Sequence | null | undefined | Iterable<Requirement>;

/**
 * Calls `visit` on each job named by `requirement`, in order.
 * @throws InvalidOptionError on anything that is not a job, a Sequence, null or an iterable.
 */
export function forEachRequiredJob(
  where: string,
  requirement: Requirement,
  visit: (job: AbstractJob) => void,
): void {
  if (requirement === null || requirement === undefined) return;
  if (hasBrand(requirement, JOB_BRAND)) {
    visit(requirement as AbstractJob);
    return;
  }
  if (hasBrand(requirement, SEQUENCE_BRAND)) {
    const jobs = (requirement as Sequence).jobs;
    const last = jobs[jobs.length - 1];
    if (last !== undefined) visit(last);
    return;
  }
  if (hasBrand(requirement, SCHEDULER_BRAND)) {
    throw new InvalidOptionError(
      `Expected ${where} to be a job, got a PureScheduler: it cannot be nested; use a Scheduler instead`,
    );
  }
  if (typeof requirement === 'object' && Symbol.iterator in requirement) {
    for (const item of requirement as Iterable<Requirement>) forEachRequiredJob(where, item, visit);
    return;
  }
  throw new InvalidOptionError(
    `Expected ${where} to be a job, a Sequence, null, or an iterable of those, got ${describeValue(requirement)}`,
  );
}
