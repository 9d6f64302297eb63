/**
 * What the graph algorithms and the views need of a scheduler — its jobs, its label, why
 * its last run ended — as an interface, so that they sit below the scheduler itself
 * (scheduler/pure-scheduler.ts), which implements it. Nested schedulers are recognised
 * by their brand.
 */
import { hasBrand, NESTABLE_BRAND } from '../base/brand.js';
import { quoted } from '../base/safe-text.js';
import type { AbstractJob } from '../model/abstract-job.js';

/**
 * A scheduler as the algorithms and views see it: a job holding a graph of jobs. The
 * queries that a scheduler may override are called through it, as asynciojobs calls them
 * on nested schedulers.
 */
export interface JobGraph extends AbstractJob<boolean> {
  /** The jobs, in insertion order. */
  readonly jobs: ReadonlySet<AbstractJob>;
  /** The number of jobs. */
  readonly size: number;
  /** Why the last run ended (`FINE`, `TIMED OUT after …`, …). */
  why(): string;
  /** The jobs without requirements. */
  entryJobs(): AbstractJob[];
  /** The jobs that no job requires (forever jobs left out unless `discardForever` is false). */
  exitJobs(options?: { discardForever?: boolean }): AbstractJob[];
  /** No cycle and no foreign requirement, nested graphs included. */
  checkCycles(): boolean;
  /** Drops requirements that point outside the graph, nested graphs included. */
  sanitize(): boolean;
  /** Every leaf job, recursing into nested graphs. */
  iterateJobs(options?: { scanSchedulers?: boolean }): Generator<AbstractJob>;
}

/** True for a nested scheduler (a job that is also a scheduler). */
export function isNestedGraph(job: AbstractJob): job is JobGraph {
  return hasBrand(job, NESTABLE_BRAND);
}

/** How messages name a scheduler: `scheduler "main"`, or `the scheduler` when it has no label. */
export function schedulerName(scheduler: AbstractJob, capitalized = false): string {
  const label = scheduler.label ?? scheduler.textLabel();
  const name = label === undefined ? 'the scheduler' : `scheduler ${quoted(label)}`;
  return capitalized ? name.charAt(0).toUpperCase() + name.slice(1) : name;
}
