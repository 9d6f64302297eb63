/**
 * What jobgraph adds to asynciojobs: per-job `timeout` and `retries`, `run({ signal })`,
 * the event stream, the `jobsWindow` cap (counted, not timed), and one-line errors
 * with a stable `code` for every misuse. Time is fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AbstractJob,
  CycleError,
  InvalidOptionError,
  Job,
  JobGraphError,
  type JobOptions,
  PrintJob,
  PureScheduler,
  Scheduler,
  type SchedulerEvent,
  type SchedulerOptions,
  Sequence,
  sleep,
} from '../src/index.js';
import { BoomError, ConcurrencyProbe, deferred, drive, SleepJob, TickJob, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A value of the wrong type, for the tests of bad input. */
const bad = <T>(value: unknown): T => value as T;

/** Runs `fn`, expecting it to throw; returns the error. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** `type:label` of each event, with the nested path as a prefix. */
function describeEvent(event: SchedulerEvent): string {
  const path = event.path.map((job) => `${job.label}/`).join('');
  const subject =
    'job' in event
      ? event.job.label
      : 'scheduler' in event
        ? (event.scheduler.label ?? 'top')
        : 'failedType' in event
          ? event.failedType
          : '';
  return `${path}${event.type}:${subject}`;
}

describe('a job refused by its constructor', () => {
  it('is in no scheduler (it was added, half-built, and list() then crashed)', () => {
    const scheduler = new PureScheduler();
    expect(() => new Job(() => 1, { scheduler, shutdown: 5 as unknown as () => void })).toThrow(
      'Expected shutdown to be a function, got 5',
    );
    expect(() => new PrintJob('x', { scheduler, sleep: -1 })).toThrow(/Expected sleep to be a number/);
    expect(scheduler.jobs.size).toBe(0);
    expect(scheduler.list()).toBe('');
  });
});

describe('options written after construction', () => {
  it('are checked again when a run starts, naming the option and the job (Infinity retries ran for good)', async () => {
    const cases: Array<[(s: PureScheduler, j: Job<number>) => void, string]> = [
      [(s) => (s.timeout = Number.NaN), 'Expected timeout to be a number of milliseconds'],
      [(s) => (s.jobsWindow = -1), 'Expected jobsWindow to be a non-negative integer, got -1'],
      [(_s, j) => (j.retries = Number.POSITIVE_INFINITY), 'Expected retries to be a non-negative integer'],
      [(_s, j) => (j.retries = 1.5), '(job "j")'],
      [(_s, j) => (j.timeout = -5), 'Expected timeout to be a number of milliseconds'],
    ];
    for (const [spoil, message] of cases) {
      const job = new Job(() => 1, { label: 'j' });
      const scheduler = new PureScheduler({ jobs: [job] });
      spoil(scheduler, job);
      const error = await scheduler.run().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toContain(message);
      expect(job.state).toBe('idle');
    }
  });
});

