/**
 * Automatic shutdown at the end of every run (asynciojobs tests/test_shutdown.py):
 * CounterJobs count up when they run and down when they are shut down, so the counter
 * left after a run is the number of shutdowns that did not return in time. Time is fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Job, type JobFunction, PureScheduler, Scheduler, Sequence } from '../src/index.js';
import { BoomError, Counter, CounterJob, drive, failer, SleepJob, sleeper } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Four CounterJobs of `delays` in a Sequence. */
const counterSequence = (counter: Counter, delays: number[], shutdownDelay = 0) =>
  new Sequence(delays.map((delay) => new CounterJob(counter, delay, shutdownDelay)));

/** The counter's value when `scheduler` itself starts shutting down (events of nested ones ignored). */
function counterAtShutdown(scheduler: PureScheduler, counter: Counter): { value: number | undefined } {
  const seen: { value: number | undefined } = { value: undefined };
  scheduler.on('shutdown:start', (event) => {
    if (event.scheduler === scheduler) seen.value = counter.value;
  });
  return seen;
}

describe('shutdown runs at the end of every run', () => {
  it('brings the counter back to 0 after a complete run', async () => {
    const counter = new Counter();
    const scheduler = new Scheduler({
      critical: false,
      jobs: [counterSequence(counter, [100, 200, 300, 400])],
    });
    const before = counterAtShutdown(scheduler, counter);
    expect(await drive(scheduler.run())).toBe(true);
    expect(before.value).toBe(4);
    expect(counter.value).toBe(0);
  });

  it('brings the counter back to 0 after a run that timed out, shutting down only the done jobs', async () => {
    const counter = new Counter();
    const jobs = counterSequence(counter, [100, 200, 300, 400]);
    const scheduler = new Scheduler({ critical: false, timeout: 500, jobs: [jobs] });
    const before = counterAtShutdown(scheduler, counter);
    expect(await drive(scheduler.run())).toBe(false);
    expect(jobs.jobs.map((job) => job.state)).toEqual(['done', 'done', 'cancelled', 'idle']);
    expect(before.value).toBe(2);
    expect(counter.value).toBe(0);
  });

  it('shuts down the jobs of each nested scheduler when that scheduler ends', async () => {
    const counter = new Counter();
    const subs = counterSubSchedulers(counter);
    const top = new Scheduler({ critical: false, label: 'OUT', jobs: [new Sequence(subs)] });
    const atSubStart: number[] = [];
    top.on('job:start', (event) => {
      if (event.path.length === 0) atSubStart.push(counter.value);
    });
    expect(await drive(top.run())).toBe(true);
    // each sub-scheduler found its predecessor's jobs already shut down
    expect(atSubStart).toEqual([0, 0, 0]);
    expect(counter.value).toBe(0);
  });

  it('shuts down the done jobs of a nested scheduler interrupted by the parent timeout', async () => {
    const counter = new Counter();
    const subs = counterSubSchedulers(counter);
    const top = new Scheduler({ critical: false, timeout: 500, label: 'OUT', jobs: [new Sequence(subs)] });
    expect(await drive(top.run())).toBe(false);
    const sub1 = subs[1] as Scheduler;
    // sub1 started at 300 ms: its 100 ms job is done, its 200 ms job was cancelled
    expect([...sub1].map((job) => job.state)).toEqual(['done', 'cancelled', 'idle']);
    expect(subs[2]?.isIdle()).toBe(true);
    expect(counter.value).toBe(0);
  });

  it('calls shutdown() on every job, including those that never started', async () => {
    const calls: string[] = [];
    const job = (label: string, fn: JobFunction<unknown>, required?: Job) =>
      new Job(fn, {
        label,
        shutdown: () => {
          calls.push(label);
        },
        ...(required === undefined ? {} : { required }),
      });
    const boom = job('boom', failer(100));
    const never = job('never', async () => 'never', boom);
    const cancelled = job('cancelled', sleeper(1000));
    const scheduler = new PureScheduler({ jobs: [boom, never, cancelled] });
    expect(await drive(scheduler.run())).toBe(false);
    expect(boom.raisedException()).toBeInstanceOf(BoomError);
    expect(cancelled.isCancelled()).toBe(true);
    expect(never.isIdle()).toBe(true);
    expect(calls.sort()).toEqual(['boom', 'cancelled', 'never']);
  });

  it('ignores a shutdown() that throws or rejects', async () => {
    class BadShutdown extends SleepJob {
      override shutdown(): Promise<void> {
        throw new BoomError('sync throw in shutdown');
      }
    }
    const rejecting = new Job(() => 1, {
      shutdown: () => Promise.reject(new BoomError('rejected shutdown')),
    });
    const counter = new Counter();
    const counting = new CounterJob(counter, 10);
    const scheduler = new PureScheduler({ jobs: [new BadShutdown(10), rejecting, counting] });
    expect(await drive(scheduler.run())).toBe(true);
    // the other jobs were still shut down
    expect(counter.value).toBe(0);
  });

  it('runs shutdown after the caller aborts the run', async () => {
    const counter = new Counter();
    const scheduler = new PureScheduler({ jobs: [counterSequence(counter, [100, 200, 300])] });
    const controller = new AbortController();
    const run = scheduler.run({ signal: controller.signal });
    await vi.advanceTimersByTimeAsync(150);
    expect(counter.value).toBe(1);
    controller.abort(new Error('stop'));
    await expect(drive(run)).rejects.toThrow('stop');
    expect(counter.value).toBe(0);
  });
});

