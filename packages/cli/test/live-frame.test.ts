/**
 * The live view's frame (live-view.ts, live-state.ts) from events, on a fake clock: the summary,
 * one line per running job with its last output line (control sequences removed), nested jobs
 * under their scheduler, the failures kept, and a frame that always fits the terminal (wide
 * characters included).
 */

import { Job, PureScheduler, Scheduler, type SchedulerEvent } from '@jobgraph/core';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { LiveState, MAX_SHOWN, printable } from '../src/cli/live-state.js';
import { liveFrame, windowSize, wrappedRows } from '../src/cli/live-view.js';

const plain = {
  red: (t: string) => t,
  green: (t: string) => t,
  bold: (t: string) => t,
  dim: (t: string) => t,
};
const T0 = 1_000_000;

function event(
  type: string,
  fields: Record<string, unknown>,
  time = T0,
  path: unknown[] = [],
): SchedulerEvent {
  return { type, time, path, ...fields } as unknown as SchedulerEvent;
}

describe('the live frame', () => {
  it('a summary, a line per running job (last output line, nested under its scheduler, ∞ for forever), failures', () => {
    const a = new Job(() => 1, { label: 'measure on fit01' });
    const forever = new Job(() => 1, { label: 'capture', forever: true });
    const inner = new Job(() => 1, { label: 'inner step' });
    const nested = new Scheduler({ label: 'nested', jobs: [inner] });
    const broken = new Job(() => 1, { label: 'broken' });
    const waiting = new Job(() => 1, { label: 'later' });
    const top = new PureScheduler({ jobs: [a, forever, nested, broken, waiting] });
    const state = new LiveState();
    for (const e of [
      event('run:start', { scheduler: top, jobs: 5 }),
      event('job:start', { job: a, attempt: 1 }, T0 + 1_000),
      event('job:start', { job: forever, attempt: 1 }),
      event('job:start', { job: nested, attempt: 1 }),
      event('job:start', { job: inner, attempt: 1 }, T0, [nested]),
      event('cmd:line', { job: a, node: 'n', stream: 'stdout', line: '\u001b[31msample\u001b[0m 12\r\n' }),
      event('job:start', { job: broken, attempt: 1 }),
      event('job:failed', {
        job: broken,
        error: new Error('Command failed\nwith exit code 2'),
        critical: false,
      }),
    ])
      state.apply(e);
    const frame = liveFrame(state, T0 + 65_000, { columns: 100, rows: 20 }, plain).split('\n');
    expect(frame[0]).toMatch(/^jobgraph ▕.{20}▏ 0\/4 done · 4 running · 1 waiting · 1 failed · 1:05$/);
    const rows = frame.slice(1);
    expect(rows[0]).toMatch(/^. \S+ +measure on fit01 .* 1:04 {2}sample 12$/);
    expect(rows[1]).toMatch(/^∞ \S+ +capture/);
    expect(rows[2]).toMatch(/^. \S+ +nested/);
    expect(rows[3]).toMatch(/^ {2}. \S+ +inner step/);
    expect(frame.at(-1)).toMatch(/^✖ \S+ +broken: Command failed with exit code 2$/);
  });

  it('fits any terminal: cut to its width (wide characters counted as two), running jobs cut to its height', () => {
    const top = new PureScheduler({});
    const jobs = Array.from(
      { length: 60 },
      (_, i) => new Job(() => i, { label: `job number ${i} with a long label` }),
    );
    const state = new LiveState();
    state.apply(event('run:start', { scheduler: top, jobs: 60 }));
    for (const job of jobs) {
      state.apply(event('job:start', { job, attempt: 1 }));
      state.apply(
        event('cmd:line', {
          job,
          node: 'n',
          stream: 'stdout',
          line: '測試輸出：一個很長的中文行，寬字符佔兩列'.repeat(3),
        }),
      );
    }
    for (const [columns, rows] of [
      [40, 10],
      [80, 24],
      [132, 50],
    ] as const) {
      const frame = liveFrame(state, T0 + 5_000, { columns, rows }, plain);
      const lines = frame.split('\n');
      expect(lines.length).toBeLessThanOrEqual(rows - 1);
      for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(columns);
      expect(lines.at(-1)).toContain('60 running in all');
      expect(wrappedRows(frame, columns)).toBe(lines.length);
    }
  });

  it('a very short terminal with many failures: the frame still fits (summary first), labels without control codes', () => {
    const top = new PureScheduler({});
    const state = new LiveState();
    state.apply(event('run:start', { scheduler: top, jobs: 10 }));
    for (let i = 0; i < 8; i++) {
      const job = new Job(() => i, { label: `bad\u001b[2J${i}` });
      state.apply(event('job:start', { job, attempt: 1 }));
      state.apply(event('job:failed', { job, error: new Error('no'), critical: false }));
    }
    const running = new Job(() => 1, { label: 'still \u001b[31mrunning' });
    state.apply(event('job:start', { job: running, attempt: 1 }));
    for (const rows of [3, 5, 8]) {
      const lines = liveFrame(state, T0, { columns: 50, rows }, plain).split('\n');
      expect(lines.length).toBeLessThanOrEqual(rows - 1);
      expect(lines[0]).toMatch(/^jobgraph /);
      for (const line of lines) expect(line).not.toContain('\u001b');
    }
  });

  it("a progress bar's state shows on the job's row until its line ends", () => {
    const job = new Job(() => 1, { label: 'download' });
    const top = new PureScheduler({ jobs: [job] });
    const state = new LiveState();
    state.apply(event('run:start', { scheduler: top, jobs: 1 }));
    state.apply(event('job:start', { job, attempt: 1 }));
    state.apply(event('cmd:line', { job, node: 'n', stream: 'stdout', line: 'starting\n' }));
    const row = () => liveFrame(state, T0, { columns: 100, rows: 10 }, plain).split('\n')[1] ?? '';
    expect(row()).toMatch(/starting$/);
    state.apply(event('cmd:progress', { job, node: 'n', stream: 'stderr', text: '56% [===>  ] 1.2MB/s' }));
    expect(row()).toMatch(/56% \[===> {2}\] 1\.2MB\/s$/);
    state.apply(event('cmd:line', { job, node: 'n', stream: 'stderr', line: '\r100% [======]\n' }));
    expect(row()).toMatch(/100% \[======\]$/);
  });

  it('printable(): control sequences and characters out, tabs as spaces', () => {
    expect(printable('\u001b[1;32mok\u001b[0m\tdone\u0007\r')).toBe('ok done');
    expect(printable('\u001b]0;title\u0007text')).toBe('text');
    // a DCS string (a sixel image) or an APC one: their text was shown without its ESC
    expect(printable('a\u001bPq#0;2;0;0;0#1~~\u001b\\b\u001b_Gf=32;AAAA\u001b\\c')).toBe('abc');
  });

  it('the summary keeps its counts and time on 80 columns, the bar giving way; cancelled jobs are no progress; a forever job that failed counts', () => {
    const jobs = Array.from({ length: 120 }, (_, i) => new Job(() => 1, { label: `j${i}` }));
    const capture = new Job(() => 1, { label: 'capture', forever: true });
    const top = new PureScheduler({ jobs: [...jobs, capture] });
    const state = new LiveState();
    state.apply(event('run:start', { scheduler: top, jobs: 121 }));
    state.apply(event('job:start', { job: capture, attempt: 1 }));
    state.apply(event('job:failed', { job: capture, error: new Error('capture died'), critical: false }));
    for (const job of jobs.slice(0, 78)) {
      state.apply(event('job:start', { job, attempt: 1 }));
      state.apply(event('job:done', { job, result: 0 }));
    }
    for (const job of jobs.slice(78, 88)) state.apply(event('job:start', { job, attempt: 1 }));
    for (const job of jobs.slice(88)) {
      state.apply(event('job:start', { job, attempt: 1 }));
      state.apply(event('job:failed', { job, error: new Error('x'), critical: false }));
    }
    const summary = (columns: number) =>
      liveFrame(state, T0 + 754_000, { columns, rows: 30 }, plain).split('\n')[0];
    expect(summary(80)).toMatch(
      /^jobgraph ▕[█░]{5,20}▏ 78\/120 done · 10 running · 0 waiting · 33 failed · 12:34$/,
    );
    expect(summary(60)).toBe('jobgraph 78/120 done · 10 running · 0 waiting · 33 failed ·…');
    expect(summary(200)).toMatch(/^jobgraph ▕[█░]{20}▏ /);
    // a stopped run: the bar shows what ended of itself, not the cancelled jobs
    for (const job of jobs.slice(78, 88)) state.apply(event('job:cancelled', { job, reason: 'Ctrl-C' }));
    const bar = (summary(120) ?? '').match(/▕([█░]+)▏/)?.[1] ?? '';
    expect(bar).toContain('░');
  });

  it('a terminal that says 0 × 0 gets a frame all the same; ids are printable; a gateway chain keeps its target', () => {
    const through = Object.assign(new Job(() => 1, { label: 'measure' }), {
      node: 'root@10.231.1.2->root@10.231.2.2',
    });
    const top = new PureScheduler({ jobs: [through] });
    const state = new LiveState(1, () => 'red\u001b[31mRED\u001b[0m\u001b[3A\ntwo');
    state.apply(event('run:start', { scheduler: top, jobs: 1 }));
    state.apply(event('job:start', { job: through, attempt: 1 }));
    const frame = liveFrame(state, T0, { columns: 90, rows: 10 }, plain);
    expect(frame).not.toContain('\u001b');
    expect(frame.split('\n')).toHaveLength(2);
    expect(frame.split('\n')[1]).toContain('…->root@10.231.2.2');
    // with lines under the row (--live-lines 3), the row shows the command, not the last line twice
    const lines = new LiveState(3);
    lines.apply(event('run:start', { scheduler: top, jobs: 1 }));
    lines.apply(event('job:start', { job: through, attempt: 1 }));
    lines.apply(event('cmd:start', { job: through, node: 'n', command: 'make', index: 1 }));
    for (const text of ['one', 'two', 'three'])
      lines.apply(event('cmd:line', { job: through, node: 'n', stream: 'stdout', line: text }));
    const shown = liveFrame(lines, T0, { columns: 90, rows: 10 }, plain, 3);
    expect(shown.match(/three/g)).toHaveLength(1);
    expect(shown.split('\n')[1]).toMatch(/\$ make$/);
    const zero = { columns: 0, rows: 0, getWindowSize: () => [0, 0] } as unknown as NodeJS.WriteStream;
    expect(windowSize(zero)).toEqual([80, 24]);
  });

  it('printable(): a progress bar drawn with \\r shows its latest state; a huge line is kept short, no character cut in half', () => {
    expect(printable('\rdownloading   3%\rdownloading  56%\rdownloading 100%')).toBe('downloading 100%');
    expect(printable('done 50%\r\n')).toBe('done 50%');
    expect(printable('x'.repeat(3_000_000))).toHaveLength(MAX_SHOWN);
    const rockets = printable('🚀'.repeat(3_000));
    expect(rockets.length).toBeLessThanOrEqual(MAX_SHOWN);
    expect(rockets).toBe('🚀'.repeat(rockets.length / 2));
  });

  it('lines of emoji, geometric shapes or CJK never take more columns than the terminal has (else a line wraps and frames stay on screen)', () => {
    const top = new PureScheduler({});
    const texts = [
      '🚀'.repeat(40),
      '◽'.repeat(70),
      'a漢'.repeat(30),
      `ok ${'✅'.repeat(30)}`,
      'ｆｕｌｌ'.repeat(20),
    ];
    const state = new LiveState(2);
    state.apply(event('run:start', { scheduler: top, jobs: texts.length }));
    for (const text of texts) {
      const job = new Job(() => 1, { label: text });
      state.apply(event('job:start', { job, attempt: 1 }));
      state.apply(event('cmd:line', { job, node: 'n', stream: 'stdout', line: text }));
      state.apply(event('cmd:line', { job, node: 'n', stream: 'stdout', line: `${text}${text}` }));
    }
    for (const columns of [20, 21, 33, 80]) {
      for (const linesUnder of [1, 2]) {
        const frame = liveFrame(state, T0, { columns, rows: 30 }, plain, linesUnder);
        for (const line of frame.split('\n')) expect(stringWidth(line), line).toBeLessThanOrEqual(columns);
        expect(wrappedRows(frame, columns)).toBe(frame.split('\n').length);
      }
    }
  });

  it('columns line up with wide labels; a nested label has the room its indent leaves; jobs shown by the ids given', () => {
    const top = new PureScheduler({});
    const wide = new Job(() => 1, { label: '測試' });
    const narrow = new Job(() => 1, { label: 'abcd' });
    const inner = new Job(() => 1, { label: 'work at depth one' });
    const nested = new Scheduler({ label: 'n', jobs: [inner] });
    const ids = new Map<unknown, string>([
      [wide, 'w'],
      [narrow, 'x'],
      [nested, 'nest'],
    ]);
    const state = new LiveState(1, (job) => ids.get(job));
    state.apply(event('run:start', { scheduler: top, jobs: 3 }));
    for (const job of [wide, narrow, nested]) state.apply(event('job:start', { job, attempt: 1 }));
    state.apply(event('job:start', { job: inner, attempt: 1 }, T0, [nested]));
    const rows = liveFrame(state, T0 + 3_000, { columns: 90, rows: 20 }, plain)
      .split('\n')
      .slice(1);
    // the clock of each row starts at the same column
    const clockAt = (row: string) => stringWidth(row.slice(0, row.indexOf('0:03')));
    expect(new Set(rows.map(clockAt)).size).toBe(1);
    expect(rows[0]).toMatch(/^. w {4}測試 /);
    expect(rows[1]).toMatch(/^. x {4}abcd /);
    expect(rows[2]).toMatch(/^. nest n /);
    expect(rows[3]).toContain('work at depth one');
  });
});