describe('per-job timeout', () => {
  it('fails the job with ERR_JOB_TIMEOUT and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const slow = new Job(
      async ({ signal }) => {
        seen = signal;
        await sleep(1000, signal);
        return 'finished';
      },
      { label: 'slow', timeout: 100 },
    );
    const scheduler = new PureScheduler({ jobs: [slow] });
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(false);
    expect(Date.now() - start).toBe(100);
    expect(scheduler.failedCritical()).toBe(true);
    expect(scheduler.failedTimeOut()).toBe(false);
    const error = slow.raisedException();
    expect(error).toMatchObject({ code: 'ERR_JOB_TIMEOUT', message: 'Job "slow" timed out after 100 ms' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(() => slow.result()).toThrow(error as Error);
  });

  it('fails after the shutdownTimeout when the job ignores its signal, and discards its late result', async () => {
    let seen: AbortSignal | undefined;
    const stubborn = new Job(
      ({ signal }) => {
        seen = signal;
        return new Promise<string>((resolve) => setTimeout(() => resolve('late'), 5000));
      },
      { label: 'stubborn', timeout: 100, critical: false },
    );
    const after = new SleepJob(50, { required: stubborn });
    const scheduler = new PureScheduler({ jobs: [stubborn, after], shutdownTimeout: 300 });
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    // 100 ms limit + 300 ms for the job to settle, then the 50 ms job that required it
    expect(Date.now() - start).toBe(450);
    expect(seen?.aborted).toBe(true);
    expect(after.isDone()).toBe(true);
    await vi.advanceTimersByTimeAsync(5000); // the job resolves 'late' now
    expect(stubborn.raisedException()).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
  });

  it('lets a timed-out job clean up (e.g. kill its remote process) before it is reported failed', async () => {
    const order: string[] = [];
    const tidy = new Job(
      ({ signal }) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            // the clean-up takes a while, well within the shutdownTimeout
            setTimeout(() => {
              order.push('cleaned up');
              reject(signal.reason);
            }, 200);
          });
        }),
      { label: 'tidy', timeout: 100, critical: false },
    );
    const scheduler = new PureScheduler({ jobs: [tidy], shutdownTimeout: 1000 });
    scheduler.on('job:failed', () => order.push('failed'));
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    expect(Date.now() - start).toBe(300);
    expect(order).toEqual(['cleaned up', 'failed']);
    expect(tidy.raisedException()).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
  });

  it('lets a job that finishes in time keep its result and clears its timer', async () => {
    const quick = new SleepJob(50, { timeout: 100 });
    expect(await drive(new PureScheduler({ jobs: [quick] }).run())).toBe(true);
    expect(quick.result()).toBe(50);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('retries', () => {
  it('makes 1 + retries attempts and fails with the last error', async () => {
    let calls = 0;
    const job = new Job(
      async () => {
        calls++;
        throw new BoomError(`attempt ${calls}`);
      },
      { retries: 2, critical: false },
    );
    expect(await drive(new PureScheduler({ jobs: [job] }).run())).toBe(true);
    expect(calls).toBe(3);
    expect(job.attempts).toBe(3);
    expect(job.raisedException()).toMatchObject({ message: 'attempt 3' });
  });

  it('gives the result of the attempt that succeeds, with job:retry and job:start events', async () => {
    const attempts: number[] = [];
    const job = new Job(
      async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new BoomError(`attempt ${attempt}`);
        return `ok on attempt ${attempt}`;
      },
      { retries: 5, label: 'flaky' },
    );
    const scheduler = new PureScheduler({ jobs: [job] });
    const events: string[] = [];
    scheduler.on('job:start', (event) => events.push(`start ${event.attempt}`));
    scheduler.on('job:retry', (event) =>
      events.push(`retry ${event.attempt} after ${(event.error as Error).message}`),
    );
    expect(await drive(scheduler.run())).toBe(true);
    expect(job.result()).toBe('ok on attempt 3');
    expect(job.attempts).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(events).toEqual([
      'start 1',
      'retry 2 after attempt 1',
      'start 2',
      'retry 3 after attempt 2',
      'start 3',
    ]);
  });

  it('counts an expired per-job timeout as a failed attempt', async () => {
    const signals: AbortSignal[] = [];
    const job = new Job(
      async ({ signal, attempt }) => {
        signals.push(signal);
        await sleep(attempt === 1 ? 1000 : 50, signal);
        return attempt;
      },
      { timeout: 100, retries: 1 },
    );
    const retried: unknown[] = [];
    const scheduler = new PureScheduler({ jobs: [job] });
    scheduler.on('job:retry', (event) => retried.push(event.error));
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    expect(Date.now() - start).toBe(150);
    expect(job.result()).toBe(2);
    expect(retried).toEqual([expect.objectContaining({ code: 'ERR_JOB_TIMEOUT' })]);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false]);
  });

  it.each([
    ['without', undefined],
    ['with', 5000],
  ])('does not retry a job cancelled by the scheduler (%s a per-job timeout)', async (_with, timeout) => {
    let calls = 0;
    const patient = new Job(
      async ({ signal }) => {
        calls++;
        await sleep(1000, signal);
      },
      { retries: 5, label: 'patient', ...(timeout === undefined ? {} : { timeout }) },
    );
    const boom = new Job(
      async ({ signal }) => {
        await sleep(100, signal);
        throw new BoomError('boom');
      },
      { label: 'boom' },
    );
    expect(await drive(new PureScheduler({ jobs: [patient, boom] }).run())).toBe(false);
    expect(calls).toBe(1);
    expect(patient.attempts).toBe(1);
    expect(patient.isCancelled()).toBe(true);
  });
});

