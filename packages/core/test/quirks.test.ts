/**
 * The asynciojobs quirks that DESIGN.md section 2 says we fix: one test each.
 * Time is fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Job, PureScheduler, Scheduler, Sequence, sleep } from '../src/index.js';
import {
  BoomError,
  Counter,
  CounterJob,
  deferred,
  drive,
  failer,
  SleepJob,
  TickJob,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('fixed quirks', () => {
  it('a failed non-critical job releases its window slot (jobsWindow 1, one failure: the run completes)', async () => {
    const failing = new Job(failer(100), { critical: false, label: 'fails' });
    const others = [new SleepJob(100), new SleepJob(100)];
    const scheduler = new PureScheduler({ jobs: [failing, ...others], jobsWindow: 1 });
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    expect(Date.now() - start).toBe(300);
    expect(failing.raisedException()).toBeInstanceOf(BoomError);
    expect(others.map((job) => job.result())).toEqual([100, 100]);
  });

  it('sanitize() returns true on a clean graph with a nested scheduler, false only when it changed something', () => {
    const inner = new Scheduler({ jobs: [new Sequence([new SleepJob(10), new SleepJob(10)])] });
    const a = new SleepJob(10);
    const outer = new Scheduler({ jobs: [new Sequence([a, inner])] });
    expect(outer.sanitize()).toBe(true);
    expect(a.required.size).toBe(0);
    expect([...inner.required]).toEqual([a]);

    // a foreign requirement deep inside: reported by the top-level call, and removed
    const stranger = new SleepJob(10);
    const innerFirst = [...inner][0] as SleepJob;
    innerFirst.requires(stranger);
    expect(outer.sanitize()).toBe(false);
    expect(innerFirst.required.has(stranger)).toBe(false);
    expect(outer.sanitize()).toBe(true);
  });

  it('a scheduler and its Jobs can run again, with fresh state and a fresh shutdown', async () => {
    let calls = 0;
    const counter = new Counter();
    const job = new Job(
      async ({ signal }) => {
        calls++;
        await sleep(100, signal);
        return calls;
      },
      { label: 'counts' },
    );
    const counting = new CounterJob(counter, 50, 0, { required: job });
    const nested = new Scheduler({ jobs: [new SleepJob(20)], required: counting });
    const scheduler = new Scheduler({ jobs: [job, counting, nested] });
    expect(await drive(scheduler.run())).toBe(true);
    expect(job.result()).toBe(1);
    expect(counter.value).toBe(0);
    expect(await drive(scheduler.run())).toBe(true);
    expect(calls).toBe(2);
    expect(job.result()).toBe(2);
    expect(nested.result()).toBe(true);
    expect(counting.isDone()).toBe(true);
    // the second run incremented and shut down again
    expect(counter.value).toBe(0);
  });

  it('a job that failed in one run can succeed in the next', async () => {
    let fail = true;
    const job = new Job(() => {
      if (fail) throw new BoomError('first run');
      return 'second run';
    });
    const scheduler = new PureScheduler({ jobs: [job] });
    expect(await drive(scheduler.run())).toBe(false);
    expect(scheduler.failedCritical()).toBe(true);
    fail = false;
    expect(await drive(scheduler.run())).toBe(true);
    expect(scheduler.failedCritical()).toBe(false);
    expect(job.raisedException()).toBeUndefined();
    expect(job.result()).toBe('second run');
  });

  it('unrequires() really removes a requirement, a Sequence meaning its last job', async () => {
    const a = new SleepJob(100, { label: 'a' });
    const b1 = new SleepJob(100, { label: 'b1' });
    const b2 = new SleepJob(100, { label: 'b2' });
    const seq = new Sequence([b1, b2]);
    const c = new SleepJob(100, { label: 'c', required: [a, seq] });
    expect([...c.required]).toEqual([a, b2]);
    c.unrequires(seq);
    expect([...c.required]).toEqual([a]);
    c.unrequires(a, b1); // b1 is absent: ignored
    expect(c.required.size).toBe(0);
    const scheduler = new PureScheduler({ jobs: [a, seq, c] });
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    expect(Date.now() - start).toBe(200); // c no longer waits for anything
  });

  it('result() of a failed job throws the job error', async () => {
    const error = new BoomError('boom');
    const job = new Job(
      async () => {
        throw error;
      },
      { critical: false },
    );
    expect(await drive(new PureScheduler({ jobs: [job] }).run())).toBe(true);
    expect(job.isDone()).toBe(true);
    expect(() => job.result()).toThrow(error);
  });

  it('result() before the job completes throws ERR_JOB_NOT_DONE', async () => {
    const job = new SleepJob(100, { label: 'slow' });
    expect(() => job.result()).toThrow(
      expect.objectContaining({
        code: 'ERR_JOB_NOT_DONE',
        message: 'Cannot read the result of job "slow": it is idle, not done',
      }),
    );
    const run = new PureScheduler({ jobs: [job] }).run();
    await vi.advanceTimersByTimeAsync(50);
    expect(() => job.result()).toThrow(expect.objectContaining({ code: 'ERR_JOB_NOT_DONE' }));
    expect(await drive(run)).toBe(true);
    expect(job.result()).toBe(100);
  });

  it('a scheduler with only forever jobs resolves true at once', async () => {
    const ticks = [new TickJob(100), new TickJob(250)];
    const run = track(new PureScheduler({ jobs: ticks }).run());
    await vi.advanceTimersByTimeAsync(0);
    expect(run.settled).toBe(true);
    expect(await run.promise).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('failedTimeOut() is a boolean, true even for a timeout of 0', async () => {
    const scheduler = new PureScheduler({ jobs: [new SleepJob(100)], timeout: 0 });
    expect(scheduler.failedTimeOut()).toBe(false);
    expect(await drive(scheduler.run())).toBe(false);
    expect(scheduler.failedTimeOut()).toBe(true);
    expect(scheduler.why()).toBe('TIMED OUT after 0 ms');
    scheduler.timeout = undefined;
    expect(await drive(scheduler.run())).toBe(true);
    expect(scheduler.failedTimeOut()).toBe(false);
    expect(scheduler.why()).toBe('FINE');
  });

  it('a timeout of 0 expires at once, even for synchronous jobs: none of them runs', async () => {
    let calls = 0;
    const count = () => ++calls;
    const scheduler = new PureScheduler({ jobs: [new Job(count), new Job(async () => count())], timeout: 0 });
    expect(await drive(scheduler.run())).toBe(false);
    expect(scheduler.why()).toBe('TIMED OUT after 0 ms');
    expect(calls).toBe(0);
  });

  it("a job's timeout of 0 expires at once: the attempt fails with ERR_JOB_TIMEOUT without running", async () => {
    let calls = 0;
    const job = new Job(() => ++calls, { timeout: 0, critical: false, retries: 1 });
    const scheduler = new PureScheduler({ jobs: [job] });
    expect(await drive(scheduler.run())).toBe(true);
    expect(calls).toBe(0);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_JOB_TIMEOUT', timeout: 0 });
  });

  it('a second shutdown() is a no-op that returns the first result', async () => {
    let shutdowns = 0;
    const job = new Job(() => 1, {
      shutdown: () => {
        shutdowns++;
      },
    });
    const scheduler = new PureScheduler({ jobs: [job] });
    expect(await drive(scheduler.run())).toBe(true);
    expect(shutdowns).toBe(1);
    expect(await scheduler.shutdown()).toBe(true);
    expect(await scheduler.shutdown()).toBe(true);
    expect(shutdowns).toBe(1);
  });

  it('a parent timeout cancels the jobs of a nested scheduler: their signal aborts, nothing is left running', async () => {
    const signals: AbortSignal[] = [];
    const inner = new Job(
      async ({ signal }) => {
        signals.push(signal);
        await sleep(10_000, signal);
      },
      { label: 'inner' },
    );
    const nested = new Scheduler({ jobs: [inner], label: 'nested' });
    const parent = new PureScheduler({ jobs: [nested], timeout: 300 });
    expect(await drive(parent.run())).toBe(false);
    expect(parent.failedTimeOut()).toBe(true);
    expect(nested.isCancelled()).toBe(true);
    expect(inner.isCancelled()).toBe(true);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ code: 'ERR_RUN_TIMEOUT' });
    // the inner sleep's timer was cleared: no orphan keeps running
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('further fixes over asynciojobs', () => {
  it('a forever job takes no window slot: with jobsWindow 1 the finite jobs still run (asynciojobs hangs)', async () => {
    const monitor = new TickJob(50, { label: 'monitor' });
    const work = [new SleepJob(100), new SleepJob(100), new SleepJob(100)];
    const scheduler = new PureScheduler({ jobs: [monitor, ...work], jobsWindow: 1 });
    const start = Date.now();
    expect(await drive(scheduler.run())).toBe(true);
    // one finite job at a time, the monitor beside them all along (its tick due at
    // 300 ms comes after the last job's end, which stops it)
    expect(Date.now() - start).toBe(300);
    expect(monitor.ticks).toBe(5);
    expect(monitor.isCancelled()).toBe(true);
  });

  it('a cycle inside a nested scheduler rejects run() before any job starts', async () => {
    const started: string[] = [];
    const sibling = new Job(() => started.push('sibling'), { label: 'sibling' });
    const x = new Job(() => started.push('x'), { label: 'x' });
    const y = new Job(() => started.push('y'), { label: 'y', required: x });
    x.requires(y);
    const nested = new Scheduler({ label: 'nested', jobs: [x, y] });
    const top = new Scheduler({ critical: false, jobs: [sibling, nested] });
    await expect(top.run()).rejects.toMatchObject({
      code: 'ERR_GRAPH_CYCLE',
      message: 'Dependency cycle: y → x → y',
    });
    expect(started).toEqual([]);
  });

  it('debrief() reports the failures of nested schedulers too, in listing order', async () => {
    const inner = new Scheduler({
      label: 'inner',
      critical: false,
      jobs: [new Job(failer(10, 'inner boom'), { label: 'deep' })],
    });
    const top = new PureScheduler({
      jobs: [inner, new Job(failer(20, 'top boom'), { label: 'top', critical: false })],
    });
    expect(await drive(top.run())).toBe(true);
    const text = top.debrief();
    expect(text).toContain('===== 2 job(s) with an exception, including 1 critical');
    expect(text).toContain('BEG stack for CRITICAL JOB 2 ⚠ ★ ☓   <Job `deep`>');
    expect(text).toContain('non-critical: top: exception top boom');
  });
});

describe('re-running after an abandoned run', () => {
  it('ignores the late outcome of a job from the previous run', async () => {
    const gates = [deferred<string>(), deferred<string>()];
    let calls = 0;
    // ignores its signal: the first run gives up on it at its timeout
    const stubborn = new Job(() => gates[calls++]?.promise, { label: 'stubborn' });
    const after = new Job(() => 'after', { label: 'after', required: stubborn });
    const scheduler = new Scheduler({
      critical: false,
      timeout: 100,
      shutdownTimeout: 50,
      jobs: [stubborn, after],
    });
    expect(await drive(scheduler.run())).toBe(false);
    const second = track(scheduler.run());
    await vi.advanceTimersByTimeAsync(0);
    gates[0]?.resolve('stale');
    await vi.advanceTimersByTimeAsync(0);
    expect(stubborn.isRunning()).toBe(true);
    gates[1]?.resolve('fresh');
    await vi.advanceTimersByTimeAsync(0);
    expect(await second.promise).toBe(true);
    expect(stubborn.result()).toBe('fresh');
    expect(after.result()).toBe('after');
  });

  it('a nested scheduler still winding down from a cancelled run is waited for, not refused', async () => {
    const inner = new Scheduler({
      label: 'inner',
      shutdownTimeout: 500,
      jobs: [new Job(() => new Promise(() => undefined), { label: 'deaf' })],
    });
    const outer = new Scheduler({ critical: false, timeout: 100, shutdownTimeout: 10, jobs: [inner] });
    expect(await drive(outer.run())).toBe(false);
    // the outer run gave up waiting for `inner` after 10 ms; `inner` is still winding down
    inner.timeout = undefined;
    const again = outer.run();
    const result = await drive(again);
    expect(result).toBe(false);
    expect(outer.failedTimeOut()).toBe(true);
    expect(inner.raisedException()).toBeUndefined();
  });
});

describe('debrief of nested failures', () => {
  it('reports an inner critical failure once, not again for the scheduler that propagated it', async () => {
    const inner = new Scheduler({
      label: 'inner',
      jobs: [new Job(failer(10, 'inner boom'), { label: 'deep' })],
    });
    const top = new Scheduler({ critical: false, jobs: [inner] });
    expect(await drive(top.run())).toBe(false);
    const text = top.debrief();
    expect(text).toContain('===== 1 job(s) with an exception, including 1 critical');
    expect(text.match(/BEG stack for CRITICAL JOB/g)).toHaveLength(1);
    expect(text).toContain('BEG stack for CRITICAL JOB 2 ⚠ ★ ☓   <Job `deep`>');
  });
});
