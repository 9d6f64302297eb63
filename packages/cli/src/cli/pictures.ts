/**
 * Writing the job graph or the topology of a scenario as SVG, PNG or DOT, chosen by the file's extension.
 */
import { extname } from 'node:path';
import type { Scheduler } from '@jobgraph/core';
import { topologyAsDotfile, topologyAsPngfile, topologyAsSvgfile } from '@jobgraph/ssh';
import { UsageError } from './errors.js';

type Format = 'svg' | 'png' | 'dot';

function formatOf(path: string): Format {
  const extension = extname(path).toLowerCase().slice(1);
  if (extension === 'svg' || extension === 'png' || extension === 'dot') return extension;
  throw new UsageError(`cannot tell the format of "${path}": use a name ending in .svg, .png or .dot`);
}

/** Writes the job graph to `path`. @returns the path written */
export function writeJobGraph(scheduler: Scheduler, path: string): Promise<string> {
  const format = formatOf(path);
  if (format === 'svg') return scheduler.exportAsSvgfile(path);
  if (format === 'png') return scheduler.exportAsPngfile(path);
  return scheduler.exportAsDotfile(path);
}

/** Writes the topology (the SSH nodes and their gateways) to `path`. @returns the path written */
export function writeTopology(scheduler: Scheduler, path: string): Promise<string> {
  const format = formatOf(path);
  if (format === 'svg') return topologyAsSvgfile(scheduler, path);
  if (format === 'png') return topologyAsPngfile(scheduler, path);
  return topologyAsDotfile(scheduler, path);
}
