/**
 * Shared helpers of the @jobgraph/core tests: the jobs and graph builders of the
 * asynciojobs test suite (tests/util.py), re-expressed in milliseconds, plus tools
 * to drive runs under fake timers without asserting wall-clock durations.
 *
 * Every sleeping helper uses the exported `sleep(ms, signal)`, which runs on the
 * global timers: under `vi.useFakeTimers()` a test decides when time passes.
 *
 * Stable API (other test files import it): SleepJob, TickJob, Counter, CounterJob,
 * sleeper, failer, BoomError, deferred, track, drive, diamond, diamondIn,
 * diamondFromJobs, pipes, ConcurrencyProbe.
 */
import { vi } from 'vitest';
import {
  AbstractJob,
  Job,
  type JobContext,
  type JobOptions,
  type PureScheduler,
  Scheduler,
  type SchedulerOptions,
  Sequence,
  sleep,
} from '../src/index.js';

// ------------------------------------------------------------------------ jobs

/**
 * asynciojobs' `SleepJob` / `SLJ`: sleeps `ms` (honouring its signal) and returns `ms`.
 * Critical and finite by default; text label `Sleep for <ms> ms`.
 */
export class SleepJob extends AbstractJob<number> {
  readonly ms: number;

  constructor(ms: number, options?: JobOptions) {
    super(options);
    this.ms = ms;
  }

  override async run({ signal }: JobContext): Promise<number> {
    await sleep(this.ms, signal);
    return this.ms;
  }

  override textLabel(): string {
    return `Sleep for ${this.ms} ms`;
  }
}

/**
 * asynciojobs' `TickJob` / `TJ`: a forever job that ticks every `period` ms until its
 * signal aborts (it then rejects with the signal's reason). `ticks` counts the ticks of
 * the current run. Graph label `Cyclic tick every <period> ms`.
 */
export class TickJob extends AbstractJob<never> {
  readonly period: number;
  ticks = 0;

  constructor(period: number, options?: Omit<JobOptions, 'forever'>) {
    super({ ...options, forever: true });
    this.period = period;
  }

  override async run({ signal }: JobContext): Promise<never> {
    this.ticks = 0;
    for (;;) {
      await sleep(this.period, signal);
      this.ticks++;
    }
  }

  override graphLabel(): string {
    return `Cyclic tick every ${this.period} ms`;
  }
}

/** A shared counter (asynciojobs' `CounterScheduler.counter`). */
export class Counter {
  value = 0;
}

/**
 * asynciojobs' `CounterJob` (test_shutdown): `run()` sleeps `delay` ms then increments
 * the counter; `shutdown()` does nothing unless the job is done, else sleeps
 * `shutdownDelay` ms then decrements it. After a run whose shutdown completed in time,
 * the counter is back to 0; each shutdown that did not return in time leaves 1.
 */
export class CounterJob extends AbstractJob<void> {
  readonly counter: Counter;
  readonly delay: number;
  readonly shutdownDelay: number;

  constructor(counter: Counter, delay: number, shutdownDelay = 0, options?: JobOptions) {
    super(options);
    this.counter = counter;
    this.delay = delay;
    this.shutdownDelay = shutdownDelay;
  }

  override async run({ signal }: JobContext): Promise<void> {
    await sleep(this.delay, signal);
    this.counter.value++;
  }

  override async shutdown(): Promise<void> {
    if (!this.isDone()) return;
    if (this.shutdownDelay > 0) await sleep(this.shutdownDelay);
    this.counter.value--;
  }

  override textLabel(): string {
    return `Counter ${this.delay} ms`;
  }
}

/** The error that {@link failer} jobs throw. */
export class BoomError extends Error {
  override name = 'BoomError';
}

/** A job function that sleeps `ms` (honouring its signal) and returns `ms` (asynciojobs `sl(n)`). */
export function sleeper(ms: number): (ctx: JobContext) => Promise<number> {
  return async ({ signal }) => {
    await sleep(ms, signal);
    return ms;
  };
}

/** A job function that sleeps `ms`, then throws a {@link BoomError} (asynciojobs `co_exception`). */
export function failer(ms: number, message = `boom after ${ms} ms`): (ctx: JobContext) => Promise<never> {
  return async ({ signal }) => {
    await sleep(ms, signal);
    throw new BoomError(message);
  };
}

/**
 * Counts how many of its jobs run at once (to check `jobsWindow` without timing).
 * `job(ms)` makes a Job that sleeps `ms` inside the probe.
 */
