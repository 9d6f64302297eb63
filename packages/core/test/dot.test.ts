/**
 * toDot(): the asynciojobs `dot_format` (reference section B-DOT; test_png, test_graph2,
 * test_order1, test_nesting_sequence).
 */
import { describe, expect, it } from 'vitest';
import {
  AbstractJob,
  CycleError,
  Job,
  type JobContext,
  type JobOptions,
  PureScheduler,
  Scheduler,
  Sequence,
  toDot,
} from '../src/index.js';

/** The lines of a DOT text, each ending with a newline. */
const text = (...lines: string[]) => lines.map((line) => `${line}\n`).join('');

/** A job labelled `label` that resolves at once. */
const job = (label: string, options: JobOptions = {}) => new Job(() => label, { label, ...options });

/** asynciojobs diamond_scheduler: top → {left, right} → bottom. */
function diamond(label: string, options: JobOptions = {}): Scheduler {
  const top = job(`top ${label}`);
  const left = job(`left ${label}`, { required: top });
  const right = job(`right ${label}`, { required: top });
  const bottom = job(`bottom ${label}`, { required: [left, right] });
  return new Scheduler({ jobs: [top, left, right, bottom], label, ...options });
}

/** asynciojobs pipes: `count` independent chains top{i} → bot{i}. */
function pipes(label: string, count = 2, options: JobOptions = {}): Scheduler {
  const s = new Scheduler({ label, ...options });
  for (let i = 1; i <= count; i++) {
    const top = s.add(job(`top${i}`));
    s.add(job(`bot${i}`, { required: top }));
  }
  return s;
}

