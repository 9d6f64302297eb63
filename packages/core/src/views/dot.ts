/**
 * The DOT text of a scheduler, in asynciojobs' `dot_format` (see the package README):
 * `digraph asynciojobs{ … }`, nested schedulers as `subgraph cluster_<id>`, jobs
 * rounded, critical ones thick and red, forever ones dashed.
 */

import { isNestedGraph, type JobGraph } from '../graph/nesting.js';
import { type AbstractJob, labelOf } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { numberForDisplay } from './listing.js';

/** Options of `toDot()`; reserved for future use. */
export type DotOptions = Record<string, never>;

function quote(value: string): string {
  // control characters (a NUL, a bell, escape sequences) as their pictures: no XML may hold them,
  // and Graphviz would write them raw into the SVG; newlines and tabs are the label's own
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const visible = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) =>
    c === '\u007f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0)),
  );
  return `"${visible.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function attributes(job: AbstractJob, cluster: boolean): string {
  const style: string[] = [];
  if (!cluster) style.push('rounded');
  if (job.forever) style.push('dashed');
  const label = job.graphLabel() ?? `${job[kState].id}: ${labelOf(job)}`;
  const parts = [`style=${quote(style.join(','))}`, `label=${quote(label)}`, 'shape="box"'];
  if (job.critical) parts.push('color="red"', 'penwidth="2"');
  else parts.push('penwidth="0.5"');
  return parts.join(',');
}

/** The DOT text of a scheduler. @throws CycleError on a cyclic graph. */
export function toDot(scheduler: JobGraph, _options: DotOptions = {}): string {
  const ordered = numberForDisplay(scheduler);
  const inScope = new Set(ordered);
  const id = (job: AbstractJob) => job[kState].id;
  // Each scheduler's jobs, in display order, grouped once (not filtered per cluster).
  const byOwner = new Map<unknown, AbstractJob[]>();
  for (const job of ordered) {
    const owner = job[kState].owner;
    const group = byOwner.get(owner);
    if (group === undefined) byOwner.set(owner, [job]);
    else group.push(job);
  }
  // An empty cluster gets an invisible point, so that edges to and from it can be drawn.
  const placeholder = (cluster: JobGraph) => `"${id(cluster)}_empty"`;
  // The node an edge into (out of) a cluster attaches to: the middle entry (exit), recursively.
  const entries = new Map<JobGraph, string>();
  const exits = new Map<JobGraph, string>();
  const entryOf = (cluster: JobGraph): string => {
    let found = entries.get(cluster);
    if (found === undefined) {
      const candidates = cluster.entryJobs();
      const job = candidates[(candidates.length - 1) >> 1];
      found = job === undefined ? placeholder(cluster) : isNestedGraph(job) ? entryOf(job) : id(job);
      entries.set(cluster, found);
    }
    return found;
  };
  const exitOf = (cluster: JobGraph): string => {
    let found = exits.get(cluster);
    if (found === undefined) {
      let candidates = cluster.exitJobs();
      if (candidates.length === 0) candidates = cluster.exitJobs({ discardForever: false });
      const job = candidates[(candidates.length - 1) >> 1];
      found = job === undefined ? placeholder(cluster) : isNestedGraph(job) ? exitOf(job) : id(job);
      exits.set(cluster, found);
    }
    return found;
  };
  const lines: string[] = [];
  const body = (current: JobGraph) => {
    for (const job of byOwner.get(current) ?? []) {
      if (isNestedGraph(job)) {
        lines.push(`subgraph cluster_${id(job)}{`, 'compound=true;', `graph [${attributes(job, true)}];`);
        if (job.size === 0) lines.push(`${placeholder(job)} [shape="point",style="invis",label=""]`);
        body(job);
        lines.push('}');
        for (const requirement of job.required) {
          if (!inScope.has(requirement)) continue;
          if (isNestedGraph(requirement)) {
            lines.push(
              `${exitOf(requirement)} -> ${entryOf(job)} [lhead=cluster_${id(job)} ltail=cluster_${id(requirement)}];`,
            );
          } else {
            lines.push(`${id(requirement)} -> ${entryOf(job)} [lhead=cluster_${id(job)}];`);
          }
        }
      } else {
        lines.push(`${id(job)} [${attributes(job, false)}]`);
        for (const requirement of job.required) {
          if (!inScope.has(requirement)) continue;
          if (isNestedGraph(requirement)) {
            lines.push(`${exitOf(requirement)} -> ${id(job)} [ltail=cluster_${id(requirement)}];`);
          } else {
            lines.push(`${id(requirement)} -> ${id(job)};`);
          }
        }
      }
    }
  };
  body(scheduler);
  return `digraph asynciojobs{\ncompound=true;\ngraph [];\n${lines.map((line) => `${line}\n`).join('')}}\n`;
}
