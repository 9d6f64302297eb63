/**
 * Job: a job made from a function (asynciojobs' `Job`, which wraps a coroutine).
 */

import { InvalidOptionError } from '../base/errors.js';
import { checkKnownKeys, checkOptionsObject, describeValue } from '../base/validate.js';
import { AbstractJob, type JobContext, type JobOptions, jobOptionKeys } from './abstract-job.js';

const JOB_KEYS = jobOptionKeys('shutdown');

/** The work of a {@link Job}: called once per attempt, with the job's context. */
export type JobFunction<T> = (ctx: JobContext) => Promise<T> | T;

/** Options of {@link Job}: the {@link JobOptions} plus a shutdown function. */
export interface JobFunctionOptions extends JobOptions {
  /** Called by the scheduler's shutdown at the end of each run. */
  shutdown?: () => Promise<void> | void;
}

/**
 * A job that calls a function. Unlike asynciojobs (which takes an already-created
 * coroutine), it holds the function, so a Job can run again.
 *
 * @example
 * ```ts
 * const fetchLease = new Job(async ({ signal }) => checkLease({ signal }), { label: 'check lease' })
 * ```
 */
export class Job<T = unknown> extends AbstractJob<T> {
  readonly fn: JobFunction<T>;
  readonly #shutdown: (() => Promise<void> | void) | undefined;

  constructor(fn: JobFunction<T>, options: JobFunctionOptions = {}) {
    if (typeof fn !== 'function') {
      throw new InvalidOptionError(
        `Expected the first argument of Job to be a function, got ${describeValue(fn)}`,
      );
    }
    checkOptionsObject('the job options', options);
    checkKnownKeys('a Job', options, JOB_KEYS);
    // checked before super(), which adds the job to its scheduler: a job refused is in none
    if (options.shutdown !== undefined && typeof options.shutdown !== 'function') {
      throw new InvalidOptionError(
        `Expected shutdown to be a function, got ${describeValue(options.shutdown)}`,
      );
    }
    super(options);
    this.fn = fn;
    this.#shutdown = options.shutdown;
  }

  // Not `async`: returning the function's own promise saves two promises and three
  // microtask turns per job, which shows on runs of 100,000 jobs.
  override run(ctx: JobContext): Promise<T> {
    try {
      return Promise.resolve(this.fn(ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  override async shutdown(): Promise<void> {
    await this.#shutdown?.();
  }

  /** True when a shutdown function was given, or a subclass overrides `shutdown()`. */
  override get hasShutdown(): boolean {
    return this.#shutdown !== undefined || this.shutdown !== Job.prototype.shutdown;
  }

  /** `Job[name]` from the function's name, or `Job` for an anonymous function. */
  override textLabel(): string {
    return this.fn.name ? `Job[${this.fn.name}]` : 'Job';
  }
}
