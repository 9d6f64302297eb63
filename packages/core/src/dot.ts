/**
 * The DOT text of a scheduler, in asynciojobs' `dot_format` (see the package README):
 * `digraph asynciojobs{ … }`, nested schedulers as `subgraph cluster_<id>`, jobs
 * rounded, critical ones thick and red, forever ones dashed.
 */
import { type AbstractJob, labelOf } from './abstract-job.js';
import { kState } from './job-state.js';
import { numberForDisplay } from './listing.js';
import { isNestedScheduler } from './nesting.js';
import type { PureScheduler } from './pure-scheduler.js';

/** Options of `toDot()`; reserved for future use. */
export type DotOptions = Record<string, never>;

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
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

/** The job an edge into a cluster points at: the middle entry, recursively; undefined for an empty cluster. */
function middleEntry(scheduler: PureScheduler): AbstractJob | undefined {
  const entries = scheduler.entryJobs();
  const job = entries[(entries.length - 1) >> 1];
  return job !== undefined && isNestedScheduler(job) ? middleEntry(job) : job;
}

/** The job an edge out of a cluster starts from: the middle exit (forever jobs as a last resort), recursively. */
function middleExit(scheduler: PureScheduler): AbstractJob | undefined {
  let exits = scheduler.exitJobs();
  if (exits.length === 0) exits = scheduler.exitJobs({ discardForever: false });
  const job = exits[(exits.length - 1) >> 1];
  return job !== undefined && isNestedScheduler(job) ? middleExit(job) : job;
}

/** The DOT text of a scheduler. @throws CycleError on a cyclic graph. */
export function toDot(scheduler: PureScheduler, _options: DotOptions = {}): string {
  const ordered = numberForDisplay(scheduler);
  const inScope = new Set(ordered);
  const id = (job: AbstractJob) => job[kState].id;
  // An edge to or from an empty cluster has no node to attach to: it is left out.
  const edge = (from: AbstractJob | undefined, to: AbstractJob | undefined, attrs: string) => {
    if (from !== undefined && to !== undefined) lines.push(`${id(from)} -> ${id(to)}${attrs};`);
  };
  const lines: string[] = [];
  const body = (current: PureScheduler) => {
    const jobs = ordered.filter((job) => job[kState].owner === current);
    for (const job of jobs) {
      if (isNestedScheduler(job)) {
        lines.push(`subgraph cluster_${id(job)}{`, 'compound=true;', `graph [${attributes(job, true)}];`);
        body(job);
        lines.push('}');
        for (const requirement of job.required) {
          if (!inScope.has(requirement)) continue;
          if (isNestedScheduler(requirement)) {
            edge(
              middleExit(requirement),
              middleEntry(job),
              ` [lhead=cluster_${id(job)} ltail=cluster_${id(requirement)}]`,
            );
          } else {
            edge(requirement, middleEntry(job), ` [lhead=cluster_${id(job)}]`);
          }
        }
      } else {
        lines.push(`${id(job)} [${attributes(job, false)}]`);
        for (const requirement of job.required) {
          if (!inScope.has(requirement)) continue;
          if (isNestedScheduler(requirement)) {
            edge(middleExit(requirement), job, ` [ltail=cluster_${id(requirement)}]`);
          } else {
            edge(requirement, job, '');
          }
        }
      }
    }
  };
  body(scheduler);
  return `digraph asynciojobs{\ncompound=true;\ngraph [];\n${lines.map((line) => `${line}\n`).join('')}}\n`;
}
