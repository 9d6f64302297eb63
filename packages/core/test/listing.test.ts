/**
 * Text views: list(), listSafe() and debrief() in the asynciojobs formats
 * (reference section C; test_display, test_graph list(details=True)).
 */
import { describe, expect, it, vi } from 'vitest';
import {
  AbstractJob,
  badge,
  eventRecord,
  Job,
  type JobContext,
  type JobOptions,
  PrintJob,
  PureScheduler,
  Scheduler,
  Sequence,
  sleep,
} from '../src/index.js';
import { deferred } from './helpers.js';

/** The lines of a listing, each ending with a newline. */
const text = (...lines: string[]) => lines.map((line) => `${line}\n`).join('');

/** Lets every pending promise callback run (the run loop is driven by promises only). */
const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** A job that never settles by itself: it rejects with the signal's reason once cancelled. */
const untilCancelled = ({ signal }: JobContext) =>
  new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** An error with a fixed stack, so that debrief() output is deterministic. */
function fixedError(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}\n    at fake (fake.ts:1:1)`;
  return error;
}

type Behaviour = 'resolve' | 'reject' | 'hold' | 'forever';

/**
 * The AbstractJob subclass of test_display. `resolve` returns 0 at once, `reject` throws
 * `boom` at once, `hold` waits for `release`, `forever` waits until cancelled.
 */
class AJ extends AbstractJob<number> {
  readonly behaviour: Behaviour;
  readonly gate = deferred<number>();
  constructor(behaviour: Behaviour, options: JobOptions) {
    super(options);
    this.behaviour = behaviour;
  }
  override async run(ctx: JobContext): Promise<number> {
    switch (this.behaviour) {
      case 'resolve':
        return 0;
      case 'reject':
        throw new Error('boom');
      case 'hold':
        return this.gate.promise;
      case 'forever':
        return untilCancelled(ctx);
    }
  }
}

/** The four (forever, critical) combinations in asynciojobs' order. */
const COMBINATIONS = [
  { forever: true, critical: true },
  { forever: false, critical: true },
  { forever: true, critical: false },
  { forever: false, critical: false },
] as const;

const ajLabel = (forever: boolean, critical: boolean, status: string, boom: boolean) =>
  `forever=${forever} crit=${critical} status=${status} boom=${boom}`;

describe('list(): the asynciojobs examples', () => {
  it('is empty for an empty scheduler', () => {
    const s = new PureScheduler();
    expect(s.list()).toBe('');
    expect(s.list({ details: true })).toBe('');
    expect(s.listSafe()).toBe('');
  });

  it('before and after a run with a non-critical failure and a forever monitor', async () => {
    const s = new PureScheduler();
    const a = s.add(new Job(() => 1, { label: 'a' }));
    const b = s.add(
      new Job(
        () => {
          throw new Error('boom');
        },
        { label: 'b', critical: false, required: a },
      ),
    );
    s.add(new Job(untilCancelled, { label: 'f', forever: true }));
    s.add(new Job(() => 3, { label: 'c', required: b }));
    expect(s.list()).toBe(
      text(
        '1 ⚠   ⚐   <Job `a`> [not done] ',
        '2     ⚐   <Job `b`> [not done] requires={1}',
        '3 ⚠   ⚐ ∞ <Job `f`> [not done] ',
        '4 ⚠   ⚐   <Job `c`> [not done] requires={2}',
      ),
    );
    await expect(s.run()).resolves.toBe(true);
    expect(s.list()).toBe(
      text(
        '1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] ',
        '2   ★ ☓   <Job `b`> !! exception => Error:boom!! requires={1}',
        '3 ⚠ ☉ ↺ ∞ <Job `f`> [not done] ',
        '4 ⚠ ☉ ☓   <Job `c`> [[ -> 3]] requires={2}',
      ),
    );
    expect(s.list({ ascii: true })).toBe(
      text(
        '1 ! :) x   <Job `a`> [[ -> 1]] ',
        '2   :( x   <Job `b`> !! exception => Error:boom!! requires={1}',
        '3 ! :) o 8 <Job `f`> [not done] ',
        '4 ! :) x   <Job `c`> [[ -> 3]] requires={2}',
      ),
    );
  });

  it('a nested scheduler: indent, entries, --end-- line with exits', () => {
    const inner = new Scheduler({ label: 'inner' });
    const i1 = inner.add(new Job(() => 1, { label: 'i1' }));
    inner.add(new Job(() => 2, { label: 'i2', required: i1 }));
    inner.add(new Job(() => 3, { label: 'i3', required: i1 }));
    // a forever job is not an exit
    inner.add(new Job(untilCancelled, { label: 'i4', forever: true, required: i1 }));
    const s = new PureScheduler({
      jobs: [new Sequence([new Job(() => 0, { label: 'o1' }), inner, new Job(() => 0, { label: 'o2' })])],
    });
    expect(s.list()).toBe(
      text(
        '1 ⚠   ⚐   <Job `o1`> [not done] ',
        '2 ⚠   ⚐   <Scheduler `inner`> [not done] requires={1} -> entries={3}',
        '3 ⚠   ⚐   > <Job `i1`> [not done] ',
        '4 ⚠   ⚐   > <Job `i2`> [not done] requires={3}',
        '5 ⚠   ⚐   > <Job `i3`> [not done] requires={3}',
        '6 ⚠   ⚐ ∞ > <Job `i4`> [not done] requires={3}',
        '2 --end-- < <Scheduler `inner`> exits={4, 5}',
        '7 ⚠   ⚐   <Job `o2`> [not done] requires={2}',
      ),
    );
  });

  it('two levels of nesting, after a run', async () => {
    const deep = new Scheduler({ label: 'deep', critical: false });
    deep.add(new Job(() => 'x', { label: 'x' }));
    deep.add(new Job(() => 'y', { label: 'y' }));
    const middle = new Scheduler({
      label: 'middle',
      jobs: [new Sequence([new Job(() => 'm', { label: 'm' }), deep])],
    });
    const s = new PureScheduler({ jobs: [middle] });
    await expect(s.run()).resolves.toBe(true);
    expect(s.list()).toBe(
      text(
        '1 ⚠ ☉ ☓   <Scheduler `middle`> [[ -> true]]  -> entries={2}',
        '2 ⚠ ☉ ☓   > <Job `m`> [[ -> m]] ',
        '3   ☉ ☓   > <Scheduler `deep`> [[ -> true]] requires={2} -> entries={4, 5}',
        '4 ⚠ ☉ ☓   >> <Job `x`> [[ -> x]] ',
        '5 ⚠ ☉ ☓   >> <Job `y`> [[ -> y]] ',
        '3 --end-- << <Scheduler `deep`> exits={4, 5}',
        '1 --end-- < <Scheduler `middle`> exits={3}',
      ),
    );
  });

  it('pads ids to the number of digits of the total: 9 jobs → 1..9, 10 → 01..10, 100 → 001..100', () => {
    const ids = (n: number) => {
      const s = new PureScheduler();
      for (let i = 0; i < n; i++) s.add(new Job(() => i, { label: `j${i}` }));
      return s
        .list()
        .trimEnd()
        .split('\n')
        .map((line) => line.split(' ')[0]);
    };
    expect(ids(9)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ids(10)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10']);
    const hundred = ids(100);
    expect(hundred[0]).toBe('001');
    expect(hundred[98]).toBe('099');
    expect(hundred[99]).toBe('100');
  });

  it('counts nested jobs in the width, and pads requires/entries/exits ids too', () => {
    const inner = new Scheduler({ label: 'inner' });
    for (let i = 1; i <= 8; i++) inner.add(new Job(() => i, { label: `i${i}` }));
    const first = new Job(() => 0, { label: 'first' });
    const s = new PureScheduler({ jobs: [new Sequence([first, inner])] });
    const lines = s.list().trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('01 ⚠   ⚐   <Job `first`> [not done] ');
    expect(lines[1]).toBe(
      '02 ⚠   ⚐   <Scheduler `inner`> [not done] requires={01} -> entries={03, 04, 05, 06, 07, 08, 09, 10}',
    );
    expect(lines[9]).toBe('10 ⚠   ⚐   > <Job `i8`> [not done] ');
    expect(lines[10]).toBe('02 --end-- < <Scheduler `inner`> exits={03, 04, 05, 06, 07, 08, 09, 10}');
  });

  it('shows the NOLABEL and textLabel() fallbacks', () => {
    class Sleepy extends AbstractJob<number> {
      override async run(): Promise<number> {
        return 1;
      }
      override textLabel(): string {
        return 'Sleep for 1 ms';
      }
    }
    function named() {
      return 1;
    }
    const s = new PureScheduler({
      jobs: [
        new Sleepy(),
        new Sleepy({ label: 'explicit' }),
        new Job(named),
        new Job(() => 2),
        new PrintJob('hi'),
      ],
    });
    expect(s.list()).toBe(
      text(
        '1 ⚠   ⚐   <Sleepy `Sleep for 1 ms`> [not done] ',
        '2 ⚠   ⚐   <Sleepy `explicit`> [not done] ',
        '3 ⚠   ⚐   <Job `Job[named]`> [not done] ',
        '4 ⚠   ⚐   <Job `Job`> [not done] ',
        '5 ⚠   ⚐   <PrintJob `NOLABEL`> [not done] ',
      ),
    );
  });
  it('shows ?? for a requirement outside the listed graph, never a stale id', () => {
    const s = new PureScheduler();
    const a = s.add(new Job(() => 1, { label: 'a' }));
    s.add(new Job(() => 2, { label: 'b', required: a }));
    expect(s.list()).toBe(
      text('1 ⚠   ⚐   <Job `a`> [not done] ', '2 ⚠   ⚐   <Job `b`> [not done] requires={1}'),
    );
    // a keeps the id 1 it was given, and b now takes that id
    s.remove(a);
    s.add(new Job(() => 3, { label: 'c' }));
    expect(s.list()).toBe(
      text('1 ⚠   ⚐   <Job `b`> [not done] requires={??}', '2 ⚠   ⚐   <Job `c`> [not done] '),
    );
  });

  it('shows the display id of an outer job required from inside a nested scheduler', () => {
    const outer = new Job(() => 0, { label: 'outer' });
    const inner = new Scheduler({
      label: 'inner',
      jobs: [new Job(() => 1, { label: 'x', required: outer })],
    });
    const s = new PureScheduler({ jobs: [outer, inner] });
    expect(s.list().split('\n')[2]).toBe('3 ⚠   ⚐   > <Job `x`> [not done] requires={1}');
    expect(s.checkCycles()).toBe(false);
  });
});

describe('list(): test_display, every state driven by real runs', () => {
  it('idle, scheduled, running, done and failed, for each (forever, critical)', async () => {
    // Window of 2 (forever jobs take no slot): the `done` jobs resolve at once, the 2
    // non-critical `boom` jobs fail at once, then the 2 finite `running` jobs hold both
    // slots, so the 2 `scheduled` jobs wait; the 4 `idle` jobs require a running job.
    // A forever job never waits for a slot, so there is no forever `scheduled` row.
    const s = new PureScheduler({ jobsWindow: 2 });
    const add = (behaviour: Behaviour, status: string, boom: boolean, forever: boolean, critical: boolean) =>
      s.add(new AJ(behaviour, { forever, critical, label: ajLabel(forever, critical, status, boom) }));
    for (const { forever, critical } of COMBINATIONS) add('resolve', 'done', false, forever, critical);
    for (const { forever, critical } of COMBINATIONS) {
      if (!critical) add('reject', 'done', true, forever, critical);
    }
    const running = COMBINATIONS.map(({ forever, critical }) =>
      add(forever ? 'forever' : 'hold', 'running', false, forever, critical),
    );
    for (const { forever, critical } of COMBINATIONS) {
      if (!forever) add('resolve', 'scheduled', false, forever, critical);
    }
    COMBINATIONS.forEach(({ forever, critical }, i) => {
      add('resolve', 'idle', false, forever, critical).requires(running[i]);
    });

    const run = s.run();
    await flush();
    expect(s.list()).toBe(
      text(
        '01 ⚠ ☉ ☓ ∞ <AJ `forever=true crit=true status=done boom=false`> [[ -> 0]] ',
        '02 ⚠ ☉ ☓   <AJ `forever=false crit=true status=done boom=false`> [[ -> 0]] ',
        '03   ☉ ☓ ∞ <AJ `forever=true crit=false status=done boom=false`> [[ -> 0]] ',
        '04   ☉ ☓   <AJ `forever=false crit=false status=done boom=false`> [[ -> 0]] ',
        '05   ★ ☓ ∞ <AJ `forever=true crit=false status=done boom=true`> !! exception => Error:boom!! ',
        '06   ★ ☓   <AJ `forever=false crit=false status=done boom=true`> !! exception => Error:boom!! ',
        '07 ⚠ ☉ ↺ ∞ <AJ `forever=true crit=true status=running boom=false`> [not done] ',
        '08 ⚠ ☉ ↺   <AJ `forever=false crit=true status=running boom=false`> [not done] ',
        '09   ☉ ↺ ∞ <AJ `forever=true crit=false status=running boom=false`> [not done] ',
        '10   ☉ ↺   <AJ `forever=false crit=false status=running boom=false`> [not done] ',
        '11 ⚠   ⚑   <AJ `forever=false crit=true status=scheduled boom=false`> [not done] ',
        '12     ⚑   <AJ `forever=false crit=false status=scheduled boom=false`> [not done] ',
        '13 ⚠   ⚐ ∞ <AJ `forever=true crit=true status=idle boom=false`> [not done] requires={07}',
        '14 ⚠   ⚐   <AJ `forever=false crit=true status=idle boom=false`> [not done] requires={08}',
        '15     ⚐ ∞ <AJ `forever=true crit=false status=idle boom=false`> [not done] requires={09}',
        '16     ⚐   <AJ `forever=false crit=false status=idle boom=false`> [not done] requires={10}',
      ),
    );
    expect(s.list({ ascii: true }).split('\n').slice(0, 16)).toEqual([
      '01 ! :) x 8 <AJ `forever=true crit=true status=done boom=false`> [[ -> 0]] ',
      '02 ! :) x   <AJ `forever=false crit=true status=done boom=false`> [[ -> 0]] ',
      '03   :) x 8 <AJ `forever=true crit=false status=done boom=false`> [[ -> 0]] ',
      '04   :) x   <AJ `forever=false crit=false status=done boom=false`> [[ -> 0]] ',
      '05   :( x 8 <AJ `forever=true crit=false status=done boom=true`> !! exception => Error:boom!! ',
      '06   :( x   <AJ `forever=false crit=false status=done boom=true`> !! exception => Error:boom!! ',
      '07 ! :) o 8 <AJ `forever=true crit=true status=running boom=false`> [not done] ',
      '08 ! :) o   <AJ `forever=false crit=true status=running boom=false`> [not done] ',
      '09   :) o 8 <AJ `forever=true crit=false status=running boom=false`> [not done] ',
      '10   :) o   <AJ `forever=false crit=false status=running boom=false`> [not done] ',
      '11 !    .   <AJ `forever=false crit=true status=scheduled boom=false`> [not done] ',
      '12      .   <AJ `forever=false crit=false status=scheduled boom=false`> [not done] ',
      '13 !    > 8 <AJ `forever=true crit=true status=idle boom=false`> [not done] requires={07}',
      '14 !    >   <AJ `forever=false crit=true status=idle boom=false`> [not done] requires={08}',
      '15      > 8 <AJ `forever=true crit=false status=idle boom=false`> [not done] requires={09}',
      '16      >   <AJ `forever=false crit=false status=idle boom=false`> [not done] requires={10}',
    ]);

    // release the finite running jobs: everything finishes, the forever ones are stopped
    for (const job of running) job.gate.resolve(0);
    await expect(run).resolves.toBe(true);
    const after = s.list().split('\n');
    expect(after[6]).toBe('07 ⚠ ☉ ↺ ∞ <AJ `forever=true crit=true status=running boom=false`> [not done] ');
    expect(after[7]).toBe('08 ⚠ ☉ ☓   <AJ `forever=false crit=true status=running boom=false`> [[ -> 0]] ');
    expect(after[8]).toBe('09   ☉ ↺ ∞ <AJ `forever=true crit=false status=running boom=false`> [not done] ');
    expect(after[10]).toBe(
      '11 ⚠ ☉ ☓   <AJ `forever=false crit=true status=scheduled boom=false`> [[ -> 0]] ',
    );
    // the idle jobs behind a forever job never started
    expect(after[12]).toBe(
      '13 ⚠   ⚐ ∞ <AJ `forever=true crit=true status=idle boom=false`> [not done] requires={07}',
    );
    expect(after[13]).toBe(
      '14 ⚠ ☉ ☓   <AJ `forever=false crit=true status=idle boom=false`> [[ -> 0]] requires={08}',
    );
  });

  it('a failed critical job, with and without forever; the others are cancelled', async () => {
    for (const forever of [true, false]) {
      // `other` is finite and never returns; a forever `bad` takes no slot, so one slot is left for `other`
      const s = new PureScheduler({ jobsWindow: forever ? 1 : 2 });
      const bad = s.add(new AJ('hold', { forever, label: ajLabel(forever, true, 'done', true) }));
      const other = s.add(new AJ('forever', { label: 'other' }));
      s.add(new AJ('resolve', { label: 'waiting' }));
      s.add(new AJ('resolve', { label: 'behind', required: other }));
      const run = s.run();
      await flush();
      const sign = forever ? '∞' : ' ';
      expect(s.list()).toBe(
        text(
          `1 ⚠ ☉ ↺ ${sign} <AJ \`${ajLabel(forever, true, 'done', true)}\`> [not done] `,
          '2 ⚠ ☉ ↺   <AJ `other`> [not done] ',
          '3 ⚠   ⚑   <AJ `waiting`> [not done] ',
          '4 ⚠   ⚐   <AJ `behind`> [not done] requires={2}',
        ),
      );
      bad.gate.reject(new Error('boom'));
      await expect(run).resolves.toBe(false);
      expect(s.list()).toBe(
        text(
          `1 ⚠ ★ ☓ ${sign} <AJ \`${ajLabel(forever, true, 'done', true)}\`> !! CRIT. EXC. => Error:boom!! `,
          // cancelled: started, not done
          '2 ⚠ ☉ ↺   <AJ `other`> [not done] ',
          // was waiting for a slot: back to idle
          '3 ⚠   ⚐   <AJ `waiting`> [not done] ',
          '4 ⚠   ⚐   <AJ `behind`> [not done] requires={2}',
        ),
      );
      expect(badge(bad, true)).toBe(`! :( x ${forever ? '8' : ' '}`);
    }
  });

  it('describes non-Error exceptions and results', async () => {
    const s = new PureScheduler();
    s.add(
      new Job(
        () => {
          throw true;
        },
        { label: 'bool', critical: false },
      ),
    );
    s.add(
      new Job(
        () => {
          throw 'text';
        },
        { label: 'string', critical: false },
      ),
    );
    class BoomError extends Error {
      override name = 'BoomError';
    }
    s.add(
      new Job(
        () => {
          throw new BoomError('bang');
        },
        { label: 'custom', critical: false },
      ),
    );
    s.add(new Job(() => ({ a: 1, b: [2, 3] }), { label: 'object' }));
    s.add(new Job(() => 'plain string', { label: 'str' }));
    s.add(new Job(() => undefined, { label: 'void' }));
    await expect(s.run()).resolves.toBe(true);
    expect(s.list()).toBe(
      text(
        '1   ★ ☓   <Job `bool`> !! exception => boolean:true!! ',
        '2   ★ ☓   <Job `string`> !! exception => string:text!! ',
        '3   ★ ☓   <Job `custom`> !! exception => BoomError:bang!! ',
        '4 ⚠ ☉ ☓   <Job `object`> [[ -> { a: 1, b: [ 2, 3 ] }]] ',
        '5 ⚠ ☉ ☓   <Job `str`> [[ -> plain string]] ',
        '6 ⚠ ☉ ☓   <Job `void`> [[ -> undefined]] ',
      ),
    );
  });
});

