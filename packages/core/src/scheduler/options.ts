/**
 * The options of a scheduler and of its `run()`, and their checks.
 */
import { hasBrand, NESTABLE_BRAND } from '../base/brand.js';
import { InvalidOptionError } from '../base/errors.js';
import {
  checkDuration,
  checkKnownKeys,
  checkNonNegativeInteger,
  checkOptionsObject,
  describeValue,
} from '../base/validate.js';
import { type AbstractJob, jobOptionKeys, labelOf } from '../model/abstract-job.js';
import type { SequenceItem } from '../model/sequence.js';

export const RUN_KEYS = new Set(['signal']);
const SCHEDULER_KEYS = new Set(['jobs', 'jobsWindow', 'timeout', 'shutdownTimeout', 'verbose', 'label']);
const NESTED_SCHEDULER_KEYS = new Set([...SCHEDULER_KEYS, ...jobOptionKeys()]);

/** Options of {@link PureScheduler} and {@link Scheduler}. */
export interface SchedulerOptions {
  /** Jobs (or Sequences of jobs) to add right away. */
  jobs?: Iterable<AbstractJob | SequenceItem>;
  /**
   * Maximum number of finite jobs of this scheduler running at once; 0 or undefined means
   * no limit. A nested scheduler counts as one job of its parent and has its own window.
   * Forever jobs take no slot.
   * @default undefined (no limit)
   */
  jobsWindow?: number;
  /**
   * Wall-clock limit of a whole run, in milliseconds. On expiry running jobs are
   * cancelled, `run()` resolves false (or rejects, for a critical Scheduler).
   * @default undefined (no limit)
   */
  timeout?: number;
  /**
   * Limit, in milliseconds, for the cancelled jobs to settle and for the shutdown phase.
   * @default 1000
   */
  shutdownTimeout?: number;
  /**
   * Print the run's progress (the asynciojobs verbose lines) on standard output.
   * @default false
   */
  verbose?: boolean;
  /** Label of the scheduler, shown in graphs, listings and error messages. */
  label?: string;
}

/** Options of `run()`. */
export interface RunOptions {
  /** Aborting it cancels the run: running jobs are cancelled, and `run()` rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Checks that `options` is an object with only the keys a scheduler of class `target`
 * accepts (a nestable one also takes the job options). @throws InvalidOptionError
 */
export function checkSchedulerOptionKeys(
  target: abstract new (...args: never[]) => unknown,
  options: object,
): void {
  checkOptionsObject('the scheduler options', options);
  checkKnownKeys(
    `a ${target.name}`,
    options,
    hasBrand(target.prototype, NESTABLE_BRAND) ? NESTED_SCHEDULER_KEYS : SCHEDULER_KEYS,
  );
}

/**
 * The options that stay writable after construction (`scheduler.timeout = …`, `job.retries = …`),
 * checked again when a run starts: a `retries` of Infinity ran for good, a `timeout` of NaN said
 * "TIMED OUT after NaN ms", a `jobsWindow` of -1 meant no limit.
 * @throws InvalidOptionError naming the option (and the job)
 */
export function checkWritableOptions(
  scheduler: { readonly jobsWindow: unknown; readonly timeout: unknown; readonly shutdownTimeout: unknown },
  jobs: readonly AbstractJob[],
): void {
  checkNonNegativeInteger('jobsWindow', scheduler.jobsWindow);
  checkDuration('timeout', scheduler.timeout);
  checkDuration('shutdownTimeout', scheduler.shutdownTimeout);
  for (const job of jobs) {
    try {
      checkNonNegativeInteger('retries', job.retries);
      checkDuration('timeout', job.timeout);
    } catch (error) {
      throw new InvalidOptionError(`${(error as Error).message} (job ${JSON.stringify(labelOf(job))})`);
    }
  }
}

/** The `signal` of `run()`'s options. @throws InvalidOptionError when it is no AbortSignal */
export function checkRunSignal(signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(`Expected signal to be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal;
}