describe('toDot()', () => {
  it('reproduces the B-DOT example exactly', () => {
    const monitor = job('monitor', { forever: true });
    const s1 = job('s1');
    const s3 = job('s3', { critical: false, required: s1 });
    const hi = job('say "hi"', { required: s1 });
    const sub = new Scheduler({ label: 'sub', critical: false, jobs: [s1, s3, hi] });
    const init = job('init', { critical: false });
    const end = job('end');
    const main = new Scheduler({ jobs: [monitor, new Sequence([init, sub, end])] });
    const expected = text(
      'digraph asynciojobs{',
      'compound=true;',
      'graph [];',
      '1 [style="rounded,dashed",label="1: monitor",shape="box",color="red",penwidth="2"]',
      '2 [style="rounded",label="2: init",shape="box",penwidth="0.5"]',
      'subgraph cluster_3{',
      'compound=true;',
      'graph [style="",label="3: sub",shape="box",penwidth="0.5"];',
      '4 [style="rounded",label="4: s1",shape="box",color="red",penwidth="2"]',
      '5 [style="rounded",label="5: s3",shape="box",penwidth="0.5"]',
      '4 -> 5;',
      '6 [style="rounded",label="6: say \\"hi\\"",shape="box",color="red",penwidth="2"]',
      '4 -> 6;',
      '}',
      '2 -> 4 [lhead=cluster_3];',
      '7 [style="rounded",label="7: end",shape="box",color="red",penwidth="2"]',
      '5 -> 7 [ltail=cluster_3];',
      '}',
    );
    expect(main.toDot()).toBe(expected);
    // the function form gives the same text, and a PureScheduler top as well
    expect(toDot(main)).toBe(expected);
    const jobs = [...main.jobs];
    for (const j of jobs) main.remove(j);
    expect(new PureScheduler({ jobs }).toDot()).toBe(expected);
  });

  it('test_png_simple: a cluster → cluster edge carries lhead and ltail, space-separated', () => {
    const start = job('start');
    const end = job('end');
    const s = new Scheduler({ jobs: [new Sequence([start, diamond('diamond'), pipes('pipes'), end])] });
    const dot = s.toDot();
    const edges = dot.split('\n').filter((line) => line.includes('->'));
    expect(edges).toEqual([
      '03 -> 04;',
      '03 -> 05;',
      '04 -> 06;',
      '05 -> 06;',
      '01 -> 03 [lhead=cluster_02];',
      '08 -> 09;',
      '10 -> 11;',
      '06 -> 08 [lhead=cluster_07 ltail=cluster_02];',
      '09 -> 12 [ltail=cluster_07];',
    ]);
    expect(dot).toContain('subgraph cluster_02{\ncompound=true;\ngraph [style="",label="02: diamond"');
    expect(dot).toContain('subgraph cluster_07{\ncompound=true;\ngraph [style="",label="07: pipes"');
    expect(dot).toMatch(
      /\n12 \[style="rounded",label="12: end",shape="box",color="red",penwidth="2"\]\n09 -> 12 \[ltail=cluster_07\];\n\}\n$/,
    );
  });

  it('test_png_styles1: regular, critical, forever, both', () => {
    const s = new Scheduler({
      jobs: [
        new Sequence([
          job('regular', { critical: false, forever: false }),
          job('critical', { critical: true, forever: false }),
          job('forever', { critical: false, forever: true }),
          job('both', { critical: true, forever: true }),
        ]),
      ],
    });
    expect(s.toDot()).toBe(
      text(
        'digraph asynciojobs{',
        'compound=true;',
        'graph [];',
        '1 [style="rounded",label="1: regular",shape="box",penwidth="0.5"]',
        '2 [style="rounded",label="2: critical",shape="box",color="red",penwidth="2"]',
        '1 -> 2;',
        '3 [style="rounded,dashed",label="3: forever",shape="box",penwidth="0.5"]',
        '2 -> 3;',
        '4 [style="rounded,dashed",label="4: both",shape="box",color="red",penwidth="2"]',
        '3 -> 4;',
        '}',
      ),
    );
  });

  it('test_png_styles2: cluster styles', () => {
    const s = new Scheduler({
      jobs: [
        new Sequence([
          pipes('label-none', 6, { critical: false, forever: false }),
          diamond('label-critical', { critical: true, forever: false }),
          diamond('label-forever', { critical: false, forever: true }),
          diamond('label-both', { critical: true, forever: true }),
        ]),
      ],
    });
    const dot = s.toDot();
    // 4 clusters + 12 + 3 × 4 jobs = 28 nodes: 2-digit ids
    expect(dot.split('\n').filter((line) => line.startsWith('graph ['))).toEqual([
      'graph [];',
      'graph [style="",label="01: label-none",shape="box",penwidth="0.5"];',
      'graph [style="",label="14: label-critical",shape="box",color="red",penwidth="2"];',
      'graph [style="dashed",label="19: label-forever",shape="box",penwidth="0.5"];',
      'graph [style="dashed",label="24: label-both",shape="box",color="red",penwidth="2"];',
    ]);
    expect(dot.split('\n').filter((line) => line.includes('cluster_'))).toEqual([
      'subgraph cluster_01{',
      'subgraph cluster_14{',
      // 6 exits: the middle one is index (6-1)>>1 = 2, the third pipe's bottom; a diamond has one entry
      '07 -> 15 [lhead=cluster_14 ltail=cluster_01];',
      'subgraph cluster_19{',
      '18 -> 20 [lhead=cluster_19 ltail=cluster_14];',
      'subgraph cluster_24{',
      '23 -> 25 [lhead=cluster_24 ltail=cluster_19];',
    ]);
    // the jobs inside the clusters keep their own style
    expect(dot).toContain('02 [style="rounded",label="02: top1",shape="box",color="red",penwidth="2"]');
    expect(dot.match(/style="rounded"/g)).toHaveLength(24);
  });

  it('keeps multi-line labels raw and escapes quotes and backslashes', () => {
    const sub = new Scheduler({
      label: 'sub-scheduler\non several lines',
      critical: true,
      forever: true,
      jobs: [new Sequence([job('x'), job('y')])],
    });
    const s = new Scheduler({ jobs: [new Sequence([job('job-label'), sub, job('"quoted" \\ back')])] });
    const dot = s.toDot();
    expect(dot).toContain(
      'graph [style="dashed",label="2: sub-scheduler\non several lines",shape="box",color="red",penwidth="2"];',
    );
    expect(dot).toContain(
      '5 [style="rounded",label="5: \\"quoted\\" \\\\ back",shape="box",color="red",penwidth="2"]',
    );
    expect(dot).toContain('4 -> 5 [ltail=cluster_2];');
  });

  it('test_graph2: graphLabel() beats label and has no id prefix; textLabel() gets one', () => {
    const reverse = (value: string) => [...value].reverse().join('');
    class TextJob extends AbstractJob<void> {
      readonly text: string;
      constructor(text: string, options: JobOptions = {}) {
        super(options);
        this.text = text;
      }
      override async run(): Promise<void> {}
      override textLabel(): string {
        return `[[TextJob ${reverse(this.text)}]]`;
      }
      override details(): string {
        return `details for TextJob ${this.text}\non several lines`;
      }
    }
    class GraphJob extends AbstractJob<void> {
      readonly text: string;
      constructor(text: string, options: JobOptions = {}) {
        super(options);
        this.text = text;
      }
      override async run(): Promise<void> {}
      override graphLabel(): string {
        return `[[GraphJob\n${reverse(this.text)}]]`;
      }
    }
    const s = new PureScheduler({
      jobs: [
        new Sequence([
          new TextJob('textjob-with'),
          new TextJob('textjob-with', { label: 'TextLabel' }),
          new GraphJob('graphjob-with'),
          new GraphJob('graphjob-with', { label: 'GraphLabel' }),
        ]),
      ],
    });
    expect(s.size).toBe(4);
    const labels = [...s.toDot().matchAll(/label="([^"]*)"/g)].map((match) => match[1]);
    expect(labels).toEqual([
      '1: [[TextJob htiw-bojtxet]]',
      '2: TextLabel',
      '[[GraphJob\nhtiw-bojhparg]]',
      '[[GraphJob\nhtiw-bojhparg]]',
    ]);
    // the listing uses the text label, not the graph label
    expect(s.list().split('\n')[3]).toBe('4 ⚠   ⚐   <GraphJob `GraphLabel`> [not done] requires={3}');
    expect(s.list().split('\n')[2]).toBe('3 ⚠   ⚐   <GraphJob `NOLABEL`> [not done] requires={2}');
  });

  it('test_order1: sub-schedulers filled after the Sequence exists, ids 01..19', () => {
    const subs = [1, 2, 3, 4].map((i) => new Scheduler({ label: `sub${i}` }));
    const [sub1, sub2, sub3, sub4] = subs as [Scheduler, Scheduler, Scheduler, Scheduler];
    const s = new Scheduler({ jobs: [new Sequence([job('top'), sub1, job('middle'), sub2, sub3, sub4])] });
    const fill = (sub: Scheduler, numbers: number[]) => {
      for (const n of numbers) sub.add(job(`${n}`));
    };
    fill(sub1, [1, 2, 3]);
    fill(sub2, [4, 5, 6]);
    fill(sub3, [7, 8, 9]);
    fill(sub4, [10, 11, 12, 13]);
    const dot = s.toDot();
    const nodes = [...dot.matchAll(/label="(\d+): ([^"]*)"/g)].map((match) => `${match[1]}=${match[2]}`);
    expect(nodes).toEqual([
      '01=top',
      '02=sub1',
      '03=1',
      '04=2',
      '05=3',
      '06=middle',
      '07=sub2',
      '08=4',
      '09=5',
      '10=6',
      '11=sub3',
      '12=7',
      '13=8',
      '14=9',
      '15=sub4',
      '16=10',
      '17=11',
      '18=12',
      '19=13',
    ]);
    expect(dot.split('\n').filter((line) => line.includes('->'))).toEqual([
      '01 -> 04 [lhead=cluster_02];',
      '04 -> 06 [ltail=cluster_02];',
      '06 -> 09 [lhead=cluster_07];',
      '09 -> 13 [lhead=cluster_11 ltail=cluster_07];',
      '13 -> 17 [lhead=cluster_15 ltail=cluster_11];',
    ]);
  });

  it('follows the middle entry/exit into nested-nested clusters', () => {
    const deep = new Scheduler({ label: 'deep', jobs: [job('d1'), job('d2'), job('d3')] });
    const inner = new Scheduler({ label: 'inner', jobs: [deep] });
    const s = new PureScheduler({ jobs: [new Sequence([job('before'), inner, job('after')])] });
    const dot = s.toDot();
    expect(dot).toContain('subgraph cluster_2{\ncompound=true;\ngraph [style="",label="2: inner"');
    expect(dot).toContain('subgraph cluster_3{\ncompound=true;\ngraph [style="",label="3: deep"');
    // d2 (id 5) is the middle of d1, d2, d3
    expect(dot.split('\n').filter((line) => line.includes('->'))).toEqual([
      '1 -> 5 [lhead=cluster_2];',
      '5 -> 7 [ltail=cluster_2];',
    ]);
  });

  it('falls back to a forever exit when a cluster has no other', () => {
    const loop = job('loop', { forever: true });
    const sub = new Scheduler({ label: 'sub', jobs: [loop] });
    const s = new PureScheduler({ jobs: [new Sequence([sub, job('after')])] });
    expect(s.toDot()).toContain('2 -> 3 [ltail=cluster_1];');
  });

  it('draws an empty cluster with an invisible point for its edges, and leaves out requirements outside', () => {
    const empty = new Scheduler({ label: 'empty' });
    const stranger = job('stranger');
    const s = new PureScheduler({
      jobs: [new Sequence([job('a'), empty, job('b')]), job('c', { required: stranger })],
    });
    expect(s.toDot()).toBe(
      text(
        'digraph asynciojobs{',
        'compound=true;',
        'graph [];',
        '1 [style="rounded",label="1: a",shape="box",color="red",penwidth="2"]',
        'subgraph cluster_2{',
        'compound=true;',
        'graph [style="",label="2: empty",shape="box",color="red",penwidth="2"];',
        '"2_empty" [shape="point",style="invis",label=""]',
        '}',
        '1 -> "2_empty" [lhead=cluster_2];',
        '3 [style="rounded",label="3: b",shape="box",color="red",penwidth="2"]',
        '"2_empty" -> 3 [ltail=cluster_2];',
        '4 [style="rounded",label="4: c",shape="box",color="red",penwidth="2"]',
        '}',
      ),
    );
  });

  it('an empty scheduler gives an empty digraph', () => {
    expect(new PureScheduler().toDot()).toBe('digraph asynciojobs{\ncompound=true;\ngraph [];\n}\n');
  });

  it('throws CycleError on a cycle', () => {
    const s = new PureScheduler();
    const a = s.add(job('a'));
    a.requires(s.add(job('b', { required: a })));
    expect(() => s.toDot()).toThrow(CycleError);
  });

  it('uses the same ids as list()', async () => {
    const s = new PureScheduler();
    const c = s.add(job('c'));
    const b = s.add(job('b'));
    c.requires(b);
    s.add(
      new (class Later extends AbstractJob<void> {
        override async run(_ctx: JobContext): Promise<void> {}
      })({ label: 'later', required: c }),
    );
    expect(s.toDot()).toContain('1 [style="rounded",label="1: b"');
    expect(s.list().split('\n')[0]).toMatch(/^1 .*`b`/);
    await s.run();
    expect(s.toDot()).toContain('3 [style="rounded",label="3: later"');
  });
});