describe('list({ details: true })', () => {
  it('adds PrintJob details and custom details() below their lines', () => {
    class TextJob extends AbstractJob<void> {
      override async run(): Promise<void> {}
      override textLabel(): string {
        return '[[TextJob htiw-bojtxet]]';
      }
      override details(): string {
        return 'some\nmulti-line\ndetails';
      }
    }
    const s = new PureScheduler({
      jobs: [
        new Sequence([
          new PrintJob('hello', 'world', { sleep: 100, label: 'pj' }),
          new PrintJob('solo'),
          new TextJob(),
          new Job(() => 1, { label: 'no details' }),
        ]),
      ],
    });
    expect(s.list({ details: true })).toBe(
      text(
        '1 ⚠   ⚐   <PrintJob `pj`> [not done] ',
        '[+ sleep 100 ms] msg= hello...',
        '2 ⚠   ⚐   <PrintJob `NOLABEL`> [not done] requires={1}',
        'msg= solo',
        '3 ⚠   ⚐   <TextJob `[[TextJob htiw-bojtxet]]`> [not done] requires={2}',
        'some',
        'multi-line',
        'details',
        '4 ⚠   ⚐   <Job `no details`> [not done] requires={3}',
      ),
    );
    // without details: one line per job
    expect(s.list().trimEnd().split('\n')).toHaveLength(4);
  });
});

