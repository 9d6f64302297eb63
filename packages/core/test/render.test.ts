/**
 * Graph files: exportAsDotfile / exportAsSvgfile / exportAsPngfile, rendered in-process
 * (WASM Graphviz, then resvg), and their errors.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreErrorCode,
  dotToSvg,
  exportGraph,
  Job,
  JobGraphError,
  type JobOptions,
  PureScheduler,
  Scheduler,
  Sequence,
  svgToPng,
  toDot,
  withExtension,
} from '../src/index.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const job = (label: string, options: JobOptions = {}) => new Job(() => label, { label, ...options });

/** start → sub(alpha → {beta, gamma}) → finish, with a forever monitor. */
function sample(): PureScheduler {
  const alpha = job('alpha');
  const sub = new Scheduler({
    label: 'sub',
    critical: false,
    jobs: [alpha, job('beta', { required: alpha }), job('gamma', { required: alpha, critical: false })],
  });
  return new PureScheduler({
    jobs: [job('monitor', { forever: true }), new Sequence([job('start'), sub, job('finish')])],
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<JobGraphError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(JobGraphError);
    return error as JobGraphError;
  }
  throw new Error('expected a rejection');
}

describe('withExtension()', () => {
  it('adds the extension unless the path already has it (any case)', () => {
    expect(withExtension('/x/graph', 'svg')).toBe('/x/graph.svg');
    expect(withExtension('/x/graph.svg', 'svg')).toBe('/x/graph.svg');
    expect(withExtension('/x/graph.SVG', 'svg')).toBe('/x/graph.SVG');
    expect(withExtension('/x/graph.dot', 'png')).toBe('/x/graph.dot.png');
    expect(withExtension('/x.d/graph', 'dot')).toBe('/x.d/graph.dot');
    // a name that is only the extension has none for Node's extname (it made '.svg.svg')
    expect(withExtension('.svg', 'svg')).toBe('.svg');
    expect(withExtension('/x/.PNG', 'png')).toBe('/x/.PNG');
  });
});

describe('exportAsDotfile()', () => {
  it('writes toDot() to path.dot and returns that path', async () => {
    const s = sample();
    const written = await s.exportAsDotfile(join(dir, 'plain'));
    expect(written).toBe(join(dir, 'plain.dot'));
    expect(await readFile(written, 'utf8')).toBe(s.toDot());
  });

  it('keeps an extension given, and overwrites', async () => {
    const path = join(dir, 'given.dot');
    const s = sample();
    expect(await s.exportAsDotfile(path)).toBe(path);
    const small = new PureScheduler({ jobs: [job('only')] });
    expect(await small.exportAsDotfile(path)).toBe(path);
    expect(await readFile(path, 'utf8')).toBe(small.toDot());
  });
});

describe('exportAsSvgfile()', () => {
  it('renders an SVG holding every label', async () => {
    const s = sample();
    const written = await s.exportAsSvgfile(join(dir, 'picture'));
    expect(written).toBe(join(dir, 'picture.svg'));
    const svg = await readFile(written, 'utf8');
    expect(svg).toMatch(/<svg[\s>]/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const label of [
      '1: monitor',
      '2: start',
      '3: sub',
      '4: alpha',
      '5: beta',
      '6: gamma',
      '7: finish',
    ]) {
      expect(svg).toContain(`>${label}</text>`);
    }
    // the cluster is drawn
    expect(svg).toContain('cluster_3');
  });

  it('keeps an extension given', async () => {
    const path = join(dir, 'named.svg');
    expect(await sample().exportAsSvgfile(path)).toBe(path);
    expect((await stat(path)).size).toBeGreaterThan(0);
  });

  it('escapes labels as XML', async () => {
    const s = new PureScheduler({ jobs: [job('a < b & "c"')] });
    const svg = await readFile(await s.exportAsSvgfile(join(dir, 'escaped')), 'utf8');
    expect(svg).toContain('1: a &lt; b &amp; &quot;c&quot;');
  });
});

describe('exportAsPngfile()', () => {
  it('renders a PNG of a plausible size', async () => {
    const written = await sample().exportAsPngfile(join(dir, 'picture'));
    expect(written).toBe(join(dir, 'picture.png'));
    const png = await readFile(written);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(50);
    expect(width).toBeLessThan(10_000);
    expect(height).toBeGreaterThan(50);
    expect(height).toBeLessThan(10_000);
  });

  it('keeps an extension given', async () => {
    const path = join(dir, 'named.png');
    expect(await sample().exportAsPngfile(path)).toBe(path);
  });
});

describe('rendering errors', () => {
  it('dotToSvg rejects bad DOT with ERR_GRAPH_RENDER', async () => {
    const error = await rejection(dotToSvg('digraph {{{ this is not dot'));
    expect(error.code).toBe(CoreErrorCode.GRAPH_RENDER);
    expect(error.message).toMatch(/Graphviz/);
    // the line of the caller's text (the font defaults inserted made it line 5), on one line
    const oneLine = await rejection(dotToSvg('digraph { a -> }'));
    expect(oneLine.message).toMatch(/syntax error in line 1 near '}'$/);
    const third = await rejection(dotToSvg('digraph {\n  a -> b\n  c -> }\n'));
    expect(third.message).toMatch(/syntax error in line 3 near/);
    expect(third.message).not.toContain('\n');
  });

  it('dotToSvg still works after a failure', async () => {
    await rejection(dotToSvg('not a graph at all ->'));
    const svg = await dotToSvg('digraph { a -> b }');
    expect(svg).toContain('</svg>');
  });

  it('svgToPng refuses a scale that is no number above 0 and at most 20 (a million aborted the process)', async () => {
    const svg = await dotToSvg('digraph { a -> b }');
    for (const scale of [1e6, 0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await rejection(svgToPng(svg, { scale }));
      expect(error.code, String(scale)).toBe('ERR_INVALID_OPTION');
    }
    expect((await svgToPng(svg, { scale: 2 })).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a label with control characters makes a valid SVG (they are shown as their pictures)', async () => {
    const s = new PureScheduler({
      jobs: [new Job(() => 1, { label: 'bell\u0007 nul\u0000 esc\u001b[31m' })],
    });
    const svg = await dotToSvg(toDot(s));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: their absence is the point
    expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(svg).toContain('bell\u2407 nul\u2400 esc\u241b[31m');
    expect((await svgToPng(svg)).length).toBeGreaterThan(0);
  });

  it('svgToPng rejects something that is not SVG with ERR_GRAPH_RENDER', async () => {
    const error = await rejection(svgToPng('this is not svg'));
    expect(error.code).toBe(CoreErrorCode.GRAPH_RENDER);
  });

  for (const format of ['dot', 'svg', 'png'] as const) {
    it(`writing ${format} into a missing directory rejects, naming the file`, async () => {
      const target = join(dir, 'no', 'such', 'dir', 'graph');
      const s = sample();
      const exporter = {
        dot: () => s.exportAsDotfile(target),
        svg: () => s.exportAsSvgfile(target),
        png: () => s.exportAsPngfile(target),
      }[format];
      const error = await rejection(exporter());
      expect(error.code).toBe(CoreErrorCode.GRAPH_RENDER);
      expect(error.message).toContain(`${target}.${format}`);
      expect(error.cause).toMatchObject({ code: 'ENOENT' });
    });
  }

  it('exportGraph with bad DOT rejects with ERR_GRAPH_RENDER and writes nothing', async () => {
    const target = join(dir, 'bad');
    const error = await rejection(exportGraph('digraph {{{', target, 'svg'));
    expect(error.code).toBe(CoreErrorCode.GRAPH_RENDER);
    await expect(stat(`${target}.svg`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('fonts of rendered pictures', () => {
  it('lays out and draws text in a monospace font whose metrics Graphviz knows, so labels fit their boxes', async () => {
    const { dotToSvg } = await import('../src/index.js');
    const svg = await dotToSvg(
      'digraph asynciojobs{\n1 [label="1: a fairly long label for a job",shape="box"]\n}\n',
    );
    const families = [...svg.matchAll(/font-family="([^"]*)"/g)].map((match) => match[1]);
    expect(families.length).toBeGreaterThan(0);
    expect(new Set(families)).toEqual(new Set(['Courier,monospace']));
  });
});
