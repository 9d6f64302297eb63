/**
 * One run of one scheduler: Kahn's algorithm driven by job completions, with a
 * remaining-requirements counter per job, so a run costs O(V + E) whatever the shape
 * of the graph. (asynciojobs re-scans the requirements of every successor and waits
 * on all pending tasks at each step, which is quadratic on large graphs.)
 */

import { InvalidOptionError, JobCancelledError, RunTimeoutError } from '../base/errors.js';
import { settleWithin } from '../base/settle.js';
import { describeValue } from '../base/validate.js';
import type { GraphIndex } from '../graph/algorithms.js';
import { type AbstractJob, type JobEvent, quotedLabel, type SchedulerEvent } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { runJob } from './attempt.js';
import type { RunOutcome } from './outcome.js';
import { type ContextOwner, RunContext } from './run-context.js';

export interface RunSettings {
  readonly index: GraphIndex;
  /** How messages name the scheduler: `scheduler "main"`, or `the scheduler`. */
  readonly name: string;
  readonly window: number;
  readonly timeout: number | undefined;
  readonly shutdownTimeout: number;
  readonly signal: AbortSignal | undefined;
  /** Publishes an event, or undefined when nobody listens. */
  readonly publish: (event: SchedulerEvent) => void;
  /** True when somebody listens: lets the loop skip building events. */
  readonly publishing: () => boolean;
  /**
   * Announces the run's timeout and abort, when somebody listens: the scheduler turns them
   * into its `run:timeout` and `run:abort` events (it defines them: the loop cannot name it).
   */
  readonly announce: RunAnnouncer;
}

/** What the loop tells its scheduler about the run as a whole. */
export interface RunAnnouncer {
  timeout(timeout: number): void;
  abort(reason: unknown, job: AbstractJob | undefined): void;
}

const NO_PATH: readonly AbstractJob[] = Object.freeze([]);

/**
 * The types of events about a whole run: a job's `ctx.emit()` may not forge them (a `run:done`
 * from a job ended the run in every reader of the log). Job types stay open to jobs, as before.
 */
const RUN_OWN_TYPES: ReadonlySet<string> = new Set([
  'run:start',
  'run:done',
  'run:timeout',
  'run:abort',
  'run:plan',
  'run:resume',
  'listener:error',
]);

/** What a job passes to `ctx.emit()`: an object with a `type` of its own. @throws InvalidOptionError */
function checkJobEvent(event: unknown): void {
  const type = (event as { type?: unknown } | null)?.type;
  if (typeof event !== 'object' || event === null || typeof type !== 'string' || type === '') {
    throw new InvalidOptionError(
      `Expected ctx.emit() to be given an event object with a type, got ${describeValue(event)}`,
    );
  }
  if (RUN_OWN_TYPES.has(type)) {
    throw new InvalidOptionError(
      `ctx.emit() cannot send ${JSON.stringify(type)}: the scheduler sends those itself`,
    );
  }
}

export class RunLoop implements ContextOwner {
  readonly #settings: RunSettings;
  readonly #jobs: readonly AbstractJob[];
  readonly #remaining: Int32Array;
  readonly #contexts: Array<RunContext | undefined>;
  readonly #settled: Array<Promise<void> | undefined>;
  readonly #waiting: number[] = [];
  #waitingHead = 0;
  /** Finite jobs running: what the window limits. */
  #running = 0;
  #finiteLeft = 0;
  #outcome: RunOutcome | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve!: (outcome: RunOutcome) => void;
  /** The run has ended: events its jobs emit now are dropped. */
  #over = false;
  readonly #onAbort = () => this.#finish({ kind: 'aborted', reason: this.#settings.signal?.reason });

  constructor(settings: RunSettings) {
    this.#settings = settings;
    this.#jobs = settings.index.jobs;
    this.#remaining = settings.index.indegree.slice();
    this.#contexts = new Array(this.#jobs.length);
    this.#settled = new Array(this.#jobs.length);
  }

