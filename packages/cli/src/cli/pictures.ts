/**
 * Writing the job graph or the topology of a scenario as SVG, PNG or DOT, chosen by the file's extension.
 */
import { extname } from 'node:path';
import { exportGraph, labelOf, PureScheduler, type Scheduler } from '@jobgraph/core';
import { topologyAsDotfile, topologyAsPngfile, topologyAsSvgfile } from '@jobgraph/ssh';
import { dotQuote, FILL } from '../report/graph-style.js';
import { outcomeOf } from '../report/job-status.js';
import { UsageError } from './errors.js';

type Format = 'svg' | 'png' | 'dot';

function formatOf(path: string): Format {
  const extension = extname(path).toLowerCase().slice(1);
  if (extension === 'svg' || extension === 'png' || extension === 'dot') return extension;
  throw new UsageError(`cannot tell the format of "${path}": use a name ending in .svg, .png or .dot`);
}

/**
 * Writes the job graph to `path`; after a run (`states`), each job filled by its status, which its
 * label's last line names. @returns the path written
 */
export function writeJobGraph(
  scheduler: Scheduler,
  path: string,
  options: { states?: boolean } = {},
): Promise<string> {
  const format = formatOf(path);
  if (options.states !== true) {
    if (format === 'svg') return scheduler.exportAsSvgfile(path);
    if (format === 'png') return scheduler.exportAsPngfile(path);
    return scheduler.exportAsDotfile(path);
  }
  return exportGraph(statefulDot(scheduler), path, format);
}

/** Writes the topology (the SSH nodes and their gateways) to `path`. @returns the path written */
export function writeTopology(scheduler: Scheduler, path: string): Promise<string> {
  const format = formatOf(path);
  if (format === 'svg') return topologyAsSvgfile(scheduler, path);
  if (format === 'png') return topologyAsPngfile(scheduler, path);
  return topologyAsDotfile(scheduler, path);
}

/**
 * The DOT of the job graph with each job filled by its status and the status as the label's last
 * line. Core's `toDot()` draws the graph's shape only, so the states are added here: DOT lets a
 * later statement on a node override its attributes.
 */
function statefulDot(scheduler: PureScheduler): string {
  const dot = scheduler.toDot();
  const overrides: string[] = [];
  for (const job of scheduler.jobs) {
    // Nested schedulers are clusters, not nodes: there is nothing to fill.
    if (job instanceof PureScheduler) continue;
    const { status } = outcomeOf(job);
    const style = ['rounded', ...(job.forever ? ['dashed'] : []), 'filled'].join(',');
    const label = `${job.graphLabel() ?? `${job.displayId}: ${labelOf(job)}`}\n[${status}]`;
    overrides.push(
      `${dotQuote(job.displayId)} [style=${dotQuote(style)},fillcolor=${dotQuote(FILL[status])},label=${dotQuote(label)}]`,
    );
  }
  const close = dot.lastIndexOf('}');
  return `${dot.slice(0, close)}${overrides.map((line) => `${line}\n`).join('')}${dot.slice(close)}`;
}
