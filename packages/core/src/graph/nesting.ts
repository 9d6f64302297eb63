/**
 * What the graph algorithms and the views need of a scheduler — its jobs, its label, why
 * its last run ended — as an interface, so that they sit below the scheduler itself
 * (scheduler/pure-scheduler.ts), which implements it. Nested schedulers are recognised
 * by their brand.
 */
import { hasBrand, NESTABLE_BRAND } from '../base/brand.js';
import type { AbstractJob } from '../model/abstract-job.js';

/** A scheduler as the algorithms and views see it: a job holding a graph of jobs. */
export interface JobGraph extends AbstractJob<boolean> {
  /** The jobs, in insertion order. */
  readonly jobs: ReadonlySet<AbstractJob>;
  /** The number of jobs. */
  readonly size: number;
  /** Why the last run ended (`FINE`, `TIMED OUT after …`, …). */
  why(): string;
}

/** True for a nested scheduler (a job that is also a scheduler). */
export function isNestedGraph(job: AbstractJob): job is JobGraph {
  return hasBrand(job, NESTABLE_BRAND);
}

/** How messages name a scheduler: `scheduler "main"`, or `the scheduler` when it has no label. */
export function schedulerName(scheduler: AbstractJob, capitalized = false): string {
  const label = scheduler.label ?? scheduler.textLabel();
  const name = label === undefined ? 'the scheduler' : `scheduler "${label}"`;
  return capitalized ? name.charAt(0).toUpperCase() + name.slice(1) : name;
}

/** The jobs of `graph` without requirements, in insertion order. */
export function entryJobs(graph: JobGraph): AbstractJob[] {
  return [...graph.jobs].filter((job) => job.required.size === 0);
}
