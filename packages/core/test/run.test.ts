/**
 * Run behaviour of a flat scheduler (asynciojobs tests/test_basics.py), in milliseconds.
 * Time is fake: durations are checked on the fake clock, never on the wall clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbstractJob, Job, PrintJob, PureScheduler, Sequence, sleep } from '../src/index.js';
import {
  BoomError,
  deferred,
  drive,
  failer,
  SleepJob,
  sl,
  sleeper,
  TickJob,
  timedRun,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const requiredCounts = (jobs: Iterable<AbstractJob>) => [...jobs].map((job) => job.required.size);

describe('empty and simple graphs', () => {
  it('an empty scheduler resolves true and lists nothing', async () => {
    const scheduler = new PureScheduler();
    expect(scheduler.list()).toBe('');
    expect(scheduler.list({ details: true })).toBe('');
    expect(await drive(scheduler.run())).toBe(true);
    expect(scheduler.why()).toBe('FINE');
  });

  it('runs a DAG in dependency order, each job starting when its last requirement is done', async () => {
    const a1 = new SleepJob(100);
    const a2 = new SleepJob(200);
    const a3 = new SleepJob(300);
    const a4 = new SleepJob(400, { required: [a1, a2, a3] });
    const a5 = new SleepJob(500, { required: a4 });
    const a6 = new Job(sleeper(600), { required: a4 });
    const a7 = new Job(sleeper(700), { required: [a5, a6] });
    const scheduler = new PureScheduler({ jobs: [a1, a2, a3, a4, a5, a6, a7] });
    expect(scheduler.checkCycles()).toBe(true);

    const started = new Map<AbstractJob, number>();
    const t0 = Date.now();
    scheduler.on('job:start', ({ job, time }) => started.set(job, time - t0));
    const { ok, elapsed } = await timedRun(scheduler);

    expect(ok).toBe(true);
    // the critical path is a3 (300) + a4 (400) + a6 (600) + a7 (700)
    expect(elapsed).toBe(2000);
    expect([a1, a2, a3, a4, a5, a6, a7].map((job) => started.get(job))).toEqual([
      0, 0, 0, 300, 700, 700, 1300,
    ]);
    for (const job of scheduler) {
      expect(job.isDone()).toBe(true);
      expect(job.raisedException()).toBeUndefined();
    }
    expect([a1, a2, a3, a4, a5, a6, a7].map((job) => job.result())).toEqual([
      100, 200, 300, 400, 500, 600, 700,
    ]);
    expect(scheduler.list()).toContain('<SleepJob `Sleep for 400 ms`>');
    expect(scheduler.debrief()).toMatch(/^----- FINE\n/);
  });

  it('does not start a job before all its requirements are done', async () => {
    const first = deferred<string>();
    const second = deferred<string>();
    const a = new Job(() => first.promise, { label: 'a' });
    const b = new Job(() => second.promise, { label: 'b' });
    const c = new Job(() => 'c', { label: 'c', required: [a, b] });
    const scheduler = new PureScheduler({ jobs: [a, b, c] });
    const run = track(scheduler.run());
    await vi.advanceTimersByTimeAsync(0);
    first.resolve('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(a.isDone()).toBe(true);
    expect(c.isIdle()).toBe(true);
    expect(run.settled).toBe(false);
    second.resolve('b');
    expect(await drive(run.promise)).toBe(true);
    expect(c.result()).toBe('c');
  });
});

describe('jobs written in plain JavaScript', () => {
  /** A subclass whose run() is not async: possible from JavaScript, whatever the types say. */
  class PlainJob extends AbstractJob<number> {
    override run(): Promise<number> {
      return 42 as unknown as Promise<number>;
    }
  }

  it.each([
    ['without', undefined],
    ['with', 1000],
  ])(
    'a run() that returns a plain value completes with it (%s a per-job timeout)',
    async (_with, timeout) => {
      const job = new PlainJob(timeout === undefined ? {} : { timeout });
      expect(await drive(new PureScheduler({ jobs: [job] }).run())).toBe(true);
      expect(job.result()).toBe(42);
      expect(vi.getTimerCount()).toBe(0);
    },
  );
});