describe('shutdownTimeout bounds the shutdown phase', () => {
  // Two pipes of 4 CounterJobs of 100 ms; the shutdown of a done job takes 100 ms in
  // pipe A and 500 ms in pipe B. The counter left is the number of laggard shutdowns.
  const cases = [
    { timeout: undefined, shutdownTimeout: 50, counter: 8, ok: true, elapsed: 450 },
    { timeout: undefined, shutdownTimeout: 200, counter: 4, ok: true, elapsed: 600 },
    { timeout: undefined, shutdownTimeout: 700, counter: 0, ok: true, elapsed: 900 },
    { timeout: 250, shutdownTimeout: 50, counter: 4, ok: false, elapsed: 300 },
    { timeout: 250, shutdownTimeout: 200, counter: 2, ok: false, elapsed: 450 },
    { timeout: 250, shutdownTimeout: 700, counter: 0, ok: false, elapsed: 750 },
  ];

  it.each(cases)(
    'timeout $timeout ms, shutdownTimeout $shutdownTimeout ms: the counter ends at $counter',
    async ({ timeout, shutdownTimeout, counter: expected, ok, elapsed }) => {
      const counter = new Counter();
      const scheduler = new Scheduler({
        critical: false,
        shutdownTimeout,
        ...(timeout === undefined ? {} : { timeout }),
        jobs: [
          counterSequence(counter, [100, 100, 100, 100], 100),
          counterSequence(counter, [100, 100, 100, 100], 500),
        ],
      });
      let pending: number | undefined;
      scheduler.on('shutdown:done', (event) => {
        pending = event.pending;
      });
      const start = Date.now();
      expect(await drive(scheduler.run())).toBe(ok);
      expect(Date.now() - start).toBe(elapsed);
      expect(counter.value).toBe(expected);
      expect(pending).toBe(expected);
      // the shutdown's own result says whether every job's shutdown returned in time
      expect(await scheduler.shutdown()).toBe(expected === 0);
    },
  );
});

/** test_nested's three sub-schedulers: SUB i runs CounterJobs of (i + j) * 100 ms, j = 0..2. */
function counterSubSchedulers(counter: Counter): Scheduler[] {
  return [0, 1, 2].map(
    (i) =>
      new Scheduler({
        label: `SUB ${i}`,
        jobs: [
          counterSequence(
            counter,
            [0, 1, 2].map((j) => (i + j) * 100),
          ),
        ],
      }),
  );
}