export class ConcurrencyProbe {
  current = 0;
  max = 0;
  started = 0;

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.current++;
    this.started++;
    this.max = Math.max(this.max, this.current);
    try {
      return await work();
    } finally {
      this.current--;
    }
  }

  job(ms: number, options?: JobOptions): Job<number> {
    return new Job(
      ({ signal }) =>
        this.around(async () => {
          await sleep(ms, signal);
          return ms;
        }),
      options,
    );
  }
}

// ------------------------------------------------------------------- promises

/** A promise with its resolve / reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether a promise has settled yet, without awaiting it (its rejection counts as handled). */
export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}

/**
 * Under fake timers: fires the pending timers one at a time, in time order, until
 * `promise` settles, then returns it (so `await drive(p)` resolves or rejects like p).
 * It stops at the first timer after which the promise has settled, so timers due
 * later (e.g. a shutdown that overran `shutdownTimeout`) have not fired yet.
 * @throws if no timer is left while the promise is still pending, or after `maxTimers`.
 */
export async function drive<T>(promise: Promise<T>, maxTimers = 100_000): Promise<T> {
  const tracked = track(promise);
  for (let fired = 0; ; fired++) {
    // lets the promise chains that the last timer started run to their end
    await vi.advanceTimersByTimeAsync(0);
    if (tracked.settled) return promise;
    if (fired >= maxTimers) throw new Error(`drive(): still pending after ${maxTimers} timers`);
    if (vi.getTimerCount() === 0) throw new Error('drive(): still pending, and no timer is left to fire');
    await vi.advanceTimersToNextTimerAsync();
  }
}

// -------------------------------------------------------------- graph builders

/**
 * Fills `scheduler` with a diamond lasting `ms` in all (asynciojobs `diamond_scheduler`):
 * `top ${msg}1` (ms/4) → `left ${msg}2` and `right ${msg}3` (ms/2 each) → `bottom ${msg}4` (ms/4).
 * The jobs are SleepJobs, added in that order. Returns the scheduler.
 */
export function diamondIn<S extends PureScheduler>(scheduler: S, ms: number, msg: string): S {
  const top = new SleepJob(ms / 4, { label: `top ${msg}1`, scheduler });
  const left = new SleepJob(ms / 2, { label: `left ${msg}2`, required: top, scheduler });
  const right = new SleepJob(ms / 2, { label: `right ${msg}3`, required: top, scheduler });
  new SleepJob(ms / 4, { label: `bottom ${msg}4`, required: [left, right], scheduler });
  return scheduler;
}

/** A nested {@link Scheduler} holding a diamond of `ms` (see {@link diamondIn}). */
export function diamond(ms: number, msg: string, options?: SchedulerOptions & JobOptions): Scheduler {
  return diamondIn(new Scheduler(options), ms, msg);
}

/**
 * asynciojobs `diamond_from_jobs`: a Scheduler holding j1 → {j2, j3} → j4
 * (the requirements are added to the given jobs).
 */
export function diamondFromJobs(
  j1: AbstractJob,
  j2: AbstractJob,
  j3: AbstractJob,
  j4: AbstractJob,
  options?: SchedulerOptions & JobOptions,
): Scheduler {
  j2.requires(j1);
  j3.requires(j1);
  j4.requires(j2, j3);
  const scheduler = new Scheduler(options);
  scheduler.update([j1, j2, j3, j4]);
  return scheduler;
}

/**
 * asynciojobs `pipes`: a Scheduler holding `nbPipes` independent chains
 * `top${i} ${msg}` → `bot${i} ${msg}` (i from 1) of SleepJobs of ms/2 each.
 */
export function pipes(
  ms: number,
  msg: string,
  nbPipes = 2,
  options?: SchedulerOptions & JobOptions,
): Scheduler {
  const scheduler = new Scheduler(options);
  for (let i = 1; i <= nbPipes; i++) {
    new Sequence(
      [new SleepJob(ms / 2, { label: `top${i} ${msg}` }), new SleepJob(ms / 2, { label: `bot${i} ${msg}` })],
      { scheduler },
    );
  }
  return scheduler;
}

/** A job that sleeps `ms`, labelled `label` (asynciojobs `J(sl(ms), label=...)`). */
export const sl = (ms: number, label?: string): Job<number> =>
  new Job(sleeper(ms), label === undefined ? {} : { label });

/** Runs `scheduler` under fake timers; resolves with its result and the fake time it took. */
export async function timedRun(scheduler: PureScheduler): Promise<{ ok: boolean; elapsed: number }> {
  const start = Date.now();
  const ok = await drive(scheduler.run());
  return { ok, elapsed: Date.now() - start };
}
