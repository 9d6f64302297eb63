/**
 * The report's job graph and topology, drawn from the run's model (so from a log alone): the plan's
 * jobs filled by their outcome, in the colours of `run --graph`, each with an SVG id for the page's
 * script (`graph-job-N`); the nodes as chains of gateways from this machine.
 */
import { dotToSvg } from '@jobgraph/core';
import { dotQuote, FILL } from './graph-style.js';
import type { JobModel, JobOutcome, RunModel } from './run-model.js';

/** The status names of `run --graph`, by outcome. */
const STATUS: Record<JobOutcome, keyof typeof FILL> = {
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  running: 'running',
  'never-ran': 'idle',
};

/** The DOT of the job graph: requirement → job, critical jobs red, forever ones dashed. */
export function jobGraphDot(model: RunModel): string {
  const index = new Map(model.jobs.map((job, i) => [job.id, i]));
  const lines = ['digraph jobs {', 'rankdir=TB;', 'node [shape="box"];'];
  for (const [i, job] of model.jobs.entries()) lines.push(`j${i} [${jobAttributes(job, i)}];`);
  for (const [i, job] of model.jobs.entries()) {
    for (const required of job.required) {
      const from = index.get(required);
      if (from !== undefined) lines.push(`j${from} -> j${i};`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}

function jobAttributes(job: JobModel, i: number): string {
  const status = STATUS[job.outcome];
  const style = ['rounded', ...(job.forever ? ['dashed'] : []), 'filled'].join(',');
  return [
    `id=${dotQuote(`graph-job-${i}`)}`,
    `label=${dotQuote(`${job.id}: ${job.label}\n[${status}]`)}`,
    `style=${dotQuote(style)}`,
    `fillcolor=${dotQuote(FILL[status])}`,
    job.critical ? 'color="red",penwidth="2"' : 'penwidth="0.5"',
  ].join(',');
}

/** The DOT of the topology: this machine, then each node's chain of gateways (`gw->root@fit01`). */
export function topologyDot(model: RunModel): string {
  const names = new Map<string, string>();
  const edges = new Set<string>();
  const idOf = (name: string) => {
    let id = names.get(name);
    if (id === undefined) {
      id = `n${names.size}`;
      names.set(name, id);
    }
    return id;
  };
  idOf('localhost');
  for (const job of model.jobs) {
    if (job.node === undefined || job.node.endsWith('@LOCALNODE')) continue;
    let previous = 'localhost';
    for (const hop of job.node.split('->')) {
      edges.add(`${idOf(previous)} -> ${idOf(hop)};`);
      previous = hop;
    }
  }
  const lines = ['digraph topology {', 'rankdir=LR;', 'node [shape="box",style="rounded"];'];
  for (const [name, id] of names) lines.push(`${id} [label=${dotQuote(name)}];`);
  lines.push(...edges, '}');
  return lines.join('\n');
}

/**
 * The most jobs the page's graph is drawn for: Graphviz's layout grows faster than the jobs (a
 * report of 10,000 jobs took 3 s, of 40,000 39 s, nearly all of it the layout), and a graph of
 * thousands of boxes is no picture anyone reads. The timeline and the table still show them all.
 */
export const MAX_GRAPH_JOBS = 2000;

/** Both pictures as SVG; a picture Graphviz cannot draw is left out (the rest of the report stands). */
export async function reportPictures(model: RunModel): Promise<{ graph: string; topology: string }> {
  const draw = (dot: string) => dotToSvg(dot).catch(() => '');
  const drawn = model.jobs.length > 0 && model.jobs.length <= MAX_GRAPH_JOBS;
  const [graph, topology] = await Promise.all([
    drawn ? draw(jobGraphDot(model)) : Promise.resolve(''),
    model.jobs.some((job) => job.node !== undefined && !job.node.endsWith('@LOCALNODE'))
      ? draw(topologyDot(model))
      : Promise.resolve(''),
  ]);
  return { graph, topology };
}
