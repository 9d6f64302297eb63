/**
 * Nested schedulers (asynciojobs tests/test_nesting.py): a Scheduler is a job of its
 * parent, and criticality decides how a failure travels up. Time is fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Job, PureScheduler, Scheduler, Sequence } from '../src/index.js';
import {
  BoomError,
  ConcurrencyProbe,
  diamond,
  diamondIn,
  drive,
  SleepJob,
  sl,
  sleeper,
  timedRun,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('nesting', () => {
  it('runs a PureScheduler wrapped in a Job as one step of a sequence', async () => {
    const inner = [sl(500), sl(1000)];
    const sub = new PureScheduler({ jobs: inner });
    const wrapper = new Job(() => sub.run(), { label: 'sub' });
    const main = new PureScheduler({ jobs: [new Sequence([sl(500), wrapper, sl(500)])] });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(elapsed).toBe(2000);
    expect(wrapper.result()).toBe(true);
    expect(inner.every((job) => job.isDone())).toBe(true);
  });

  it('runs two wrapped PureScheduler diamonds in parallel between two jobs', async () => {
    const sub2 = diamondIn(new PureScheduler(), 500, 'sub2');
    const sub3 = diamondIn(new PureScheduler(), 1000, 'sub3');
    const mainj1 = sl(500, 'mainj1');
    const mainj2 = new Job(() => sub2.run(), { required: mainj1 });
    const mainj3 = new Job(() => sub3.run(), { required: mainj1 });
    const mainj4 = new Job(sleeper(500), { required: [mainj2, mainj3] });
    const main = new PureScheduler({ jobs: [mainj1, mainj2, mainj3, mainj4] });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(elapsed).toBe(2000);
    expect([...sub2, ...sub3].every((job) => job.isDone())).toBe(true);
  });

  it('runs nested Scheduler diamonds as jobs of the parent', async () => {
    const mainj1 = sl(500, 'mainj1');
    const sub2 = diamond(500, 'sub2', { label: 'sub_sched2', required: mainj1 });
    const sub3 = diamond(1000, 'sub3', { label: 'sub_sched3', required: mainj1 });
    const mainj4 = new Job(sleeper(500), { required: [sub2, sub3], label: 'mainj4' });
    const main = new PureScheduler({ jobs: [mainj1, sub2, sub3, mainj4] });
    expect(main.sanitize()).toBe(true);
    expect(main.list()).toContain('sub_sched2');
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(elapsed).toBe(2000);
    expect(sub2.result()).toBe(true);
    expect(sub3.result()).toBe(true);
    expect([...main.iterateJobs()].every((job) => job.isDone())).toBe(true);
  });

  it('waits for a forever sub-scheduler that a later job requires', async () => {
    const subjob = new Scheduler({
      jobs: [new Sequence([sl(200), sl(200), sl(200)])],
      label: 'sub-scheduler\non several lines',
      critical: true,
      forever: true,
    });
    const main = new Scheduler({ jobs: [new Sequence([sl(200, 'job-label'), subjob, sl(200)])] });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(elapsed).toBe(1000);
    expect(subjob.isDone()).toBe(true);
    expect(subjob.result()).toBe(true);
  });

  it('gives a nested scheduler its own window, the parent counting it as one job', async () => {
    const probe = new ConcurrencyProbe();
    const sub = new Scheduler({ jobsWindow: 2, label: 'sub' });
    for (let i = 0; i < 6; i++) sub.add(probe.job(100));
    const outer = new ConcurrencyProbe();
    const siblings = [outer.job(300), outer.job(300)];
    const main = new PureScheduler({ jobs: [sub, ...siblings], jobsWindow: 2 });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(probe.max).toBe(2);
    expect(probe.started).toBe(6);
    // sub (300 ms: 6 jobs 2 at a time) and one sibling run first; the other sibling waits
    expect(outer.max).toBe(1);
    expect(elapsed).toBe(600);
  });
});

describe('a nested scheduler that times out', () => {
  it('is a job that resolves false when not critical: the parent carries on', async () => {
    const slow = new SleepJob(1000);
    const sub = new Scheduler({ jobs: [slow], timeout: 300, critical: false });
    const after = new SleepJob(100, { required: sub });
    const main = new PureScheduler({ jobs: [sub, after] });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(true);
    expect(elapsed).toBe(400);
    expect(sub.result()).toBe(false);
    expect(sub.failedTimeOut()).toBe(true);
    expect(slow.isCancelled()).toBe(true);
    expect(after.isDone()).toBe(true);
  });

  it('fails with ERR_RUN_TIMEOUT when critical, aborting the parent', async () => {
    const sub = new Scheduler({ jobs: [new SleepJob(1000)], timeout: 300, label: 'sub' });
    const sibling = new SleepJob(5000);
    const main = new PureScheduler({ jobs: [sub, sibling] });
    const { ok, elapsed } = await timedRun(main);
    expect(ok).toBe(false);
    expect(elapsed).toBe(300);
    expect(main.failedCritical()).toBe(true);
    expect(sub.raisedException()).toMatchObject({
      code: 'ERR_RUN_TIMEOUT',
      message: 'Scheduler "sub" timed out after 300 ms',
    });
    expect(sibling.isCancelled()).toBe(true);
  });
});

describe('a top-level Scheduler that times out', () => {
  it('rejects with ERR_RUN_TIMEOUT when critical (the default)', async () => {
    const scheduler = new Scheduler({ jobs: [new SleepJob(1000)], timeout: 200, label: 'main' });
    await expect(drive(scheduler.run())).rejects.toMatchObject({
      code: 'ERR_RUN_TIMEOUT',
      message: 'Scheduler "main" timed out after 200 ms',
    });
    expect(scheduler.failedTimeOut()).toBe(true);
  });

  it('resolves false when not critical', async () => {
    const scheduler = new Scheduler({ jobs: [new SleepJob(1000)], timeout: 200, critical: false });
    expect(await drive(scheduler.run())).toBe(false);
    expect(scheduler.why()).toBe('TIMED OUT after 200 ms');
  });
});

describe('critical failures travel up only through critical schedulers', () => {
  const boom = new BoomError('boom');
  const failing = (critical: boolean) =>
    new Job(
      async () => {
        throw boom;
      },
      { critical, label: 'boom' },
    );

  it.each([
    [false, false, 'resolves', true],
    [false, true, 'resolves', false],
    [true, false, 'resolves', true],
  ] as const)('Scheduler critical=%s, job critical=%s: %s %s', async (s, j, _verb, expected) => {
    const scheduler = new Scheduler({ jobs: [failing(j)], critical: s });
    expect(await drive(scheduler.run())).toBe(expected);
  });

  it('Scheduler critical=true, job critical=true: rejects with the job error', async () => {
    const job = failing(true);
    const scheduler = new Scheduler({ jobs: [job], critical: true });
    await expect(drive(scheduler.run())).rejects.toBe(boom);
    expect(scheduler.failedCritical()).toBe(true);
    expect(job.raisedException()).toBe(boom);
  });

  it.each([
    [false, false, false, true],
    [false, false, true, true],
    [false, true, false, true],
    [false, true, true, false],
    [true, false, false, true],
    [true, false, true, true],
    [true, true, false, true],
  ] as const)(
    'outer critical=%s, inner critical=%s, job critical=%s: resolves %s',
    async (s1, s2, j, expected) => {
      const inner = new Scheduler({ jobs: [failing(j)], critical: s2 });
      const outer = new Scheduler({ jobs: [inner], critical: s1 });
      expect(await drive(outer.run())).toBe(expected);
    },
  );

  it('outer, inner and job all critical: the outer run rejects with the job error', async () => {
    const inner = new Scheduler({ jobs: [failing(true)], critical: true });
    const outer = new Scheduler({ jobs: [inner], critical: true });
    await expect(drive(outer.run())).rejects.toBe(boom);
    expect(inner.raisedException()).toBe(boom);
    expect(outer.failedCritical()).toBe(true);
  });

  it('a critical failure inside a nested scheduler cancels its siblings there and in the parent', async () => {
    const innerSibling = new SleepJob(1000);
    const inner = new Scheduler({
      jobs: [new Job(async () => Promise.reject(boom), { label: 'boom' }), innerSibling],
    });
    const outerSibling = new SleepJob(1000);
    const outer = new Scheduler({ jobs: [inner, outerSibling], critical: false });
    expect(await drive(outer.run())).toBe(false);
    expect(innerSibling.isCancelled()).toBe(true);
    expect(outerSibling.isCancelled()).toBe(true);
  });
});

describe("a nested scheduler's events in the parent's stream", () => {
  it('a listener failing on a nested event: its listener:error reaches the parent listeners too', async () => {
    const inner = new Scheduler({ label: 'inner', jobs: [sl(10, 'x')] });
    inner.on('job:done', () => {
      throw new Error('inner listener broke');
    });
    const outer = new PureScheduler({ jobs: [inner] });
    const heard: string[] = [];
    outer.onAny((event) => heard.push(`${event.type} ${event.path.map((job) => job.label).join('/')}`));
    const { ok } = await timedRun(outer);
    expect(ok).toBe(true);
    expect(heard).toContain('listener:error inner');
    expect(heard.indexOf('listener:error inner')).toBe(heard.indexOf('job:done inner') + 1);
  });

  it("a nested run that outlives its parent's end (a job ignoring its cancel) is no part of the parent's next run", async () => {
    const stubborn = new Job(() => new Promise((resolve) => setTimeout(resolve, 800)), { label: 'stubborn' }); // ignores its signal
    const inner = new Scheduler({ label: 'inner', critical: false, jobs: [stubborn] });
    const outer = new PureScheduler({ label: 'outer', jobs: [inner], timeout: 50, shutdownTimeout: 100 });
    const runs: string[][] = [[], []];
    let run = 0;
    outer.onAny((event) => {
      const where = event.path.map((job) => job.label).join('/');
      runs[run]?.push(`${event.type}${where === '' ? '' : ` ${where}`}`);
    });
    const first = outer.run();
    await vi.advanceTimersByTimeAsync(200);
    expect(await first).toBe(false);
    run = 1;
    outer.timeout = undefined;
    const second = outer.run();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await second).toBe(true);
    // the second run has one start and one end of inner, its own
    expect(runs[1]?.filter((line) => line === 'run:done inner')).toHaveLength(1);
    expect(runs[1]?.filter((line) => line === 'run:start inner')).toHaveLength(1);
    expect(runs[1]?.indexOf('run:start inner')).toBeLessThan(runs[1]?.indexOf('run:done inner') ?? -1);
  });
});