describe('forever jobs', () => {
  it('runs forever jobs until the finite jobs are done, then stops them', async () => {
    const a1 = new SleepJob(1000);
    const a2 = new SleepJob(1500, { required: a1 });
    const tick = new TickJob(600);
    const scheduler = new PureScheduler({ jobs: [a1, a2, tick] });
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(true);
    expect(elapsed).toBe(2500);
    expect(tick.ticks).toBe(4); // at 600, 1200, 1800, 2400
    expect(tick.isDone()).toBe(false);
    expect(tick.isCancelled()).toBe(true);
    expect(tick.raisedException()).toBeUndefined();
    expect(() => tick.result()).toThrow(expect.objectContaining({ code: 'ERR_JOB_NOT_DONE' }));
    expect(scheduler.failedCritical()).toBe(false);
  });

  it('does not count a stopped forever job as done, even when it is critical', async () => {
    const a1 = new Job(sleeper(500), { label: 'a1' });
    const a2 = new Job(
      async ({ signal }) => {
        for (;;) await sleep(100, signal);
      },
      { forever: true, critical: true, label: 'a2' },
    );
    const scheduler = new PureScheduler({ jobs: [a1, a2] });
    expect(await drive(scheduler.run())).toBe(true);
    expect(a1.isDone()).toBe(true);
    expect(a1.result()).toBe(500);
    expect(a2.isDone()).toBe(false);
    expect(scheduler.why()).toBe('FINE');
  });
});

describe('forever jobs that end on their own', () => {
  it('a critical forever job that fails aborts the run', async () => {
    const finite = new SleepJob(1000);
    const watcher = new Job(failer(100), { forever: true, label: 'watcher' });
    const scheduler = new PureScheduler({ jobs: [finite, watcher] });
    expect(await drive(scheduler.run())).toBe(false);
    expect(scheduler.failedCritical()).toBe(true);
    expect(finite.isCancelled()).toBe(true);
  });

  it('a forever job that returns is done, and its successors then run', async () => {
    const setup = new Job(sleeper(100), { forever: true, label: 'setup' });
    const after = new SleepJob(100, { required: setup });
    const other = new SleepJob(500);
    const scheduler = new PureScheduler({ jobs: [setup, after, other] });
    expect(await drive(scheduler.run())).toBe(true);
    expect(setup.isDone()).toBe(true);
    expect(setup.result()).toBe(100);
    expect(after.isDone()).toBe(true);
  });
});

describe('remove() while the scheduler runs', () => {
  it('is refused (a job moved to another scheduler mid-run left the first run pending for good); remove(42) says what it expects', async () => {
    vi.useRealTimers();
    const job = new Job(({ signal }) => sleep(50, signal));
    const scheduler = new PureScheduler({ jobs: [job] });
    const running = scheduler.run();
    expect(() => scheduler.remove(job)).toThrow(
      /Cannot remove job ".*" while .* runs: remove it before or after the run/,
    );
    expect(await running).toBe(true);
    scheduler.remove(job);
    expect(scheduler.jobs.size).toBe(0);
    expect(() => scheduler.remove(42 as never)).toThrow('Expected remove() to be given a job, got 42');
  });
});

describe("a job's own events", () => {
  it('one sent after its run ended is dropped (it reached the next run); run events cannot be forged; a non-event is refused', async () => {
    vi.useRealTimers();
    let late: ((event: never) => void) | undefined;
    const lingering = new Job(
      async ({ emit }) => {
        late = emit as never;
        await new Promise((resolve) => setTimeout(resolve, 50)); // ignores its signal
      },
      { forever: true },
    );
    const quick = new Job(() => 1);
    const scheduler = new PureScheduler({ jobs: [lingering, quick], shutdownTimeout: 10 });
    expect(await scheduler.run()).toBe(true);
    const second: string[] = [];
    scheduler.onAny((event) => second.push(event.type));
    await new Promise((resolve) => setTimeout(resolve, 60));
    late?.({ type: 'job:message', message: 'late' } as never);
    expect(second).toEqual([]);
    const forger = new Job(({ emit }) => emit({ type: 'run:done', ok: true } as never), { critical: false });
    const empty = new Job(({ emit }) => emit(null as never), { critical: false });
    await new PureScheduler({ jobs: [forger, empty] }).run();
    expect(String(forger.raisedException())).toContain('ctx.emit() cannot send "run:done"');
    expect(String(empty.raisedException())).toContain(
      'Expected ctx.emit() to be given an event object with a type, got null',
    );
  });
});

describe('retries of a job that fails at once', () => {
  it('leave the event loop a turn every 1,000 attempts: the scheduler timeout still fires', async () => {
    vi.useRealTimers();
    // 10 million attempts in a row held the loop for tens of seconds, and the timeout never fired
    const job = new Job(
      () => {
        throw new Error('at once');
      },
      { retries: 10_000_000, critical: false },
    );
    const scheduler = new PureScheduler({ jobs: [job], timeout: 100 });
    expect(await scheduler.run()).toBe(false);
    expect(scheduler.why()).toBe('TIMED OUT after 100 ms');
    expect(job.attempts).toBeLessThan(10_000_001);
  });
});

