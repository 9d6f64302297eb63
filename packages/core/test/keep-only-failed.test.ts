/**
 * keepOnlyFailed(): after a run that failed, what did not succeed stays (failed, cancelled, never
 * ran), what succeeded goes with the requirements on it; nested schedulers the same way; a second
 * run then does only the rest.
 */
import { describe, expect, it } from 'vitest';
import { Job, PureScheduler, Scheduler } from '../src/index.js';

describe('keepOnlyFailed', () => {
  it('keeps a job that failed with undefined (it has no exception to show, and failed all the same)', async () => {
    const silent = new Job(() => Promise.reject(undefined), { label: 'silent', critical: false });
    const fine = new Job(() => 1, { label: 'fine' });
    const scheduler = new PureScheduler({ jobs: [silent, fine] });
    await scheduler.run();
    scheduler.keepOnlyFailed();
    expect([...scheduler.jobs]).toEqual([silent]);
  });

  it('keeps the failed job and what never ran after it; a second run does only those', async () => {
    let broken = true;
    const runs: string[] = [];
    const job = (label: string, work: () => unknown = () => label) =>
      new Job(
        () => {
          runs.push(label);
          return work();
        },
        { label },
      );
    const a = job('a');
    const b = job('b', () => {
      if (broken) throw new Error('b is broken');
      return 'b';
    });
    b.requires(a);
    const c = job('c');
    c.requires(b);
    const d = job('d');
    const scheduler = new PureScheduler({ jobs: [a, b, c, d] });
    expect(await scheduler.run()).toBe(false);
    expect(runs.sort()).toEqual(['a', 'b', 'd']);
    scheduler.keepOnlyFailed();
    expect([...scheduler.jobs].map((j) => j.label)).toEqual(['b', 'c']);
    // b's requirement on a (done) is gone; c still requires b
    expect(b.required.size).toBe(0);
    expect([...c.required]).toEqual([b]);
    broken = false;
    runs.length = 0;
    expect(await scheduler.run()).toBe(true);
    expect(runs).toEqual(['b', 'c']);
  });

  it('a nested scheduler that failed keeps its own unfinished jobs; one that succeeded goes', async () => {
    const fine = new Job(() => 1, { label: 'fine' });
    const bad = new Job(
      () => {
        throw new Error('bad');
      },
      { label: 'bad' },
    );
    const inner = new Scheduler({ label: 'inner', jobs: [fine, bad] });
    const ok = new Scheduler({ label: 'ok', jobs: [new Job(() => 2, { label: 'ok-job' })] });
    inner.requires(ok); // ok is done before inner fails (which aborts the run)
    const outer = new PureScheduler({ jobs: [inner, ok] });
    expect(await outer.run()).toBe(false);
    outer.keepOnlyFailed();
    expect([...outer.jobs]).toEqual([inner]);
    expect([...inner.jobs]).toEqual([bad]);
  });

  it('a nested scheduler that is not critical and ended false keeps its unfinished jobs, as one whose non-critical job failed', async () => {
    const failing = (label: string) =>
      new Job(
        () => {
          throw new Error(label);
        },
        { label },
      );
    const i1 = new Job(() => 'i1', { label: 'i1' });
    const i2 = failing('i2');
    i2.requires(i1);
    const i3 = new Job(() => 'i3', { label: 'i3', required: i2 });
    const inner = new Scheduler({ critical: false, label: 'inner', jobs: [i1, i2, i3] });
    const loose = failing('loose');
    loose.critical = false;
    const lenient = new Scheduler({ label: 'lenient', jobs: [new Job(() => 1, { label: 'fine' }), loose] });
    const done = new Scheduler({ label: 'done', jobs: [new Job(() => 2, { label: 'two' })] });
    const top = new Scheduler({
      critical: false,
      jobs: [new Job(() => 'a', { label: 'a' }), inner, lenient, done],
    });
    expect(await top.run()).toBe(true);
    expect(inner.result()).toBe(false);
    expect(lenient.result()).toBe(true);
    top.keepOnlyFailed();
    expect([...top.jobs]).toEqual([inner, lenient]);
    expect([...inner.jobs].map((job) => job.label)).toEqual(['i2', 'i3']);
    expect([...lenient.jobs]).toEqual([loose]);
  });

  it('after a run that succeeded, nothing is left', async () => {
    const scheduler = new PureScheduler({ jobs: [new Job(() => 1), new Job(() => 2)] });
    expect(await scheduler.run()).toBe(true);
    scheduler.keepOnlyFailed();
    expect(scheduler.size).toBe(0);
  });

  it('a forever job (a capture) stays beside what runs again; alone it goes (it had started and stopped at once)', async () => {
    const capture = () =>
      new Job((ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)), {
        label: 'capture',
        forever: true,
      });
    const fine = new PureScheduler({ jobs: [capture(), new Job(() => 1)] });
    expect(await fine.run()).toBe(true);
    fine.keepOnlyFailed();
    expect(fine.size).toBe(0);
    const kept = capture();
    const broken = new Job(
      () => {
        throw new Error('broken');
      },
      { label: 'broken', critical: false },
    );
    const failed = new PureScheduler({ jobs: [kept, new Job(() => 1), broken] });
    await failed.run();
    failed.keepOnlyFailed();
    expect([...failed.jobs]).toEqual([kept, broken]);
  });
});
