import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { attachVerboseRenderer, Job, PrintJob, PureScheduler, Scheduler, sleep } from '../src/index.js';

describe('the verbose renderer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('writes asynciojobs-style lines for the run, its jobs and the shutdown', async () => {
    const lines: string[] = [];
    const scheduler = new PureScheduler({ jobsWindow: 1 });
    const a = scheduler.add(new Job(() => 1, { label: 'a' }));
    scheduler.add(new Job(() => 2, { label: 'b' }));
    scheduler.add(new Job(() => 3, { label: 'c', required: a }));
    const stop = attachVerboseRenderer(scheduler, { write: (line) => lines.push(line) });
    await scheduler.run();
    stop();
    expect(lines.join('')).toBe(
      [
        '000.000  0D + 0R + 3I = 3 SCHEDULER: entering run() with 3 jobs',
        '000.000  0D + 1R + 2I = 3 STARTING: 1 ⚠ ☉ ↺   <Job `a`> [not done] ',
        '000.000  0D + 1R + 2I = 3 WAITING : 2 ⚠   ⚑   <Job `b`> [not done] ',
        '000.000  1D + 0R + 2I = 3 DONE    : 1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] ',
        '000.000  1D + 1R + 1I = 3 STARTING: 2 ⚠ ☉ ↺   <Job `b`> [not done] ',
        '000.000  1D + 1R + 1I = 3 WAITING : 3 ⚠   ⚑   <Job `c`> [not done] requires={1}',
        '000.000  2D + 0R + 1I = 3 DONE    : 2 ⚠ ☉ ☓   <Job `b`> [[ -> 2]] ',
        '000.000  2D + 1R + 0I = 3 STARTING: 3 ⚠ ☉ ↺   <Job `c`> [not done] requires={1}',
        '000.000  3D + 0R + 0I = 3 DONE    : 3 ⚠ ☉ ☓   <Job `c`> [[ -> 3]] requires={1}',
        '000.000  3D + 0R + 0I = 3 SCHEDULER: scheduler is shutting down...',
        '',
      ].join('\n'),
    );
    const before = lines.length;
    await scheduler.run();
    expect(lines.length).toBe(before); // unsubscribed
  });

  test('shows elapsed seconds, the timeout, cancelled forever jobs and nested jobs', async () => {
    const lines: string[] = [];
    const outer = new Scheduler({ critical: false, timeout: 1500, label: 'outer' });
    const inner = new Scheduler({ critical: false, label: 'inner', scheduler: outer });
    inner.add(new Job(({ signal }) => sleep(1000, signal), { label: 'slow' }));
    outer.add(new Job(({ signal }) => sleep(5000, signal), { label: 'tick', forever: true }));
    outer.add(new Job(({ signal }) => sleep(3000, signal), { label: 'too long' }));
    attachVerboseRenderer(outer, { write: (line) => lines.push(line) });
    const running = outer.run();
    await vi.advanceTimersByTimeAsync(1500);
    expect(await running).toBe(false);
    const text = lines.join('');
    expect(text).toContain('001.000  1D + 0R + 0I = 1 DONE    : 1 ⚠ ☉ ☓   <Job `slow`>');
    expect(text).toContain('SCHEDULER: TIMEOUT occurred after 1500 ms');
    expect(text).toMatch(/001\.500 {2}1D \+ 2R \+ 0I = 3 TIDYING forever: \d ⚠ ☉ ↺ ∞ <Job `tick`>/);
    expect(text).toMatch(/ABORTING: \d ⚠ ☉ ↺ {3}<Job `too long`>/);
  });

  test('verbose: true prints on standard output only during the run', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const scheduler = new PureScheduler({ verbose: true });
      scheduler.add(new PrintJob('hello', 'world', { write: () => undefined }));
      await scheduler.run();
      scheduler.verbose = false;
      const count = writes.length;
      await scheduler.run();
      expect(writes.join('')).toContain('SCHEDULER: entering run() with 1 jobs');
      expect(writes.length).toBe(count);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('PrintJob', () => {
  test('prints its banner and messages, then sleeps', async () => {
    vi.useFakeTimers();
    try {
      const out: string[] = [];
      const job = new PrintJob('preparing', 40, 'nodes', {
        banner: '>>>',
        sleep: 100,
        write: (t: string) => out.push(t),
      });
      const scheduler = new PureScheduler({ jobs: [job] });
      const running = scheduler.run();
      await vi.advanceTimersByTimeAsync(99);
      expect(job.isRunning()).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(await running).toBe(true);
      expect(out.join('')).toBe('>>> preparing 40 nodes\nSleeping for 100 ms\n');
      expect(job.details()).toBe('[+ sleep 100 ms] msg= preparing...');
    } finally {
      vi.useRealTimers();
    }
  });

  test('treats a last plain object as a message unless all its keys are options', async () => {
    const out: string[] = [];
    const job = new PrintJob('value', { x: 1 }, { write: (t: string) => out.push(t) });
    await new PureScheduler({ jobs: [job] }).run();
    expect(out.join('')).toBe('value [object Object]\n');
    expect(job.details()).toBe('msg= value...');
  });
});