describe('listSafe()', () => {
  it('lists a cyclic graph, nested included, with path-like ids', () => {
    const s = new PureScheduler();
    const a = s.add(new Job(() => 1, { label: 'a' }));
    const b = s.add(new Job(() => 2, { label: 'b', required: a }));
    a.requires(b);
    const inner = new Scheduler({ label: 'inner', required: b });
    const x = inner.add(new Job(() => 3, { label: 'x' }));
    const y = inner.add(new Job(() => 4, { label: 'y', required: x }));
    x.requires(y);
    s.add(inner);
    s.add(new Job(() => 5, { label: 'after', required: inner }));
    expect(() => s.list()).toThrow(/cycle/);
    expect(s.listSafe()).toBe(
      text(
        '⚠   ⚐   .1 <Job `a`> requires={.2}',
        '⚠   ⚐   .2 <Job `b`> requires={.1}',
        '⚠   ⚐   .3 <Scheduler `inner`> requires={.2}',
        '⚠   ⚐   3.1 <Job `x`> requires={3.2}',
        '⚠   ⚐   3.2 <Job `y`> requires={3.1}',
        '--end-- .3',
        '⚠   ⚐   .4 <Job `after`> requires={.3}',
      ),
    );
  });

  it('numbers deeper levels 3.2.1 and shows details', () => {
    const deep = new Scheduler({ label: 'deep', jobs: [new PrintJob('deepest', { label: 'leaf' })] });
    const inner = new Scheduler({ label: 'inner', jobs: [new Job(() => 0, { label: 'x' }), deep] });
    const s = new PureScheduler({
      jobs: [new Job(() => 0, { label: 'a' }), new Job(() => 0, { label: 'b' }), inner],
    });
    expect(s.listSafe({ details: true, ascii: true })).toBe(
      text(
        '!    >   .1 <Job `a`> ',
        '!    >   .2 <Job `b`> ',
        '!    >   .3 <Scheduler `inner`> ',
        '!    >   3.1 <Job `x`> ',
        '!    >   3.2 <Scheduler `deep`> ',
        '!    >   3.2.1 <PrintJob `leaf`> ',
        'msg= deepest',
        '--end-- 3.2',
        '--end-- .3',
      ),
    );
  });

  it('shows requirements that point outside the scheduler as ??', () => {
    const stranger = new Job(() => 0, { label: 'stranger' });
    const s = new PureScheduler({ jobs: [new Job(() => 0, { label: 'a', required: stranger })] });
    expect(s.listSafe()).toBe(text('⚠   ⚐   .1 <Job `a`> requires={??}'));
  });
});

