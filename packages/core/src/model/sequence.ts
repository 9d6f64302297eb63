/**
 * Sequence: a helper that chains jobs, each requiring the previous one. Not a job.
 */

import { hasBrand, JOB_BRAND, SCHEDULER_BRAND, SEQUENCE_BRAND } from '../base/brand.js';
import { InvalidOptionError } from '../base/errors.js';
import { checkContainer, checkKnownKeys, checkOptionsObject, describeValue } from '../base/validate.js';
import type { AbstractJob, JobContainer, Requirement } from './abstract-job.js';

const SEQUENCE_KEYS = new Set(['required', 'scheduler']);

/** What a Sequence is made of: jobs, other Sequences (spliced in), or null/undefined (skipped). */
export type SequenceItem = AbstractJob | Sequence | null | undefined;

/** Options of {@link Sequence}. */
export interface SequenceOptions {
  /** Requirements of the first job. */
  required?: Requirement;
  /** If set, every job of the sequence (and every one appended later) is added to it. */
  scheduler?: JobContainer;
}

/**
 * A chain of jobs: each job requires the previous one. Used as a requirement, a
 * Sequence means its last job at the time of the call.
 *
 * @example
 * ```ts
 * new Sequence([prepare, measure, collect], { required: checkLease, scheduler })
 * ```
 */
export class Sequence {
  declare readonly [SEQUENCE_BRAND]: boolean;
  /** The jobs, in order. */
  readonly jobs: AbstractJob[] = [];
  readonly #scheduler: JobContainer | undefined;

  constructor(items: readonly SequenceItem[] = [], options: SequenceOptions = {}) {
    if (!Array.isArray(items)) {
      throw new InvalidOptionError(
        `Expected the items of a Sequence to be an array of jobs or Sequences, got ${describeValue(items)}`,
      );
    }
    checkOptionsObject('the Sequence options', options);
    checkKnownKeys('a Sequence', options, SEQUENCE_KEYS);
    checkContainer('scheduler', options.scheduler);
    this.#scheduler = options.scheduler;
    this.append(...items);
    if (options.required !== undefined) this.requires(options.required);
  }

  /** Appends jobs: the first new one requires the current last job. */
  append(...items: SequenceItem[]): this {
    for (const job of flattenItems(items)) {
      const previous = this.jobs[this.jobs.length - 1];
      if (previous !== undefined) job.requires(previous);
      this.jobs.push(job);
      this.#scheduler?.add(job);
    }
    return this;
  }

  /** Adds requirements to the first job (nothing if the sequence is empty). */
  requires(...requirements: Requirement[]): this {
    this.jobs[0]?.requires(...requirements);
    return this;
  }
}
Object.defineProperty(Sequence.prototype, SEQUENCE_BRAND, { value: true, writable: false });

/** The jobs of a list of items, Sequences spliced in, null/undefined skipped. */
export function* flattenItems(items: Iterable<SequenceItem>): Generator<AbstractJob> {
  for (const item of items) {
    if (item === null || item === undefined) continue;
    if (hasBrand(item, JOB_BRAND)) yield item as AbstractJob;
    else if (hasBrand(item, SEQUENCE_BRAND)) yield* (item as Sequence).jobs;
    else if (hasBrand(item, SCHEDULER_BRAND)) {
      throw new InvalidOptionError(
        'Expected a job or a Sequence, got a PureScheduler: use a Scheduler to nest',
      );
    } else {
      throw new InvalidOptionError(
        `Expected a job, a Sequence, null or undefined, got ${describeValue(item)}`,
      );
    }
  }
}
