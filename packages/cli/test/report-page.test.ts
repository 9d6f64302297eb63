/**
 * The report page from events, without a browser: what the model makes of a log (retries, a log
 * cut before the end of the run, nested schedulers' events left out), and that nothing a run
 * prints or names becomes markup in the page.
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Scheduler } from '@jobgraph/core';
import { describe, expect, it } from 'vitest';
import { recordRun, writeReport } from '../src/index.js';
import { reportHtml } from '../src/report/html.js';
import type { LogRecord } from '../src/report/log-file.js';
import { MAX_GRAPH_JOBS, reportPictures } from '../src/report/pictures.js';
import { LAST_LINES, MAX_LINE_CHARS, runModel } from '../src/report/run-model.js';
import { escapeXml } from '../src/report/text.js';
import { timelineSvg } from '../src/report/timeline.js';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, 0) + ms).toISOString();
const job = (id: string, label = id) => ({ id, label });

/** A run: `a` retried once then done, `b` (on a gateway's target) failed critically; `c` never ran. */
function records(): LogRecord[] {
  return [
    {
      time: at(0),
      type: 'run:plan',
      title: 'exp.yaml',
      jobs: [
        { id: 'a', label: 'a', node: 'root@n1', required: [], critical: true, forever: false },
        {
          id: 'b',
          label: '<script>alert(1)</script>',
          node: 'gw->root@n2',
          required: ['a'],
          critical: true,
          forever: false,
        },
        { id: 'c', label: 'c', node: 'root@n1', required: ['b'], critical: true, forever: false },
      ],
    },
    { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: 3 },
    { time: at(10), type: 'job:start', job: job('a'), node: 'root@n1', attempt: 1 },
    { time: at(20), type: 'cmd:start', job: job('a'), node: 'root@n1', command: 'true', index: 1 },
    { time: at(300), type: 'job:retry', job: job('a'), attempt: 2, error: 'first try' },
    { time: at(300), type: 'job:start', job: job('a'), attempt: 2 },
    { time: at(900), type: 'job:done', job: job('a'), result: 0 },
    { time: at(950), type: 'ssh:connect', node: 'gw->root@n2', direct: false },
    { time: at(1000), type: 'job:start', job: job('b', '<script>alert(1)</script>'), attempt: 1 },
    {
      time: at(1010),
      type: 'cmd:start',
      job: job('b'),
      node: 'gw->root@n2',
      command: 'echo "</pre><img src=x>"',
      index: 1,
    },
    {
      time: at(1020),
      type: 'cmd:line',
      job: job('b'),
      node: 'gw->root@n2',
      stream: 'stdout',
      line: '<img src=x onerror=alert(2)>\n',
    },
    {
      time: at(1500),
      type: 'cmd:done',
      job: job('b'),
      node: 'gw->root@n2',
      command: 'x',
      index: 1,
      exitCode: 3,
      signal: null,
      ok: false,
    },
    {
      time: at(1500),
      type: 'job:failed',
      job: job('b'),
      error: 'Command failed & <b>broke</b>',
      errorCode: 'ERR_COMMAND_FAILED',
      critical: true,
    },
    { time: at(1500), type: 'run:abort', scheduler: 'scheduler', reason: 'x', job: job('b') },
    { time: at(1600), type: 'job:start', job: { id: 'inner', label: 'inner' }, attempt: 1, path: ['nested'] },
    { time: at(1700), type: 'ssh:close', node: 'gw->root@n2', lost: true, error: 'keepalive' },
    {
      time: at(1800),
      type: 'run:done',
      scheduler: 'scheduler',
      ok: false,
      why: 'a CRITICAL job has raised an exception',
    },
  ] as LogRecord[];
}