describe('views of values that cannot be made text', () => {
  it('list(), debrief(), why() and the JSON lines never throw on what a job threw or a run was aborted with', async () => {
    const odd = [
      Object.create(null),
      {
        toString() {
          throw new Error('no text');
        },
      },
      Object.assign(new Error('x'), {}),
    ];
    Object.defineProperty(odd[2], 'message', {
      get() {
        throw new Error('no message');
      },
    });
    const scheduler = new PureScheduler();
    for (const [i, value] of odd.entries()) {
      scheduler.add(
        new Job(
          () => {
            throw value;
          },
          { label: `odd ${i}`, critical: i === 2 },
        ),
      );
    }
    const lines: Record<string, unknown>[] = [];
    scheduler.onAny((event) => lines.push(eventRecord(event)));
    await scheduler.run();
    expect(scheduler.list()).toContain('odd 0');
    expect(scheduler.debrief()).toContain('non-critical: odd 1: exception [object Object]');
    const aborted = new PureScheduler({ jobs: [new Job(({ signal }) => sleep(10_000, signal))] });
    const controller = new AbortController();
    const reason = Object.create(null);
    setTimeout(() => controller.abort(reason), 10);
    await expect(aborted.run({ signal: controller.signal })).rejects.toBe(reason);
    expect(aborted.why()).toBe('ABORTED: [object Object]');
    expect(lines.filter((line) => line.type === 'job:failed')).toHaveLength(3);
  });
});

