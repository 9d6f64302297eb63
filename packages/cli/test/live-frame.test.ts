/**
 * The live view's frame (live-view.ts, live-state.ts) from events, on a fake clock: the summary,
 * one line per running job with its last output line (control sequences removed), nested jobs
 * under their scheduler, the failures kept, and a frame that always fits the terminal (wide
 * characters included).
 */

import { Job, PureScheduler, Scheduler, type SchedulerEvent } from '@jobgraph/core';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { LiveState, printable } from '../src/cli/live-state.js';
import { liveFrame, wrappedRows } from '../src/cli/live-view.js';

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

  it('printable(): control sequences and characters out, tabs as spaces', () => {
    expect(printable('\u001b[1;32mok\u001b[0m\tdone\u0007\r')).toBe('ok done');
    expect(printable('\u001b]0;title\u0007text')).toBe('text');
  });
});