describe('global timeout', () => {
  it('resolves false when a chain outlasts the timeout, at the timeout and not before', async () => {
    const a1 = new SleepJob(500);
    const a2 = new SleepJob(600, { required: a1 });
    const a3 = new SleepJob(700, { required: a2 });
    const scheduler = new PureScheduler({ jobs: [a1, a2, a3], timeout: 1000 });
    const run = track(scheduler.run());
    await vi.advanceTimersByTimeAsync(999);
    expect(run.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.settled).toBe(true);
    expect(await run.promise).toBe(false);
    expect(scheduler.failedTimeOut()).toBe(true);
    expect(scheduler.failedCritical()).toBe(false);
    expect(scheduler.why()).toBe('TIMED OUT after 1000 ms');
    expect(a1.isDone()).toBe(true);
    expect(a2.isCancelled()).toBe(true);
    expect(a3.isIdle()).toBe(true);
  });

  it('waits at most shutdownTimeout for a cancelled job that ignores its signal', async () => {
    const stubborn = new Job(() => new Promise((resolve) => setTimeout(resolve, 10_000)), {
      label: 'stubborn',
    });
    const scheduler = new PureScheduler({ jobs: [stubborn], timeout: 100, shutdownTimeout: 200 });
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(false);
    expect(elapsed).toBe(300);
    expect(stubborn.isCancelled()).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000); // its late result is discarded
    expect(stubborn.isCancelled()).toBe(true);
  });

  it('leaves no timer behind when the run ends before its timeout', async () => {
    const scheduler = new PureScheduler({ jobs: [new SleepJob(100)], timeout: 60_000 });
    expect(await drive(scheduler.run())).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.failedTimeOut()).toBe(false);
  });

  it('keeps the results of the jobs done before the timeout and cancels the others', async () => {
    const a1 = sl(1000);
    const a2 = sl(2000);
    const a3 = sl(10_000);
    const scheduler = new PureScheduler({ jobs: [a1, a2, a3], timeout: 3000 });
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(false);
    expect(elapsed).toBe(3000);
    expect(a1.isDone()).toBe(true);
    expect(a1.result()).toBe(1000);
    expect(a2.isDone()).toBe(true);
    expect(a2.result()).toBe(2000);
    expect(a3.isDone()).toBe(false);
    expect(a3.isCancelled()).toBe(true);
    expect(a3.raisedException()).toBeUndefined();
  });
});

describe('exceptions', () => {
  for (const verbose of [false, true]) {
    it(`a failing non-critical job does not stop the run (verbose ${verbose})`, async () => {
      const output: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
        output.push(String(text));
        return true;
      });
      const a1 = new SleepJob(1000);
      const a2 = new Job(failer(500), { critical: false, label: 'non critical boom' });
      const scheduler = new PureScheduler({ jobs: [a1, a2], verbose });
      const { ok, elapsed } = await timedRun(scheduler);
      expect(ok).toBe(true);
      expect(elapsed).toBe(1000);
      expect(scheduler.failedCritical()).toBe(false);
      expect(a1.result()).toBe(1000);
      expect(a2.isDone()).toBe(true);
      expect(a2.raisedException()).toBeInstanceOf(BoomError);
      const debrief = scheduler.debrief();
      expect(debrief).toMatch(/^----- FINE\n/);
      expect(debrief).toContain('non-critical: non critical boom: exception boom after 500 ms');
      if (verbose) {
        expect(output.join('')).toContain('RAISED EXC.');
        expect(output.join('')).toContain('SCHEDULER: entering run() with 2 jobs');
      } else {
        expect(output).toEqual([]);
      }
    });

    it(`a failing critical job aborts the run at once (verbose ${verbose})`, async () => {
      const output: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
        output.push(String(text));
        return true;
      });
      const a1 = new SleepJob(1000);
      const a2 = new Job(failer(500), { critical: true, label: 'critical boom' });
      const a3 = new SleepJob(100, { required: a2 });
      const scheduler = new PureScheduler({ jobs: [a1, a2, a3], verbose });
      const { ok, elapsed } = await timedRun(scheduler);
      expect(ok).toBe(false);
      expect(elapsed).toBe(500);
      expect(scheduler.failedCritical()).toBe(true);
      expect(scheduler.failedTimeOut()).toBe(false);
      expect(scheduler.why()).toBe('a CRITICAL job has raised an exception');
      expect(a1.isCancelled()).toBe(true);
      expect(a2.raisedException()).toBeInstanceOf(BoomError);
      expect(a3.isIdle()).toBe(true);
      expect(scheduler.debrief()).toContain('BEG stack for CRITICAL JOB');
      if (verbose) expect(output.join('')).toContain('EXCEPTION occurred - on critical job');
      else expect(output).toEqual([]);
    });
  }
});