describe('debrief()', () => {
  it('----- FINE when nothing raised', async () => {
    const s = new PureScheduler({ jobs: [new Job(() => 1, { label: 'a' })] });
    expect(s.debrief()).toBe(text('----- FINE', '1 ⚠   ⚐   <Job `a`> [not done] '));
    await s.run();
    expect(s.debrief()).toBe(text('----- FINE', '1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] '));
  });

  it('a critical failure: why, listing, count, framed stack, non-critical summary', async () => {
    const s = new PureScheduler();
    const soft = s.add(
      new Job(
        () => {
          throw fixedError('soft fail');
        },
        { label: 'soft', critical: false },
      ),
    );
    const hard = s.add(
      new Job(
        () => {
          throw fixedError('hard fail');
        },
        { label: 'hard', required: soft },
      ),
    );
    s.add(new Job(() => 0, { label: 'never', required: [soft, hard] }));
    await expect(s.run()).resolves.toBe(false);
    expect(s.debrief()).toBe(
      text(
        '----- a CRITICAL job has raised an exception',
        '1   ★ ☓   <Job `soft`> !! exception => Error:soft fail!! ',
        '2 ⚠ ★ ☓   <Job `hard`> !! CRIT. EXC. => Error:hard fail!! requires={1}',
        '3 ⚠   ⚐   <Job `never`> [not done] requires={1, 2}',
        '===== 2 job(s) with an exception, including 1 critical',
        '    ********************',
        '    ******************** BEG stack for CRITICAL JOB 2 ⚠ ★ ☓   <Job `hard`>',
        '    ********************',
        '    Error: hard fail',
        '        at fake (fake.ts:1:1)',
        '    ********************',
        '    ******************** END stack for CRITICAL JOB 2 ⚠ ★ ☓   <Job `hard`>',
        '    ********************',
        'non-critical: soft: exception soft fail',
      ),
    );
    // stacks: false keeps the first line of each critical error
    const short = s.debrief({ stacks: false });
    expect(short).toContain('    Error: hard fail\n    ********************\n');
    expect(short).not.toContain('at fake');
  });

  it('only non-critical failures: FINE, no stack, one summary line each', async () => {
    const s = new PureScheduler();
    for (const label of ['n1', 'n2']) {
      s.add(
        new Job(
          () => {
            throw new Error(`${label} broke`);
          },
          { label, critical: false },
        ),
      );
    }
    await expect(s.run()).resolves.toBe(true);
    const text0 = s.debrief({ ascii: true });
    expect(text0).toBe(
      text(
        '----- FINE',
        '1   :( x   <Job `n1`> !! exception => Error:n1 broke!! ',
        '2   :( x   <Job `n2`> !! exception => Error:n2 broke!! ',
        '===== 2 job(s) with an exception, including 0 critical',
        'non-critical: n1: exception n1 broke',
        'non-critical: n2: exception n2 broke',
      ),
    );
    expect(text0).not.toContain('BEG stack');
  });

  it('TIMED OUT after … on a global timeout', async () => {
    vi.useFakeTimers();
    try {
      const s = new PureScheduler({ timeout: 5000, jobs: [new Job(untilCancelled, { label: 'slow' })] });
      const run = s.run();
      await vi.advanceTimersByTimeAsync(5000);
      await expect(run).resolves.toBe(false);
      expect(s.debrief()).toBe(text('----- TIMED OUT after 5000 ms', '1 ⚠ ☉ ↺   <Job `slow`> [not done] '));
      // a cancelled job has no exception: no ===== section
      expect(s.debrief()).not.toContain('=====');
    } finally {
      vi.useRealTimers();
    }
  });

  it('passes details through to the listing', async () => {
    const s = new PureScheduler({ jobs: [new PrintJob('hi', { label: 'p', write: () => {} })] });
    await s.run();
    expect(s.debrief({ details: true })).toBe(
      text('----- FINE', '1 ⚠ ☉ ☓   <PrintJob `p`> [[ -> undefined]] ', 'msg= hi'),
    );
  });
});
