/**
 * The report page: one self-contained HTML file (styles, script and pictures inline, nothing
 * fetched when it is viewed) with the run's outcome and numbers, its timeline, the job graph
 * coloured by outcome, the topology, a table of the jobs, and each job's details — commands,
 * exit codes, durations, last lines of output, error — shown when a job is clicked (in the
 * timeline, the graph or the table).
 */
import { MAX_GRAPH_JOBS } from './pictures.js';
import type { CommandModel, JobModel, RunModel } from './run-model.js';
import { escapeXml as esc, scriptJson } from './text.js';
import { timelineSvg } from './timeline.js';

/** What the page shows besides the model: the pictures, already drawn. */
export interface ReportPictures {
  readonly graph: string;
  readonly topology: string;
}

/** The page, as text. */
export function reportHtml(model: RunModel, pictures: ReportPictures): string {
  const title = `jobgraph report: ${model.title}`;
  const timeline = timelineSvg(model);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
${outcomeLine(model)}
${numbers(model)}
${model.resumed.length > 0 ? `<p class="note">A resumed run: ${model.resumed.length} job(s) done in the earlier run were left out (${esc(model.resumed.join(', '))}).</p>` : ''}
</header>
<main>
<div class="content">
<section id="timeline"><h2>Timeline</h2>
${timeline === '' ? '<p class="empty">No job ran.</p>' : `<div class="scroll">${timeline}</div>${LEGEND}`}
</section>
<section id="graph"><h2>Job graph</h2>
${pictures.graph === '' ? `<p class="empty">${model.jobs.length > MAX_GRAPH_JOBS ? `No job graph: ${model.jobs.length} jobs, it is drawn for at most ${MAX_GRAPH_JOBS}.` : 'No job graph.'}</p>` : `<div class="scroll picture">${pictures.graph}</div>`}
</section>
<section id="jobs"><h2>Jobs</h2>
<div class="scroll">${jobTable(model)}</div>
</section>
<section id="topology"><h2>Topology</h2>
${pictures.topology === '' ? '<p class="empty">No SSH node.</p>' : `<div class="scroll picture">${pictures.topology}</div>`}
</section>
</div>
<aside id="details" aria-live="polite">
<p class="hint" id="details-hint">Click a job — in the timeline, the graph or the table — to see its details.</p>
${model.jobs.map((job) => jobDetails(job, model.start)).join('\n')}
</aside>
</main>
<script type="application/json" id="graph-jobs">${scriptJson(model.jobs.map((job) => job.id))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function outcomeLine(model: RunModel): string {
  const when = new Date(model.start).toISOString();
  const duration = seconds(model.end - model.start);
  if (model.ok === undefined) {
    return `<p class="outcome unfinished">The log ends before the run did — started ${esc(when)}, ${duration} logged.</p>`;
  }
  const verdict = model.ok ? 'Succeeded' : 'Failed';
  return `<p class="outcome ${model.ok ? 'ok' : 'failed'}"><strong>${verdict}</strong> — started ${esc(when)}, ran ${duration}.${model.why === '' ? '' : ` <span class="why">${esc(model.why)}</span>`}</p>`;
}

function numbers(model: RunModel): string {
  const count = (outcome: JobModel['outcome']) => model.jobs.filter((job) => job.outcome === outcome).length;
  const commands = model.jobs.flatMap((job) => job.commands);
  const bytes = commands.reduce((sum, command) => sum + (command.bytes ?? 0), 0);
  const retries = model.jobs.reduce((sum, job) => sum + Math.max(job.attempts.length - 1, 0), 0);
  const lost = model.connections.filter((mark) => mark.kind === 'lost' || mark.kind === 'failed').length;
  const items: [string, string, string][] = [
    ['jobs', String(model.jobs.length), ''],
    ['done', String(count('done')), 'done'],
    ['failed', String(count('failed')), 'failed'],
    ['cancelled', String(count('cancelled')), 'cancelled'],
    ['never ran', String(count('never-ran')), 'never-ran'],
    ['commands', `${commands.filter((c) => c.ok === true).length} ok / ${commands.length}`, ''],
    ['retries', String(retries), ''],
    ['transferred', bytesText(bytes), ''],
    ['connections lost or refused', String(lost), lost > 0 ? 'failed' : ''],
  ];
  return `<dl class="numbers">${items
    .map(
      ([name, value, kind]) =>
        `<div class="number ${kind}"><dt>${esc(name)}</dt><dd>${esc(value)}</dd></div>`,
    )
    .join('')}</dl>`;
}

function jobTable(model: RunModel): string {
  if (model.jobs.length === 0) return '<p class="empty">No job.</p>';
  const rows = model.jobs.map((job) => {
    const start = job.attempts[0]?.start;
    const end = job.attempts.at(-1)?.end;
    const duration = start !== undefined && end !== undefined ? seconds(end - start) : '';
    const what = job.outcome === 'done' ? resultText(job.result) : (job.error ?? '');
    return `<tr data-job="${esc(job.id)}" tabindex="0" class="outcome-${job.outcome}"><td>${esc(job.id)}</td><td class="label"><div>${esc(job.label)}</div></td><td>${esc(job.node ?? '')}</td><td><span class="badge outcome-${job.outcome}">${outcomeName(job)}</span></td><td>${job.attempts.length}</td><td>${duration}</td><td class="what"><div>${esc(what)}</div></td></tr>`;
  });
  return `<table class="jobs"><thead><tr><th>id</th><th>label</th><th>node</th><th>outcome</th><th>attempts</th><th>duration</th><th>result or error</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function jobDetails(job: JobModel, runStart: number): string {
  const parts = [
    `<article class="job-details" data-details="${esc(job.id)}" hidden>`,
    `<h3>${esc(job.id)}: ${esc(job.label)}</h3>`,
    '<dl class="facts">',
    fact('outcome', `<span class="badge outcome-${job.outcome}">${outcomeName(job)}</span>`),
    fact('node', esc(job.node ?? '—')),
    fact('critical', job.critical ? 'yes' : 'no'),
    ...(job.forever ? [fact('forever', 'yes')] : []),
    ...(job.required.length > 0 ? [fact('requires', esc(job.required.join(', ')))] : []),
    ...(job.outcome === 'done' ? [fact('result', `<code>${esc(resultText(job.result))}</code>`)] : []),
    '</dl>',
  ];
  if (job.error !== undefined) {
    parts.push(
      `<p class="error">${job.errorCode === undefined ? '' : `<code>${esc(job.errorCode)}</code> `}${esc(job.error)}</p>`,
    );
  }
  if (job.attempts.length > 0) {
    parts.push('<h4>Attempts</h4><ol class="attempts">');
    for (const attempt of job.attempts) {
      const span = attempt.end === undefined ? 'not ended' : seconds(attempt.end - attempt.start);
      parts.push(
        `<li>at +${seconds(attempt.start - runStart)}, ${span}${attempt.error ? `: <span class="error">${esc(attempt.error)}</span>` : ''}</li>`,
      );
    }
    parts.push('</ol>');
  }
  if (job.commands.length > 0) {
    parts.push(
      '<h4>Commands</h4><div class="scroll"><table class="commands"><thead><tr><th>#</th><th>command</th><th>exit</th><th>duration</th><th>bytes</th></tr></thead><tbody>',
      ...job.commands.map(commandRow),
      '</tbody></table></div>',
    );
  }
  if (job.messages.length > 0) {
    parts.push(
      '<h4>Messages</h4><ul>',
      ...job.messages.map((message) => `<li>${esc(message)}</li>`),
      '</ul>',
    );
  }
  if (job.lines.length > 0) {
    parts.push(
      `<h4>Last lines of output</h4><pre class="output">${job.lines
        .map(
          (line) =>
            `<span class="${line.stream === 'stderr' ? 'stderr' : 'stdout'}">${esc(line.line)}</span>`,
        )
        .join('\n')}</pre>`,
    );
  }
  parts.push('</article>');
  return parts.join('\n');
}

function commandRow(command: CommandModel): string {
  const exit =
    command.end === undefined
      ? 'running'
      : command.error !== undefined
        ? `stopped: ${command.error}`
        : command.signal
          ? `signal ${command.signal}`
          : command.exitCode === null || command.exitCode === undefined
            ? '—'
            : String(command.exitCode);
  const duration = command.end === undefined ? '' : seconds(command.end - command.start);
  const state = command.ok === undefined ? '' : command.ok ? 'cmd-ok' : 'cmd-failed';
  return `<tr class="${state}"><td>${command.index}</td><td><code>${esc(command.label)}</code></td><td>${esc(exit)}</td><td>${duration}</td><td>${command.bytes === undefined ? '' : bytesText(command.bytes)}</td></tr>`;
}

function fact(name: string, html: string): string {
  return `<dt>${esc(name)}</dt><dd>${html}</dd>`;
}

function outcomeName(job: JobModel): string {
  return job.outcome === 'never-ran' ? 'never ran' : job.outcome;
}

function resultText(result: unknown): string {
  if (result === undefined) return '';
  return typeof result === 'string' ? result : JSON.stringify(result);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const LEGEND = `<p class="legend"><span class="swatch outcome-done"></span>done <span class="swatch outcome-failed"></span>failed <span class="swatch outcome-cancelled"></span>cancelled <span class="swatch outcome-running"></span>still running <span class="swatch cmd-ok"></span>command ok <span class="swatch cmd-failed"></span>command failed · ✖ the failure that ended the run · a tick across a bar: a retry · lines across a row: connections (green: opened, grey: closed, red: lost or refused)</p>`;

const STYLE = `
:root { --done: #9be09b; --failed: #f5a3b5; --cancelled: #efe08a; --running: #a8d4f0; --never: #ffffff; --line: #d0d4da; font-family: system-ui, sans-serif; color: #1d2330; }
body { margin: 0; background: #f6f7f9; }
header { padding: 16px 24px; background: #ffffff; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.35rem; margin: 0 0 6px; }
h2 { font-size: 1.1rem; margin: 0 0 8px; }
h3 { font-size: 1.05rem; margin: 0 0 8px; word-break: break-word; }
h4 { font-size: 0.95rem; margin: 14px 0 4px; }
.outcome { margin: 4px 0 10px; }
.outcome.ok strong { color: #1b7a32; }
.outcome.failed strong, .outcome.unfinished { color: #b3122e; }
.why { color: #4a5366; }
.note { color: #4a5366; font-style: italic; }
.numbers { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.number { background: #f0f2f5; border-radius: 6px; padding: 6px 12px; min-width: 80px; }
.number dt { font-size: 0.75rem; color: #4a5366; }
.number dd { margin: 0; font-size: 1.1rem; font-weight: 600; }
.number.done dd { color: #1b7a32; } .number.failed dd { color: #b3122e; } .number.cancelled dd { color: #8a6d00; }
main { display: flex; gap: 16px; padding: 16px 24px; align-items: flex-start; }
.content { flex: 1 1 auto; min-width: 0; }
section { background: #ffffff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
.scroll { overflow-x: auto; }
.picture svg { max-width: 100%; height: auto; }
aside#details { flex: 0 0 clamp(300px, 28vw, 420px); position: sticky; top: 16px; max-height: calc(100vh - 32px); overflow: auto; background: #ffffff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.hint, .empty { color: #6a7385; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.jobs tbody tr { cursor: pointer; }
table.jobs tbody tr:hover, table.jobs tbody tr.selected { background: #eef4ff; }
/* a table cell's max-width does not bound an auto-layout column: its content's does */
td.what > div { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
td.label > div { min-width: 16ch; max-width: 260px; overflow-wrap: anywhere; }
.badge { border-radius: 4px; padding: 1px 6px; font-size: 0.8rem; border: 1px solid #b9bfca; white-space: nowrap; }
.badge.outcome-done { background: var(--done); } .badge.outcome-failed { background: var(--failed); }
.badge.outcome-cancelled { background: var(--cancelled); } .badge.outcome-running { background: var(--running); }
.badge.outcome-never-ran { background: var(--never); }
.error { color: #b3122e; word-break: break-word; }
pre.output { background: #1d2330; color: #e8ebf0; padding: 8px; border-radius: 6px; overflow-x: auto; font-size: 0.8rem; }
pre.output .stderr { color: #ffb4b4; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.facts dt { color: #4a5366; } .facts dd { margin: 0; word-break: break-word; }
tr.cmd-failed td { color: #b3122e; }
svg.timeline { font-size: 12px; min-width: 800px; height: auto; }
svg.timeline .axis line { stroke: #8a93a5; } svg.timeline .axis text { fill: #4a5366; text-anchor: middle; font-size: 11px; }
svg.timeline .row-band { fill: #ffffff; stroke: var(--line); stroke-width: 0.5; }
svg.timeline .row:nth-of-type(even) .row-band { fill: #f7f8fa; }
svg.timeline .node-name { fill: #1d2330; font-family: ui-monospace, monospace; }
svg.timeline .job { cursor: pointer; }
svg.timeline .job .bar { stroke: #4a5366; stroke-width: 0.6; }
svg.timeline .outcome-done .bar { fill: var(--done); } svg.timeline .outcome-failed .bar { fill: var(--failed); }
svg.timeline .outcome-cancelled .bar { fill: var(--cancelled); } svg.timeline .outcome-running .bar { fill: var(--running); }
svg.timeline .forever .bar { stroke-dasharray: 4 2; }
svg.timeline .ended-run .bar { stroke: #b3122e; stroke-width: 2; }
svg.timeline .job.selected .bar { stroke: #1f5fd1; stroke-width: 2.5; }
svg.timeline .job:focus { outline: none; }
svg.timeline .bar-label { fill: #1d2330; font-size: 11px; pointer-events: none; }
svg.timeline .cmd-ok { fill: #2e8b57; } svg.timeline .cmd-failed { fill: #c0183a; } svg.timeline .cmd-running { fill: #5b8fd6; }
svg.timeline .retry { stroke: #1d2330; stroke-width: 2; }
svg.timeline .ended-run-mark { fill: #b3122e; font-weight: bold; }
svg.timeline .conn { stroke-width: 1.5; stroke-dasharray: 2 2; }
svg.timeline .conn-connect { stroke: #2e8b57; } svg.timeline .conn-close { stroke: #9aa1ad; }
svg.timeline .conn-lost, svg.timeline .conn-failed { stroke: #c0183a; stroke-dasharray: none; }
#graph g.node { cursor: pointer; }
.legend { font-size: 0.8rem; color: #4a5366; }
.swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #8a93a5; vertical-align: middle; margin: 0 2px 0 8px; }
.swatch.outcome-done { background: var(--done); } .swatch.outcome-failed { background: var(--failed); }
.swatch.outcome-cancelled { background: var(--cancelled); } .swatch.outcome-running { background: var(--running); }
.swatch.cmd-ok { background: #2e8b57; } .swatch.cmd-failed { background: #c0183a; }
@media (max-width: 1100px) { main { flex-direction: column; align-items: stretch; } aside#details { position: static; flex: none; width: auto; max-height: none; } }
`;

/** Showing a job's details: a click (or Enter) on anything carrying `data-job`, or on a job of the graph. */
const SCRIPT = `
(function () {
  var ids = JSON.parse(document.getElementById('graph-jobs').textContent);
  function show(id) {
    var hint = document.getElementById('details-hint');
    if (hint) hint.hidden = true;
    document.querySelectorAll('.job-details').forEach(function (article) {
      article.hidden = article.getAttribute('data-details') !== id;
    });
    document.querySelectorAll('[data-job]').forEach(function (element) {
      element.classList.toggle('selected', element.getAttribute('data-job') === id);
    });
  }
  function jobOf(target) {
    var element = target.closest('[data-job]');
    if (element) return element.getAttribute('data-job');
    var node = target.closest('g.node');
    if (node && node.id && node.id.indexOf('graph-job-') === 0) {
      return ids[Number(node.id.slice('graph-job-'.length))];
    }
    return undefined;
  }
  document.addEventListener('click', function (event) {
    var id = event.target instanceof Element ? jobOf(event.target) : undefined;
    if (id !== undefined) show(id);
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    var id = event.target instanceof Element ? jobOf(event.target) : undefined;
    if (id !== undefined) { event.preventDefault(); show(id); }
  });
})();
`;