describe('cancellation after a critical failure', () => {
  it('aborts the signal of the other running jobs with ERR_JOB_CANCELLED, caused by the failure', async () => {
    let seen: AbortSignal | undefined;
    const victim = new Job(
      async ({ signal }) => {
        seen = signal;
        await sleep(1000, signal);
      },
      { label: 'victim' },
    );
    const culprit = new Job(failer(100), { label: 'culprit' });
    expect(await drive(new PureScheduler({ jobs: [victim, culprit], label: 'main' }).run())).toBe(false);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({
      code: 'ERR_JOB_CANCELLED',
      message: 'Job cancelled: critical job "culprit" of scheduler "main" failed',
      cause: culprit.raisedException(),
    });
  });
});

describe('sequences', () => {
  it('chains the jobs of a Sequence given to the scheduler', async () => {
    const [a1, a2, a3] = [sl(100, '1'), sl(100, '2'), sl(100, '3')];
    const scheduler = new PureScheduler({ jobs: [new Sequence([a1, a2, a3])] });
    expect(requiredCounts([a1, a2, a3])).toEqual([0, 1, 1]);
    expect(a2.required.has(a1)).toBe(true);
    expect(a3.required.has(a2)).toBe(true);
    expect([...scheduler.jobs]).toEqual([a1, a2, a3]);
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(true);
    expect(elapsed).toBe(300);
  });

  it('gives the required option of a Sequence to its first job', async () => {
    const [a1, a2, a3] = [sl(100), sl(100), sl(100)];
    const scheduler = new PureScheduler({ jobs: [a1, new Sequence([a2, a3], { required: a1 })] });
    expect(requiredCounts([a1, a2, a3])).toEqual([0, 1, 1]);
    expect(a2.required.has(a1)).toBe(true);
    expect((await timedRun(scheduler)).elapsed).toBe(300);
  });

  it('makes a job that requires a Sequence require its last job', async () => {
    const [a1, a2] = [sl(100), sl(100)];
    const s = new Sequence([a1, a2]);
    const a3 = sl(100).requires(s);
    const scheduler = new PureScheduler().update([s, a3]);
    expect(requiredCounts([a1, a2, a3])).toEqual([0, 1, 1]);
    expect([...a3.required]).toEqual([a2]);
    expect(scheduler.size).toBe(3);
    expect(await drive(scheduler.run())).toBe(true);
  });

  it('splices nested Sequences into one chain', async () => {
    const [a1, a2, a3, a4] = [sl(100), sl(100), sl(100), sl(100)];
    const scheduler = new PureScheduler({
      jobs: [new Sequence([new Sequence([a1, a2]), new Sequence([a3, a4])])],
    });
    expect(requiredCounts([a1, a2, a3, a4])).toEqual([0, 1, 1, 1]);
    expect([...a3.required]).toEqual([a2]);
    expect((await timedRun(scheduler)).elapsed).toBe(400);
  });

  it('chains Sequences that require each other', async () => {
    const jobs = Array.from({ length: 6 }, () => sl(100));
    const [a1, a2, a3, a4, a5, a6] = jobs as [Job, Job, Job, Job, Job, Job];
    const s1 = new Sequence([a1, a2]);
    const s2 = new Sequence([a3, a4], { required: s1 });
    const s3 = new Sequence([a5, a6], { required: s2 });
    const scheduler = new PureScheduler({ jobs: [s1, s2, s3] });
    expect(requiredCounts(jobs)).toEqual([0, 1, 1, 1, 1, 1]);
    expect([...a5.required]).toEqual([a4]);
    expect((await timedRun(scheduler)).elapsed).toBe(600);
  });

  it('runs a Sequence added with update()', async () => {
    const jobs = [sl(100), sl(100), sl(100)];
    const scheduler = new PureScheduler();
    scheduler.update([new Sequence(jobs)]);
    expect(scheduler.size).toBe(3);
    expect((await timedRun(scheduler)).elapsed).toBe(300);
  });

  it('adds a Sequence to the scheduler given as its scheduler option', async () => {
    const scheduler = new PureScheduler();
    new Sequence([sl(100), sl(200)], { scheduler });
    expect(scheduler.size).toBe(2);
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(true);
    expect(elapsed).toBe(300);
  });
});

