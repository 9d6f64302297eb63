/**
 * The asynciojobs tests that only drew pictures or printed listings (test_graph1,
 * test_png_easy1/2, test_nesting3), with assertions on what they produce.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attachVerboseRenderer, PureScheduler, Scheduler, Sequence } from '../src/index.js';
import { diamond, drive, pipes, SleepJob, sl, timedRun } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-catalog-'));
});
afterAll(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

describe('asynciojobs catalog: pictures and listings', () => {
  it('test_graph1: a 3-job sequence lists, runs in 1.5 s and draws', async () => {
    vi.useFakeTimers();
    const s = new PureScheduler({
      jobs: [new Sequence([sl(250, 'begin'), sl(1000, 'middle'), sl(250, 'end')])],
    });
    expect(s.size).toBe(3);
    expect(s.list()).toBe(
      [
        '1 ⚠   ⚐   <Job `begin`> [not done] ',
        '2 ⚠   ⚐   <Job `middle`> [not done] requires={1}',
        '3 ⚠   ⚐   <Job `end`> [not done] requires={2}',
        '',
      ].join('\n'),
    );
    expect(s.list({ details: true })).toBe(s.list());
    const { ok, elapsed } = await timedRun(s);
    expect(ok).toBe(true);
    expect(elapsed).toBe(1500);
    vi.useRealTimers();
    const svg = await readFile(await s.exportAsSvgfile(join(dir, 'graph1')), 'utf8');
    for (const label of ['1: begin', '2: middle', '3: end']) expect(svg).toContain(label);
  });

  it.each([
    ['test_png_easy1', () => diamond(600, 'middle', { label: 'diamond' }), 4],
    ['test_png_easy2', () => pipes(600, 'middle', 2, { label: 'pipes' }), 4],
  ])('%s: a job, a nested scheduler, a job — cluster edges and picture', async (_name, nested, inner) => {
    const first = new SleepJob(200, { label: 'test_easy' });
    const cluster = nested();
    const last = new SleepJob(200);
    const s = new Scheduler({ critical: false, jobs: [new Sequence([first, cluster, last])] });
    const dot = s.toDot();
    expect(dot).toContain('subgraph cluster_2{');
    expect(dot).toMatch(/\n1 -> \d+ \[lhead=cluster_2\];\n/);
    expect(dot).toMatch(new RegExp(`\\n\\d+ -> ${inner + 3} \\[ltail=cluster_2\\];\\n`));
    const svg = await readFile(await s.exportAsSvgfile(join(dir, _name)), 'utf8');
    expect(svg).toContain('1: test_easy');
    expect(svg).toContain('<title>cluster_2</title>');
  });

  it('test_nesting3: verbose lines of a verbose nested scheduler appear once, sanitize and run in 2 s', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const j1 = sl(500, 'mainj1');
      const sub2 = diamond(500, 'sub2', { label: 'sub_sched2', verbose: true, required: j1 });
      const sub3 = diamond(1000, 'sub3', { label: 'sub_sched3', required: j1 });
      const j4 = sl(500, 'mainj4');
      j4.requires(sub2, sub3);
      const main = new PureScheduler({ jobs: [j1, sub2, sub3, j4] });
      const renderer: string[] = [];
      attachVerboseRenderer(main, { write: (text) => renderer.push(text) });
      expect(main.sanitize()).toBe(true);
      const started = Date.now();
      expect(await drive(main.run())).toBe(true);
      expect(Date.now() - started).toBe(2000);
      // sub_sched2 printed its own lines on stdout; the top renderer did not repeat them
      expect(lines.join('')).toContain('STARTING: 1 ⚠ ☉ ↺   <SleepJob `top sub21`>');
      expect(renderer.join('')).not.toContain('top sub21');
      expect(renderer.join('')).toContain('top sub31');
    } finally {
      write.mockRestore();
      vi.useRealTimers();
    }
  });
});
