/**
 * Requirements: what `required:` and `requires()` accept, flattened to jobs.
 *
 * Written for any kind of job `J` so that this module sits below `abstract-job.ts`
 * (which defines `Requirement` as `RequirementOf<AbstractJob>`): jobs are recognised by
 * their brand, never by their class.
 */
import { hasBrand, JOB_BRAND, SCHEDULER_BRAND, SEQUENCE_BRAND } from '../base/brand.js';
import { InvalidOptionError } from '../base/errors.js';
import { describeValue } from '../base/validate.js';

/** What a requirement sees of a `Sequence`: its jobs, of which the last one is required. */
export interface ChainOf<J> {
  readonly [SEQUENCE_BRAND]: boolean;
  readonly jobs: readonly J[];
}

/**
 * One job, a Sequence (meaning its last job, as it is at the time of the call),
 * `null`/`undefined` (ignored), or any nesting of iterables of those.
 */
export type RequirementOf<J> = J | ChainOf<J> | null | undefined | Iterable<RequirementOf<J>>;

/**
 * Calls `visit` on each job named by `requirement`, in order.
 * @throws InvalidOptionError on anything that is not a job, a Sequence, null or an iterable.
 */
export function forEachRequiredJob<J>(
  where: string,
  requirement: RequirementOf<J>,
  visit: (job: J) => void,
): void {
  if (requirement === null || requirement === undefined) return;
  if (hasBrand(requirement, JOB_BRAND)) {
    visit(requirement as J);
    return;
  }
  if (hasBrand(requirement, SEQUENCE_BRAND)) {
    const jobs = (requirement as ChainOf<J>).jobs;
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
    for (const item of requirement as Iterable<RequirementOf<J>>) forEachRequiredJob(where, item, visit);
    return;
  }
  throw new InvalidOptionError(
    `Expected ${where} to be a job, a Sequence, null, or an iterable of those, got ${describeValue(requirement)}`,
  );
}
