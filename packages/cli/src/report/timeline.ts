/**
 * The timeline of a run as SVG: one row per node, one bar per job on its node's row (jobs that
 * overlap in time take lanes of the row), coloured by outcome, with its commands as a strip along
 * its bottom, its retries as ticks, the failure that ended the run marked, and the node's
 * connections as marks on the row. Each job bar carries `data-job` for the page's script.
 */
import type { ConnectionMark, JobModel, RunModel } from './run-model.js';
import { escapeXml } from './text.js';

const LABELS = 250; // the column of node names
const PLOT = 900;
const RIGHT = 30;
const AXIS = 28;
const LANE = 24;
const BAR = 18;
const ROW_GAP = 10;
const NO_NODE = '(no node)';

/** The SVG of the timeline; an empty string when no job ran. */
export function timelineSvg(model: RunModel): string {
  const ran = model.jobs.filter((job) => job.attempts.length > 0);
  if (ran.length === 0) return '';
  const span = Math.max(model.end - model.start, 1);
  const x = (time: number) =>
    LABELS + ((Math.min(Math.max(time, model.start), model.end) - model.start) / span) * PLOT;
  const rows = rowsOf(ran);
  const parts: string[] = [];
  let y = AXIS;
  for (const row of rows) {
    const height = row.lanes.length * LANE + ROW_GAP;
    parts.push(
      `<g class="row" data-node="${escapeXml(row.node)}">`,
      `<rect class="row-band" x="0" y="${y}" width="${LABELS + PLOT + RIGHT}" height="${height}"/>`,
      `<text class="node-name" x="8" y="${y + LANE / 2 + 5}"><title>${escapeXml(row.node)}</title>${escapeXml(shorten(row.node, 34))}</text>`,
    );
    for (const mark of model.connections.filter((m) => m.node === row.node)) {
      parts.push(connectionMarkSvg(mark, x(mark.time), y, height));
    }
    for (const [lane, jobs] of row.lanes.entries()) {
      for (const job of jobs) parts.push(jobBar(job, x, y + lane * LANE + (LANE - BAR) / 2, model.end));
    }
    parts.push('</g>');
    y += height;
  }
  const width = LABELS + PLOT + RIGHT;
  return [
    // as wide as the page allows (the viewBox scales it), never narrower than a readable minimum (CSS)
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="100%" viewBox="0 0 ${width} ${y + 4}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="timeline of the run">`,
    axis(span),
    ...parts,
    '</svg>',
  ].join('\n');
}

interface Row {
  readonly node: string;
  readonly lanes: JobModel[][];
}

/** The rows: nodes in order of their first job's start; in each, jobs in lanes that never overlap. */
function rowsOf(jobs: readonly JobModel[]): Row[] {
  const byStart = [...jobs].sort((a, b) => startOf(a) - startOf(b));
  const rows = new Map<string, { lanes: JobModel[][]; ends: number[] }>();
  for (const job of byStart) {
    const node = job.node ?? NO_NODE;
    let row = rows.get(node);
    if (row === undefined) {
      row = { lanes: [], ends: [] };
      rows.set(node, row);
    }
    const start = startOf(job);
    let lane = row.ends.findIndex((end) => end <= start);
    if (lane < 0) {
      lane = row.lanes.length;
      row.lanes.push([]);
      row.ends.push(0);
    }
    row.lanes[lane]?.push(job);
    row.ends[lane] = endOf(job) ?? Number.POSITIVE_INFINITY;
  }
  return [...rows].map(([node, { lanes }]) => ({ node, lanes }));
}

function startOf(job: JobModel): number {
  return job.attempts[0]?.start ?? 0;
}

function endOf(job: JobModel): number | undefined {
  return job.attempts.at(-1)?.end;
}