describe('the report model and page', () => {
  it('models attempts, commands, the failure that ended the run, connections; leaves nested events out', () => {
    const model = runModel(records());
    expect(model.title).toBe('exp.yaml');
    expect(model.ok).toBe(false);
    expect(model.end - model.start).toBe(1800);
    expect(model.jobs.map((j) => [j.id, j.outcome])).toEqual([
      ['a', 'done'],
      ['b', 'failed'],
      ['c', 'never-ran'],
    ]);
    const [a, b] = model.jobs;
    expect(a?.attempts).toEqual([
      { attempt: 1, start: model.start + 10, end: model.start + 300, error: 'first try' },
      { attempt: 2, start: model.start + 300, end: model.start + 900 },
    ]);
    expect(b).toMatchObject({ endedRun: true, errorCode: 'ERR_COMMAND_FAILED' });
    expect(b?.commands[0]).toMatchObject({ exitCode: 3, ok: false });
    expect(model.connections.map((m) => m.kind)).toEqual(['connect', 'lost']);
  });

  it('a command left open when its attempt ended is ended with it, and its own later cmd:done says why', () => {
    const model = runModel(records());
    // `a`'s first attempt started a command that the log never ended (logs before commands told their end)
    expect(model.jobs.find((j) => j.id === 'a')?.commands[0]).toMatchObject({
      end: model.start + 300,
      ok: false,
      error: 'stopped with its job',
    });
    const cancelled = runModel([
      { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: 1 },
      { time: at(1), type: 'job:start', job: job('x'), attempt: 1 },
      { time: at(2), type: 'cmd:start', job: job('x'), command: 'sleep 9', index: 1 },
      { time: at(5), type: 'job:cancelled', job: job('x'), reason: 'interrupted (Ctrl-C)' },
      {
        time: at(7),
        type: 'cmd:done',
        job: job('x'),
        command: 'sleep 9',
        index: 1,
        exitCode: null,
        signal: null,
        ok: false,
        error: 'interrupted (Ctrl-C)',
      },
      { time: at(9), type: 'run:done', scheduler: 'scheduler', ok: false, why: 'interrupted' },
    ] as LogRecord[]);
    const [command] = cancelled.jobs[0]?.commands ?? [];
    expect(command).toMatchObject({ end: cancelled.start + 7, ok: false, error: 'interrupted (Ctrl-C)' });
    // a command that ended well just as its job was cancelled: its own end is what shows
    const late = runModel([
      { time: at(0), type: 'job:start', job: job('y'), attempt: 1 },
      { time: at(2), type: 'cmd:start', job: job('y'), command: 'true', index: 1 },
      { time: at(5), type: 'job:cancelled', job: job('y'), reason: 'interrupted (Ctrl-C)' },
      {
        time: at(6),
        type: 'cmd:done',
        job: job('y'),
        command: 'true',
        index: 1,
        exitCode: 0,
        signal: null,
        ok: true,
      },
    ] as LogRecord[]);
    expect(late.jobs[0]?.commands[0]).toMatchObject({ ok: true, exitCode: 0 });
    expect(late.jobs[0]?.commands[0]?.error).toBeUndefined();
    expect(reportHtml(cancelled, { graph: '', topology: '' })).toContain('stopped: interrupted (Ctrl-C)');
  });

  it('the time axis has distinct ticks for a run of 0 ms, 26 ms or 10 hours; a long emoji name is cut between characters', () => {
    const ticks = (ms: number, node = 'n') => {
      const model = runModel([
        { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: 1 },
        { time: at(0), type: 'job:start', job: job('x'), node, attempt: 1 },
        { time: at(ms), type: 'job:done', job: job('x'), result: 0 },
        { time: at(ms), type: 'run:done', scheduler: 'scheduler', ok: true, why: 'FINE' },
      ] as LogRecord[]);
      const svg = timelineSvg(model);
      return { labels: [...svg.matchAll(/>([\d.]+) s<\/text>/g)].map((m) => m[1]), svg };
    };
    for (const ms of [0, 26, 36_000_000]) {
      const { labels } = ticks(ms);
      expect(labels.length, `${ms} ms`).toBeGreaterThanOrEqual(4);
      expect(new Set(labels).size, `${ms} ms: ${labels.join(' ')}`).toBe(labels.length);
    }
    expect(ticks(26).labels.slice(0, 3)).toEqual(['0.000', '0.005', '0.010']);
    const { svg } = ticks(10, `xx${'🚀'.repeat(30)}`);
    expect(svg).not.toContain('\ufffd');
    expect(svg).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('past 2,000 jobs the graph is left out, and the page says why (its layout took most of a minute)', async () => {
    const plan = (count: number) =>
      runModel([
        {
          time: at(0),
          type: 'run:plan',
          jobs: Array.from({ length: count }, (_, i) => ({ id: `j${i}`, label: `j${i}`, required: [] })),
        },
        { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: count },
        { time: at(5), type: 'run:done', scheduler: 'scheduler', ok: true, why: 'FINE' },
      ] as LogRecord[]);
    const big = plan(MAX_GRAPH_JOBS + 1);
    const pictures = await reportPictures(big);
    expect(pictures.graph).toBe('');
    expect(reportHtml(big, pictures)).toContain(
      `No job graph: ${MAX_GRAPH_JOBS + 1} jobs, it is drawn for at most ${MAX_GRAPH_JOBS}.`,
    );
    expect((await reportPictures(plan(3))).graph).toContain('<svg');
  });

  it('a job printing lines of megabytes: the page keeps 2,000 characters of each, saying how many more (a page of 168 MB before)', () => {
    const piece = 'x'.repeat(1024 * 1024);
    const log: LogRecord[] = [
      { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: 1 },
      { time: at(10), type: 'job:start', job: job('a'), attempt: 1 },
      ...Array.from(
        { length: 25 },
        (_, i): LogRecord => ({
          time: at(20 + i),
          type: 'cmd:line',
          job: job('a'),
          stream: 'stdout',
          line: piece,
        }),
      ),
      { time: at(90), type: 'job:done', job: job('a'), result: 0 },
    ];
    const model = runModel(log);
    const lines = model.jobs.find((j) => j.id === 'a')?.lines ?? [];
    expect(lines).toHaveLength(LAST_LINES);
    for (const kept of lines)
      expect(kept.line).toBe(
        `${'x'.repeat(MAX_LINE_CHARS)}… (${piece.length - MAX_LINE_CHARS} more characters)`,
      );
    expect(reportHtml(model, { graph: '', topology: '' }).length).toBeLessThan(
      LAST_LINES * MAX_LINE_CHARS + 200_000,
    );
  });

  it('a log cut before the run ended: the model says so, the timeline ends at the last event', () => {
    const cut = records().slice(0, 10);
    const model = runModel(cut);
    expect(model.ok).toBeUndefined();
    expect(model.jobs.find((j) => j.id === 'b')?.outcome).toBe('running');
    expect(reportHtml(model, { graph: '', topology: '' })).toContain('The log ends before the run did');
  });

  it('a plan line from elsewhere (fields missing or of another type): the page is made all the same', () => {
    const odd = [
      {
        time: at(0),
        type: 'run:plan',
        jobs: [{ id: 'x', label: 42, required: 'a' }, { label: 'no id' }, 'junk', null],
      },
      { time: at(0), type: 'run:start', scheduler: 'scheduler', jobs: 1 },
      { time: at(5), type: 'job:start', job: { id: 7 }, attempt: 1 },
      { time: at(9), type: 'run:done', scheduler: 'scheduler', ok: true, why: 'FINE' },
    ] as LogRecord[];
    const model = runModel(odd);
    expect(model.jobs).toMatchObject([{ id: 'x', label: 'x', required: [] }]);
    expect(reportHtml(model, { graph: '', topology: '' })).toContain('<strong>Succeeded</strong>');
  });

  it('nothing from the run becomes markup: labels, commands, output and errors are text', () => {
    const model = runModel(records());
    const page = reportHtml(model, { graph: '', topology: '' });
    const svg = timelineSvg(model);
    for (const text of [page, svg]) {
      expect(text).not.toContain('<script>alert');
      expect(text).not.toContain('<img src=x');
      expect(text).not.toContain('<b>broke</b>');
    }
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('Command failed &amp; &lt;b&gt;broke&lt;/b&gt;');
    // the only scripts are the page's own two
    expect(page.match(/<script/g)).toHaveLength(2);
    // one bar per job that ran (a and b; c never ran; the nested job is not one of the run's)
    expect(svg.match(/<g class="job /g)).toHaveLength(2);
  });

  it('recordRun + writeReport in a script: the page of the run, jobs by their numbers', async () => {
    const scheduler = new Scheduler({
      jobs: [new Job(() => 1, { label: 'one' }), new Job(() => 2, { label: 'two' })],
    });
    await expect(writeReport(scheduler, tmpdir())).rejects.toThrow(
      'call recordRun(scheduler) before its run()',
    );
    recordRun(scheduler);
    expect(await scheduler.run()).toBe(true);
    const dir = join(tmpdir(), `jobgraph-write-report-${process.pid}`);
    try {
      const path = await writeReport(scheduler, dir);
      expect(path).toBe(join(dir, 'report.html'));
      const page = await readFile(path, 'utf8');
      expect(page).toContain('<strong>Succeeded</strong>');
      expect(page.match(/<g class="job /g)).toHaveLength(2);
      expect(page).toContain('data-job="1"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('escapeXml', () => {
  it('markup characters as entities; control characters (not allowed in XML) as their pictures, tab and line ends kept', () => {
    expect(escapeXml('a\x00b\x1b[31mred\x7f\t\r\n<&>"\'')).toBe('a␀b␛[31mred␡\t\r\n&lt;&amp;&gt;&quot;&#39;');
  });
});