describe('requirement forms', () => {
  const a = Array.from({ length: 5 }, (_, i) => sl(10, `a${i + 1}`));
  const [a1, a2, a3, a4, a5] = a as [Job, Job, Job, Job, Job];

  it.each([
    ['null', null, 0],
    ['undefined', undefined, 0],
    ['[null]', [null], 0],
    ['a job', a1, 1],
    ['[job]', [a1], 1],
    ['a Set of one job', new Set([a1]), 1],
    ['[a1, a2]', [a1, a2], 2],
    ['[a1, a1] (duplicates)', [a1, a1], 1],
    ['deeply nested iterables', [a1, [a2], new Set([a3, a4]), [[[[[[a5]]]]]]], 5],
  ] as const)('required: %s gives %i requirement(s)', (_name, required, count) => {
    expect(new Job(() => 0, { required }).required.size).toBe(count);
  });

  it('ignores a job that requires itself', () => {
    const job = sl(10);
    job.requires(job, a1);
    expect([...job.required]).toEqual([a1]);
  });

  it('gives the requirements of a Sequence to its first job only', () => {
    const b = [sl(10), sl(10), sl(10)];
    new Sequence(b, { required: [a1, a2] });
    expect(requiredCounts(b)).toEqual([2, 1, 1]);
    const c = [sl(10), sl(10), sl(10)];
    new Sequence(c).requires([a1, a2]);
    expect(requiredCounts(c)).toEqual([2, 1, 1]);
  });

  it('an empty Sequence as a requirement adds nothing', () => {
    expect(sl(10).requires(new Sequence([])).required.size).toBe(0);
  });
});

describe('creation with the scheduler option', () => {
  it('adds jobs and Sequences to their scheduler, a Sequence requirement being frozen at call time', async () => {
    const scheduler = new PureScheduler();
    const j1 = new Job(sleeper(1000), { label: 'sl 1000' });
    const j2 = new Job(sleeper(2000), { label: 'sl 2000' });
    const s = new Sequence([j1, j2], { scheduler });
    const j3 = new Job(sleeper(3000), { required: s, scheduler, label: 'sl 3000' });
    const j4 = new Job(sleeper(500), { label: 'sl 500' });
    s.append(j4);
    expect(scheduler.size).toBe(4);
    expect(scheduler.jobs.has(j4)).toBe(true);
    expect([...j3.required]).toEqual([j2]);
    expect([...j4.required]).toEqual([j2]);
    expect(scheduler.checkCycles()).toBe(true);
    const { ok, elapsed } = await timedRun(scheduler);
    expect(ok).toBe(true);
    expect(elapsed).toBe(6000);
  });

  it('a job added through its options belongs to that scheduler', () => {
    const scheduler = new PureScheduler();
    const job = new SleepJob(10, { scheduler });
    expect(scheduler.jobs.has(job)).toBe(true);
    expect(scheduler.add(job)).toBe(job); // adding again is harmless
    expect(scheduler.size).toBe(1);
  });
});

describe('jobsWindow', () => {
  const printJobs = (lines: string[]) =>
    Array.from(
      { length: 15 },
      (_, i) => new PrintJob(`job ${i}`, { sleep: 100, write: (text: string) => lines.push(text) }),
    );

  it('with a window of 3, 15 jobs of 100 ms end at 500 ms, not before', async () => {
    const lines: string[] = [];
    const scheduler = new PureScheduler({ jobs: printJobs(lines), jobsWindow: 3 });
    const run = track(scheduler.run());
    await vi.advanceTimersByTimeAsync(0);
    expect([...scheduler].filter((job) => job.isRunning())).toHaveLength(3);
    expect([...scheduler].filter((job) => job.isScheduled())).toHaveLength(12);
    await vi.advanceTimersByTimeAsync(499);
    expect(run.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.settled).toBe(true);
    expect(await run.promise).toBe(true);
    expect(lines.filter((line) => line.startsWith('job '))).toHaveLength(15);
    // admitted in insertion order
    expect(lines.filter((line) => line.startsWith('job ')).slice(0, 4)).toEqual([
      'job 0\n',
      'job 1\n',
      'job 2\n',
      'job 3\n',
    ]);
  });

  it('without a window, 15 jobs of 100 ms all end at 100 ms', async () => {
    const scheduler = new PureScheduler({ jobs: printJobs([]) });
    const run = track(scheduler.run());
    await vi.advanceTimersByTimeAsync(99);
    expect(run.settled).toBe(false);
    expect([...scheduler].every((job) => job.isRunning())).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.settled).toBe(true);
    expect(await run.promise).toBe(true);
  });
});