describe('run({ signal })', () => {
  it('rejects with the reason of a signal aborted before the start, running nothing', async () => {
    let ran = false;
    const job = new Job(() => {
      ran = true;
    });
    const reason = new Error('not today');
    const scheduler = new PureScheduler({ jobs: [job] });
    await expect(scheduler.run({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(ran).toBe(false);
    expect(job.isIdle()).toBe(true);
    // why() says so (it said FINE)
    expect(scheduler.why()).toBe('ABORTED: not today');
  });

  it('rejects mid-run with the reason, aborts the running jobs and still shuts down', async () => {
    const seen: AbortSignal[] = [];
    let shutdowns = 0;
    const running = new Job(
      async ({ signal }) => {
        seen.push(signal);
        await sleep(1000, signal);
      },
      {
        label: 'running',
        shutdown: () => {
          shutdowns++;
        },
      },
    );
    const waiting = new SleepJob(100, { required: running });
    const scheduler = new Scheduler({ jobs: [running, waiting], critical: false });
    const controller = new AbortController();
    const run = track(scheduler.run({ signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(300);
    expect(run.settled).toBe(false);
    const reason = new Error('user pressed ^C');
    controller.abort(reason);
    await expect(drive(run.promise)).rejects.toBe(reason);
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[0]?.reason).toBe(reason);
    expect(running.isCancelled()).toBe(true);
    expect(waiting.isIdle()).toBe(true);
    expect(shutdowns).toBe(1);
    expect(scheduler.why()).toBe('ABORTED: user pressed ^C');
  });

  it('aborting after the run has ended changes nothing', async () => {
    const controller = new AbortController();
    const scheduler = new PureScheduler({ jobs: [new SleepJob(10)] });
    expect(await drive(scheduler.run({ signal: controller.signal }))).toBe(true);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(scheduler.why()).toBe('FINE');
  });
});

describe('events', () => {
  it('reports start, done, failed and cancelled jobs, in order', async () => {
    const a = new SleepJob(100, { label: 'a' });
    const b = new Job(
      async () => {
        throw new BoomError('b failed');
      },
      { label: 'b', critical: false, required: a },
    );
    const t = new TickJob(30, { label: 't' });
    const scheduler = new PureScheduler({ jobs: [a, b, t], label: 'top' });
    const events: SchedulerEvent[] = [];
    scheduler.onAny((event) => events.push(event));
    expect(await drive(scheduler.run())).toBe(true);
    expect(events.map(describeEvent)).toEqual([
      'run:start:top',
      'job:start:a',
      'job:start:t',
      'job:done:a',
      'job:start:b',
      'job:failed:b',
      'job:cancelled:t',
      'shutdown:start:top',
      'shutdown:done:top',
      'run:done:top',
    ]);
    const byType = <K extends SchedulerEvent['type']>(type: K) =>
      events.filter((event): event is Extract<SchedulerEvent, { type: K }> => event.type === type);
    expect(byType('job:done')[0]?.result).toBe(100);
    expect(byType('job:failed')[0]).toMatchObject({ critical: false, error: b.raisedException() });
    expect(byType('job:cancelled')[0]?.reason).toMatchObject({ code: 'ERR_JOB_CANCELLED' });
    expect(byType('run:done')[0]).toMatchObject({ ok: true, why: 'FINE' });
    expect(events.every((event) => event.path.length === 0)).toBe(true);
  });

  it('brings the events of nested schedulers to the top-level listener, with their path', async () => {
    const leaf = new SleepJob(10, { label: 'leaf' });
    const inner = new Scheduler({ jobs: [leaf], label: 'inner' });
    const middle = new Scheduler({ jobs: [inner], label: 'middle' });
    const top = new PureScheduler({ jobs: [middle], label: 'top' });
    const starts: Array<{ job: string | undefined; path: Array<string | undefined> }> = [];
    top.on('job:start', (event) =>
      starts.push({ job: event.job.label, path: event.path.map((j) => j.label) }),
    );
    const runStarts: AbstractJob[][] = [];
    top.on('run:start', (event) => runStarts.push([...event.path]));
    expect(await drive(top.run())).toBe(true);
    expect(starts).toEqual([
      { job: 'middle', path: [] },
      { job: 'inner', path: ['middle'] },
      { job: 'leaf', path: ['middle', 'inner'] },
    ]);
    expect(runStarts).toEqual([[], [middle], [middle, inner]]);
  });

  it('publishes what a job emits, on its behalf, even with a destructured emit', async () => {
    const talker = (label: string, options: JobOptions = {}) =>
      new Job(
        ({ emit }) => {
          emit({ type: 'job:message', message: 'half way' });
          return 1;
        },
        { label, ...options },
      );
    // the second one runs under a per-job timeout, which gives it a context of its own
    const scheduler = new PureScheduler({
      jobs: [talker('talker'), talker('timed talker', { timeout: 1000 })],
    });
    const messages: string[] = [];
    const unsubscribe = scheduler.on('job:message', (event) =>
      messages.push(`${event.job.label}: ${event.message}`),
    );
    expect(await drive(scheduler.run())).toBe(true);
    expect(messages).toEqual(['talker: half way', 'timed talker: half way']);
    unsubscribe();
    expect(await drive(scheduler.run())).toBe(true);
    expect(messages).toHaveLength(2);
  });

  it('reports the jobs that wait for a window slot', async () => {
    const jobs = [new SleepJob(10, { label: 'a' }), new SleepJob(10, { label: 'b' })];
    const scheduler = new PureScheduler({ jobs, jobsWindow: 1 });
    const scheduled: Array<string | undefined> = [];
    scheduler.on('job:scheduled', (event) => scheduled.push(event.job.label));
    expect(await drive(scheduler.run())).toBe(true);
    expect(scheduled).toEqual(['b']);
  });

  it('forwards the timeout of a nested scheduler to the top-level listener', async () => {
    const nested = new Scheduler({
      jobs: [new SleepJob(1000)],
      timeout: 200,
      critical: false,
      label: 'nested',
    });
    const top = new PureScheduler({ jobs: [nested], label: 'top' });
    const events: string[] = [];
    top.onAny((event) => {
      if (event.type.startsWith('run:')) events.push(describeEvent(event));
    });
    expect(await drive(top.run())).toBe(true);
    expect(events).toEqual([
      'run:start:top',
      'nested/run:start:nested',
      'nested/run:timeout:nested',
      'nested/run:abort:nested',
      'nested/run:done:nested',
      'run:done:top',
    ]);
  });

  it('an event goes to the listeners there were when it was dispatched; subscribing twice counts once', async () => {
    const scheduler = new PureScheduler({
      jobs: [new Job(() => 1, { label: 'a' }), new Job(() => 2, { label: 'b' })],
    });
    const seen: string[] = [];
    let stopLate: (() => void) | undefined;
    const late = (event: SchedulerEvent) => seen.push(`late ${event.type}`);
    const first = (event: SchedulerEvent) => {
      seen.push(`first ${event.type}`);
      // subscribing from inside a dispatch: heard from the next event on, not this one
      if (event.type === 'run:start') stopLate = scheduler.onAny(late);
      if (event.type === 'run:done') stopFirst();
    };
    const stopFirst = scheduler.onAny(first);
    const stopAgain = scheduler.onAny(first);
    const typed = (event: SchedulerEvent) => seen.push(`typed ${event.type}`);
    const stopTyped = scheduler.on('job:done', typed);
    scheduler.on('job:done', typed);
    expect(await drive(scheduler.run())).toBe(true);
    expect(seen.filter((line) => line === 'first run:start')).toHaveLength(1);
    expect(seen).not.toContain('late run:start');
    expect(seen).toContain('late run:done');
    expect(seen.filter((line) => line === 'typed job:done')).toHaveLength(2);
    // `first` unsubscribed itself on run:done; the second unsubscribe of it does nothing
    stopAgain();
    stopLate?.();
    stopTyped();
    seen.length = 0;
    expect(await drive(scheduler.run())).toBe(true);
    expect(seen).toEqual([]);
  });

  it('a listener that throws does not break the run: the others get a listener:error event', async () => {
    const warning = vi.spyOn(process, 'emitWarning');
    const scheduler = new PureScheduler({ jobs: [new SleepJob(10)] });
    scheduler.on('job:start', () => {
      throw new Error('bad listener');
    });
    const reported: string[] = [];
    scheduler.on('listener:error', ({ error, failedType }) => {
      reported.push(`${failedType}: ${(error as Error).message}`);
      throw new Error('a failing error listener is dropped, not looped on');
    });
    expect(await drive(scheduler.run())).toBe(true);
    expect(reported).toEqual(['job:start: bad listener']);
    // the library prints nothing itself
    expect(warning).not.toHaveBeenCalled();
    warning.mockRestore();
  });
});

describe('jobsWindow caps concurrency', () => {
  it.each([
    [1, 1],
    [3, 3],
    [0, 10],
    [20, 10],
  ])('with jobsWindow %i, at most %i of 10 jobs run at once', async (jobsWindow, max) => {
    const probe = new ConcurrencyProbe();
    const jobs = Array.from({ length: 10 }, (_, i) => probe.job(10 * (1 + (i % 3))));
    expect(await drive(new PureScheduler({ jobs, jobsWindow }).run())).toBe(true);
    expect(probe.started).toBe(10);
    expect(probe.max).toBe(max);
  });

  it('fills a freed slot at once, in the order the jobs became ready', async () => {
    const gates = Array.from({ length: 4 }, () => deferred<void>());
    const started: number[] = [];
    const jobs = gates.map(
      (gate, i) =>
        new Job(
          async () => {
            started.push(i);
            await gate.promise;
          },
          { label: `j${i}` },
        ),
    );
    const run = new PureScheduler({ jobs, jobsWindow: 2 }).run();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 1, 2, 3]);
    for (const gate of gates) gate.resolve();
    expect(await drive(run)).toBe(true);
  });
});

describe('bad input: one-line errors with a code', () => {
  const expectInvalid = (fn: () => unknown, message: string | RegExp) => {
    const error = thrown(fn);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    const text = (error as Error).message;
    expect(text).not.toContain('\n');
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  };

  it('rejects a negative jobsWindow', () => {
    expectInvalid(
      () => new PureScheduler({ jobsWindow: -1 }),
      'Expected jobsWindow to be a non-negative integer, got -1 (number)',
    );
  });

  it.each<[string, SchedulerOptions & JobOptions, string]>([
    [
      'jobsWindow 1.5',
      { jobsWindow: 1.5 },
      'Expected jobsWindow to be a non-negative integer, got 1.5 (number)',
    ],
    [
      'jobsWindow "3"',
      { jobsWindow: bad('3') },
      'Expected jobsWindow to be a non-negative integer, got "3" (string)',
    ],
    [
      'scheduler timeout -1',
      { timeout: -1 },
      'Expected timeout to be a number of milliseconds from 0 to 2147483647, got -1 (number)',
    ],
    [
      'shutdownTimeout "1s"',
      { shutdownTimeout: bad('1s') },
      'Expected shutdownTimeout to be a number of milliseconds from 0 to 2147483647, got "1s" (string)',
    ],
    ['verbose "yes"', { verbose: bad('yes') }, 'Expected verbose to be a boolean, got "yes" (string)'],
  ])('a scheduler with %s', (_name, options, message) => {
    expectInvalid(() => new Scheduler(options), message);
  });

  it.each<[string, JobOptions, string | RegExp]>([
    [
      'timeout "30s"',
      { timeout: bad('30s') },
      'Expected timeout to be a number of milliseconds from 0 to 2147483647, got "30s" (string)',
    ],
    [
      'timeout NaN',
      { timeout: Number.NaN },
      'Expected timeout to be a number of milliseconds from 0 to 2147483647, got NaN (number)',
    ],
    [
      'timeout -5',
      { timeout: -5 },
      'Expected timeout to be a number of milliseconds from 0 to 2147483647, got -5 (number)',
    ],
    ['retries 1.5', { retries: 1.5 }, 'Expected retries to be a non-negative integer, got 1.5 (number)'],
    ['retries -1', { retries: -1 }, 'Expected retries to be a non-negative integer, got -1 (number)'],
    ['retries "2"', { retries: bad('2') }, 'Expected retries to be a non-negative integer, got "2" (string)'],
    ['critical "yes"', { critical: bad('yes') }, 'Expected critical to be a boolean, got "yes" (string)'],
    ['critical 1', { critical: bad(1) }, 'Expected critical to be a boolean, got 1 (number)'],
    ['forever null', { forever: bad(null) }, 'Expected forever to be a boolean, got null'],
    ['label 42', { label: bad(42) }, 'Expected label to be a string, got 42 (number)'],
    [
      'required "a"',
      { required: bad('a') },
      /^Expected a requirement to be a job, a Sequence, null, or an iterable/,
    ],
  ])('a job with %s', (_name, options, message) => {
    expectInvalid(() => new Job(() => 1, options), message);
    expectInvalid(() => new SleepJob(1, options), message);
  });

  it('rejects options that are not an object, and a Job without a function', () => {
    expectInvalid(
      () => new Job(() => 1, bad(5)),
      'Expected the job options to be an options object, got 5 (number)',
    );
    expectInvalid(
      () => new Job(bad<() => number>(Promise.resolve(1))),
      'Expected the first argument of Job to be a function, got an object',
    );
    expectInvalid(
      () => new PrintJob('hi', { sleep: -1 }),
      /^Expected sleep to be a number of milliseconds from 0 to 2147483647/,
    );
  });

  it('refuses a job added to two schedulers (ERR_JOB_IN_TWO_SCHEDULERS)', () => {
    const first = new PureScheduler({ label: 'first' });
    const job = new SleepJob(10, { label: 'shared', scheduler: first });
    const second = new Scheduler({ label: 'second' });
    for (const attempt of [
      () => second.add(job),
      () => second.update([job]),
      () => new Sequence([job], { scheduler: second }),
    ]) {
      const error = thrown(attempt);
      expect(error).toBeInstanceOf(JobGraphError);
      expect(error).toMatchObject({
        code: 'ERR_JOB_IN_TWO_SCHEDULERS',
        message: 'Job "shared" already belongs to scheduler "first"; remove it there first',
      });
    }
    expect(second.size).toBe(0);
    first.remove(job);
    expect(second.add(job)).toBe(job);
  });

  it('rejects run() on a requirement outside the scheduler (ERR_FOREIGN_REQUIREMENT), starting nothing', async () => {
    const outside = new SleepJob(10, { label: 'outside' });
    let ran = false;
    const inside = new Job(
      () => {
        ran = true;
      },
      { label: 'inside', required: outside },
    );
    const scheduler = new PureScheduler({ jobs: [inside], label: 'main' });
    const error = await scheduler.run().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({
      code: 'ERR_FOREIGN_REQUIREMENT',
      message: expect.stringMatching(
        /^Job "inside" in scheduler "main" requires "outside", which is not in that scheduler/,
      ),
    });
    expect(ran).toBe(false);
    expect(scheduler.checkCycles()).toBe(false);
  });

  it('rejects run() on a cycle (ERR_GRAPH_CYCLE) with a message that lists the jobs of the cycle', async () => {
    const a = new SleepJob(10, { label: 'a' });
    const b = new SleepJob(10, { label: 'b', required: a });
    const c = new SleepJob(10, { label: 'c', required: b });
    const free = new SleepJob(10, { label: 'free' });
    a.requires(c);
    const scheduler = new Scheduler({ jobs: [a, b, c, free] });
    const error = await scheduler.run().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(CycleError);
    expect(error).toMatchObject({ code: 'ERR_GRAPH_CYCLE' });
    const cycle = (error as CycleError).cycle;
    expect(cycle).toHaveLength(4);
    expect(cycle[0]).toBe(cycle[3]);
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
    expect((error as Error).message).toBe(`Dependency cycle: ${cycle.join(' → ')}`);
    // in execution order: each job requires the one before it
    const byLabel = new Map([a, b, c].map((job) => [job.label, job]));
    for (let i = 0; i + 1 < cycle.length; i++) {
      expect(byLabel.get(cycle[i + 1])?.required.has(byLabel.get(cycle[i]) as AbstractJob)).toBe(true);
    }
    expect(free.isIdle()).toBe(true);
  });

  it('refuses to nest a PureScheduler', () => {
    const pure = new PureScheduler();
    const message = /PureScheduler/;
    expectInvalid(() => new Scheduler().add(bad(pure)), message);
    expectInvalid(() => new Scheduler({ jobs: [bad(pure)] }), message);
    expectInvalid(() => new Sequence([bad(pure)]), message);
    expectInvalid(() => new SleepJob(1).requires(bad(pure)), message);
  });

  it('refuses a Sequence with an item that is not a job', () => {
    expectInvalid(
      () => new Sequence([new SleepJob(1), bad(42)]),
      'Expected a job, a Sequence, null or undefined, got 42 (number)',
    );
    expectInvalid(() => new Sequence(bad('abc')), /^Expected the items of a Sequence to be an array/);
    expectInvalid(() => new Sequence().append(bad({ run: () => 1 })), /got an object$/);
  });

  it('refuses to run a scheduler that is already running (ERR_INVALID_STATE)', async () => {
    const scheduler = new PureScheduler({ jobs: [new SleepJob(100)], label: 'busy' });
    const first = scheduler.run();
    await expect(scheduler.run()).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: 'Scheduler "busy" is already running',
    });
    expect(await drive(first)).toBe(true);
  });

  it('rejects run() options that are not an object, and a signal that is not an AbortSignal', async () => {
    const scheduler = new PureScheduler({ jobs: [new SleepJob(1)] });
    await expect(scheduler.run(bad(5))).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'Expected the run() options to be an options object, got 5 (number)',
    });
    await expect(scheduler.run({ signal: bad('stop') })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'Expected signal to be an AbortSignal, got "stop" (string)',
    });
    expect(scheduler.jobs.values().next().value?.isIdle()).toBe(true);
  });

  it('names an unlabelled scheduler "the scheduler" in its messages', async () => {
    const scheduler = new Scheduler({ jobs: [new SleepJob(500)], timeout: 100 });
    const running = scheduler.run();
    const outcome = expect(running).rejects.toMatchObject({
      code: 'ERR_RUN_TIMEOUT',
      message: 'The scheduler timed out after 100 ms',
    });
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
    const job = new SleepJob(1, { label: 'lonely' });
    expectInvalid(
      () => new PureScheduler().remove(job),
      'Cannot remove job "lonely": it is not in the scheduler',
    );
  });

  it('rejects durations that Node timers cannot hold (over 2^31 - 1 ms)', () => {
    expectInvalid(
      () => new Job(() => 1, { timeout: 3_000_000_000 }),
      'Expected timeout to be a number of milliseconds from 0 to 2147483647, got 3000000000 (number)',
    );
    expectInvalid(() => new PureScheduler({ shutdownTimeout: 2 ** 31 }), /shutdownTimeout/);
    expectInvalid(() => sleep(2 ** 32), /the sleep duration/);
  });

  it('reports unknown option names instead of ignoring a typo', () => {
    expectInvalid(
      () => new Job(() => 1, bad({ requires: [] })),
      /^Unknown option "requires" for a Job; expected one of: critical, forever, label, required/,
    );
    expectInvalid(
      () => new PureScheduler(bad({ jobswindow: 2 })),
      /^Unknown option "jobswindow" for a PureScheduler/,
    );
    expectInvalid(
      () => new PureScheduler(bad({ critical: false })),
      /^Unknown option "critical" for a PureScheduler/,
    );
    expect(new Scheduler({ critical: false }).critical).toBe(false);
    expectInvalid(() => new Sequence([], bad({ require: null })), /^Unknown option "require" for a Sequence/);
  });

  it('rejects a scheduler option that is not a scheduler', () => {
    expectInvalid(
      () => new Job(() => 1, { scheduler: bad(5) }),
      'Expected scheduler to be a Scheduler or PureScheduler, got 5 (number)',
    );
    expectInvalid(() => new Sequence([], { scheduler: bad({}) }), /got an object$/);
  });

  it('rejects non-jobs given to the graph-editing and neighbourhood methods', () => {
    const s = new PureScheduler({ jobs: [new SleepJob(1)] });
    expectInvalid(
      () => s.predecessors(bad(5)),
      'Expected the arguments of predecessors() to be jobs, got 5 (number)',
    );
    expectInvalid(() => s.successors(bad('x')), /^Expected the arguments of successors\(\) to be jobs/);
    expectInvalid(() => s.keepOnly(bad(5)), 'Expected keepOnly() to be an iterable of jobs, got 5 (number)');
    expectInvalid(
      () => s.keepOnlyBetween({ starts: bad(5) }),
      'Expected starts to be an iterable of jobs, got 5 (number)',
    );
    expectInvalid(
      () => s.keepOnlyBetween(bad({ start: [] })),
      /^Unknown option "start" for keepOnlyBetween\(\)/,
    );
    expect(s.size).toBe(1);
  });

  it('rejects a graph file path that is not a file name', async () => {
    const s = new PureScheduler({ jobs: [new SleepJob(1)] });
    await expect(s.exportAsSvgfile(bad(123))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(s.exportAsDotfile('out/')).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'Expected a file path to write the graph to (a directory is not enough), got "out/" (string)',
    });
  });

  it('rejects unknown run() options', async () => {
    await expect(new PureScheduler().run(bad({ signa: new AbortController().signal }))).rejects.toMatchObject(
      {
        code: 'ERR_INVALID_OPTION',
        message: 'Unknown option "signa" for run(); expected one of: signal',
      },
    );
  });
});