  /** Runs the graph; resolves once every started job has settled (or its bound expired). */
  execute(): Promise<RunOutcome> {
    const done = new Promise<RunOutcome>((resolve) => {
      this.#resolve = resolve;
    });
    const { signal, timeout } = this.#settings;
    const jobs = this.#jobs;
    for (const job of jobs) if (!job.forever) this.#finiteLeft++;
    if (this.#finiteLeft === 0) {
      // Nothing to wait for: forever jobs alone would never let the run end.
      this.#finish({ kind: 'ok' });
      return done;
    }
    if (timeout !== undefined) {
      const expire = () => {
        const error = new RunTimeoutError(this.#settings.name, timeout);
        if (this.#settings.publishing()) this.#settings.announce.timeout(timeout);
        this.#finish({ kind: 'timeout', error });
      };
      // A limit of 0 ms expires before any job starts (asynciojobs' timeout=0 gives False too): a
      // timer of 0 would fire only after synchronous jobs had all succeeded.
      if (timeout <= 0) {
        expire();
        return done;
      }
      this.#timer = setTimeout(expire, timeout);
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    for (let i = 0; i < jobs.length && this.#outcome === undefined; i++) {
      if (this.#remaining[i] === 0) this.#makeReady(i);
    }
    return done;
  }

  #publish(event: SchedulerEvent): void {
    this.#settings.publish(event);
  }

  /**
   * A job's own event (`ctx.emit()`) gets its `job`, `time` and `path`. The scheduler's events
   * are built whole where they happen instead: a spread of payloads of many shapes is slow,
   * and a logged 10,000-job run has 20,000 of them (bench/event-log.mjs).
   */
  #jobEvent(job: AbstractJob, event: JobEvent): void {
    // JobEvent is exactly EventMap minus those fields, which the compiler cannot see through the spread
    this.#publish({ ...event, job, time: Date.now(), path: NO_PATH } as SchedulerEvent);
  }

  // ---- ContextOwner: what the contexts of running jobs report

  get shutdownTimeout(): number {
    return this.#settings.shutdownTimeout;
  }

  jobEvent(index: number, event: JobEvent): void {
    checkJobEvent(event);
    // once the run is over (a job that ignored its cancel emits later), its events are no
    // part of it, nor of the next run of the scheduler
    if (this.#over) return;
    if (this.#settings.publishing()) this.#jobEvent(this.#jobs[index] as AbstractJob, event);
  }

  forwardEvent(index: number, event: SchedulerEvent): void {
    // a nested run that outlived this one's end (its jobs ignored the cancel) is no part of the next run
    if (this.#over) return;
    this.#publish({ ...event, path: [this.#jobs[index] as AbstractJob, ...event.path] });
  }

  retrying(index: number, attempt: number, error: unknown): void {
    if (!this.#settings.publishing()) return;
    const job = this.#jobs[index] as AbstractJob;
    this.#publish({ type: 'job:retry', attempt, error, job, time: Date.now(), path: NO_PATH });
    this.#publish({ type: 'job:start', attempt, job, time: Date.now(), path: NO_PATH });
  }

  #makeReady(i: number): void {
    const window = this.#settings.window;
    const job = this.#jobs[i] as AbstractJob;
    // Forever jobs take no slot: one that held a slot for good could starve the finite
    // jobs (with a window of 1, asynciojobs then hangs).
    if (window > 0 && !job.forever && this.#running >= window) {
      job[kState].lifecycle = 'scheduled';
      this.#waiting.push(i);
      if (this.#settings.publishing())
        this.#publish({ type: 'job:scheduled', job, time: Date.now(), path: NO_PATH });
      return;
    }
    this.#start(i);
  }

  #start(i: number): void {
    const job = this.#jobs[i] as AbstractJob;
    const state = job[kState];
    state.lifecycle = 'running';
    state.started = true;
    state.run = this;
    if (!job.forever) this.#running++;
    const ctx = new RunContext(this, i);
    this.#contexts[i] = ctx;
    if (this.#settings.publishing())
      this.#publish({ type: 'job:start', attempt: 1, job, time: Date.now(), path: NO_PATH });
    this.#settled[i] = runJob(job, ctx).then(
      (result) => this.#onSettled(i, false, result),
      (error: unknown) => this.#onSettled(i, true, error),
    );
  }

  #onSettled(i: number, failed: boolean, value: unknown): void {
    const job = this.#jobs[i] as AbstractJob;
    const state = job[kState];
    this.#contexts[i] = undefined;
    // cancelled meanwhile, or a late outcome of an earlier run: discarded
    if (state.run !== this || state.lifecycle !== 'running') return;
    state.lifecycle = 'done';
    if (!job.forever) this.#running--;
    if (failed) {
      state.failed = true;
      state.error = value;
      if (this.#settings.publishing()) {
        const critical = job.critical;
        this.#publish({ type: 'job:failed', error: value, critical, job, time: Date.now(), path: NO_PATH });
      }
      if (job.critical) {
        this.#finish({ kind: 'critical', job, error: value });
        return;
      }
    } else {
      state.result = value;
      if (this.#settings.publishing())
        this.#publish({ type: 'job:done', result: value, job, time: Date.now(), path: NO_PATH });
    }
    if (this.#outcome !== undefined) return;
    // The window slot a finite job frees goes to the oldest waiting job.
    if (!job.forever && this.#waitingHead < this.#waiting.length) {
      this.#start(this.#waiting[this.#waitingHead++] as number);
    }
    const { successorStart, successors } = this.#settings.index;
    for (let e = successorStart[i] as number, end = successorStart[i + 1] as number; e < end; e++) {
      const s = successors[e] as number;
      const left = (this.#remaining[s] as number) - 1;
      this.#remaining[s] = left;
      if (left === 0) this.#makeReady(s);
    }
    if (!job.forever && --this.#finiteLeft === 0) this.#finish({ kind: 'ok' });
  }

  /** Ends the run once: cancels what still runs, waits for it (bounded), then resolves. */
  #finish(outcome: RunOutcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    clearTimeout(this.#timer);
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    if (outcome.kind !== 'ok' && this.#settings.publishing()) {
      const reason = outcome.kind === 'aborted' ? outcome.reason : outcome.error;
      this.#settings.announce.abort(reason, outcome.kind === 'critical' ? outcome.job : undefined);
    }
    const reason = this.#cancelReason(outcome);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < this.#jobs.length; i++) {
      const job = this.#jobs[i] as AbstractJob;
      const state = job[kState];
      if (state.lifecycle === 'scheduled') state.lifecycle = 'idle';
      if (state.lifecycle !== 'running') continue;
      state.lifecycle = 'cancelled';
      this.#contexts[i]?.cancel(reason);
      if (this.#settings.publishing())
        this.#publish({ type: 'job:cancelled', reason, job, time: Date.now(), path: NO_PATH });
      const settled = this.#settled[i];
      if (settled !== undefined) pending.push(settled);
    }
    this.#running = 0;
    void settleWithin(pending, this.#settings.shutdownTimeout).then(() => {
      this.#over = true;
      this.#resolve(outcome);
    });
  }

  #cancelReason(outcome: RunOutcome): unknown {
    const name = this.#settings.name;
    switch (outcome.kind) {
      case 'ok':
        return new JobCancelledError(`Forever job stopped: every finite job of ${name} is done`);
      case 'critical':
        return new JobCancelledError(
          `Job cancelled: critical job ${quotedLabel(outcome.job)} of ${name} failed`,
          { cause: outcome.error },
        );
      case 'timeout':
        return outcome.error;
      case 'aborted':
        return outcome.reason;
    }
  }
}