function jobBar(job: JobModel, x: (time: number) => number, top: number, runEnd: number): string {
  const start = startOf(job);
  const end = endOf(job) ?? runEnd;
  const left = x(start);
  const width = Math.max(x(end) - left, 2);
  const classes = [
    'job',
    `outcome-${job.outcome}`,
    ...(job.forever ? ['forever'] : []),
    ...(job.endedRun ? ['ended-run'] : []),
  ];
  const duration = ((end - start) / 1000).toFixed(3);
  const tip = `${job.id}: ${job.label} — ${job.outcome}, ${duration} s${job.attempts.length > 1 ? `, ${job.attempts.length} attempts` : ''}${job.node === undefined ? '' : ` on ${job.node}`}`;
  const parts = [
    `<g class="${classes.join(' ')}" data-job="${escapeXml(job.id)}" tabindex="0" role="button">`,
    `<title>${escapeXml(tip)}</title>`,
    `<rect class="bar" x="${left.toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${BAR}" rx="3"/>`,
  ];
  for (const command of job.commands) {
    const from = x(command.start);
    const to = x(command.end ?? end);
    const state = command.ok === undefined ? 'cmd-running' : command.ok ? 'cmd-ok' : 'cmd-failed';
    parts.push(
      `<rect class="cmd ${state}" x="${from.toFixed(1)}" y="${top + BAR - 5}" width="${Math.max(to - from, 1).toFixed(1)}" height="4"><title>${escapeXml(`${command.index}. ${command.label}`)}</title></rect>`,
    );
  }
  for (const attempt of job.attempts.slice(1)) {
    const at = x(attempt.start);
    parts.push(
      `<line class="retry" x1="${at.toFixed(1)}" y1="${top - 2}" x2="${at.toFixed(1)}" y2="${top + BAR + 2}"><title>${escapeXml(`attempt ${attempt.attempt}`)}</title></line>`,
    );
  }
  if (width > 40) {
    parts.push(
      `<text class="bar-label" x="${(left + 4).toFixed(1)}" y="${top + 12}">${escapeXml(shorten(job.label, Math.floor((width - 8) / 6.5)))}</text>`,
    );
  }
  if (job.endedRun) {
    parts.push(
      `<text class="ended-run-mark" x="${(left + width + 3).toFixed(1)}" y="${top + 13}"><title>this failure ended the run</title>✖</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

function connectionMarkSvg(mark: ConnectionMark, at: number, top: number, height: number): string {
  const title = `${mark.kind === 'connect' ? 'connected' : mark.kind === 'close' ? 'closed' : mark.kind === 'lost' ? 'connection lost' : 'could not connect'}${mark.detail ? `: ${mark.detail}` : ''}`;
  return `<line class="conn conn-${mark.kind}" x1="${at.toFixed(1)}" y1="${top + 1}" x2="${at.toFixed(1)}" y2="${top + height - 1}"><title>${escapeXml(title)}</title></line>`;
}

/** The time axis: seconds since the start, at a round step. */
function axis(span: number): string {
  // a run of 0 ms still gets an axis (of 1 ms)
  const seconds = Math.max(span, 1) / 1000;
  const step = niceStep(seconds / 8);
  // as many decimals as the step needs: 0.005 s steps are not all "0.01 s"
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const parts = [
    `<g class="axis"><line x1="${LABELS}" y1="${AXIS - 6}" x2="${LABELS + PLOT}" y2="${AXIS - 6}"/>`,
  ];
  // ticks counted, not summed: 0.1 added ten times is not 1
  for (let tick = 0; tick * step <= seconds * (1 + 1e-9); tick += 1) {
    const t = tick * step;
    const at = LABELS + (t / seconds) * PLOT;
    if (at > LABELS + PLOT + 1) break;
    const label = t.toFixed(decimals);
    parts.push(
      `<line x1="${at.toFixed(1)}" y1="${AXIS - 10}" x2="${at.toFixed(1)}" y2="${AXIS - 6}"/><text x="${at.toFixed(1)}" y="${AXIS - 13}">${label} s</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

/** `text` in at most `max` characters, by code points: an emoji is never cut in half (a U+FFFD). */
function shorten(text: string, max: number): string {
  if (max <= 1) return '';
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}
