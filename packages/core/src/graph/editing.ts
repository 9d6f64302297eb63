/**
 * Queries and edits of a scheduler's graph: neighbourhoods, entry and exit jobs, checks,
 * and the edits asynciojobs offers (`bypass_and_remove`, `keep_only`,
 * `keep_only_between`, `sanitize`). `PureScheduler`'s methods call these (`checkCycles()`
 * calls {@link hasNoCycle}, the others have the same names); where the original called a
 * method of a scheduler — on nested schedulers, or a query an edit is made of — these call
 * it too, so that a subclass overriding it is heard.
 */
import { hasBrand, JOB_BRAND, SCHEDULER_BRAND } from '../base/brand.js';
import { InvalidOptionError } from '../base/errors.js';
import { checkKnownKeys, checkOptionsObject, describeValue } from '../base/validate.js';
import { type AbstractJob, quotedLabel } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { buildIndex, closure, findForeignRequirement, orderIndices, successorMap } from './algorithms.js';
import { isNestedGraph, type JobGraph, schedulerName } from './nesting.js';

const KEEP_BETWEEN_KEYS = new Set(['starts', 'ends', 'keepStarts', 'keepEnds']);

/** A graph that can lose jobs: what the edits need (called as methods: a scheduler may override them). */
export interface EditableGraph extends JobGraph {
  /** Removes a job from the graph (its requirements are left as they are). */
  remove(job: AbstractJob): unknown;
  successors(...jobs: AbstractJob[]): Set<AbstractJob>;
  successorsDownstream(...jobs: AbstractJob[]): Set<AbstractJob>;
  predecessorsUpstream(...jobs: AbstractJob[]): Set<AbstractJob>;
  keepOnly(jobs: Iterable<AbstractJob>): void;
}

/** Options of {@link PureScheduler.keepOnlyBetween}. */
export interface KeepOnlyBetweenOptions {
  /** Kept jobs are downstream of these (all jobs if empty). */
  starts?: Iterable<AbstractJob>;
  /** Kept jobs are upstream of these (all jobs if empty). */
  ends?: Iterable<AbstractJob>;
  /** Keep the `starts` themselves. @default true */
  keepStarts?: boolean;
  /** Keep the `ends` themselves. @default true */
  keepEnds?: boolean;
}

// ------------------------------------------------------------------ checks

/** True when the graph has no cycle and no requirement outside its scheduler, nested graphs included. */
export function hasNoCycle(graph: JobGraph): boolean {
  const jobs = [...graph.jobs];
  if (findForeignRequirement(graph, jobs) !== undefined) return false;
  if (orderIndices(buildIndex(graph, jobs, '')).length < jobs.length) return false;
  for (const job of jobs) if (isNestedGraph(job) && !job.checkCycles()) return false;
  return true;
}

/** The jobs that no job requires; forever jobs are left out when `discardForever`. */
export function exitJobs(graph: JobGraph, discardForever: boolean): AbstractJob[] {
  const successors = successorMap(graph.jobs);
  return [...graph.jobs].filter(
    (job) => successors.get(job)?.length === 0 && !(discardForever && job.forever),
  );
}

// ------------------------------------------------------------ neighbourhood

/** The jobs of `graph` that the given jobs require directly. */
export function predecessors(graph: JobGraph, jobs: readonly AbstractJob[]): Set<AbstractJob> {
  checkJobs('predecessors()', jobs);
  const result = new Set<AbstractJob>();
  for (const job of jobs) for (const r of job.required) if (graph.jobs.has(r)) result.add(r);
  return result;
}

/** The jobs of `graph` that require the given jobs directly. */
export function successors(graph: JobGraph, jobs: readonly AbstractJob[]): Set<AbstractJob> {
  checkJobs('successors()', jobs);
  const map = successorMap(graph.jobs);
  const result = new Set<AbstractJob>();
  for (const job of jobs) for (const s of map.get(job) ?? []) result.add(s);
  return result;
}

/** Every job of `graph` that the given jobs require, directly or not. */
export function predecessorsUpstream(graph: JobGraph, jobs: readonly AbstractJob[]): Set<AbstractJob> {
  checkJobs('predecessorsUpstream()', jobs);
  return closure(jobs, (job) => job.required, graph.jobs);
}

/** Every job of `graph` that requires the given jobs, directly or not. */
export function successorsDownstream(graph: JobGraph, jobs: readonly AbstractJob[]): Set<AbstractJob> {
  checkJobs('successorsDownstream()', jobs);
  const map = successorMap(graph.jobs);
  return closure(jobs, (job) => map.get(job) ?? [], graph.jobs);
}

/**
 * Every leaf job, recursing into nested graphs; with `scanSchedulers`, the graphs too,
 * `graph` first.
 */
export function* iterateJobs(
  graph: JobGraph,
  options: { scanSchedulers?: boolean } = {},
): Generator<AbstractJob> {
  if (options.scanSchedulers) yield graph;
  for (const job of graph.jobs) {
    if (isNestedGraph(job)) yield* job.iterateJobs(options);
    else yield job;
  }
}

// ------------------------------------------------------------------- edits

/**
 * Removes every requirement that points outside its graph, nested graphs included.
 * @returns true if nothing had to change.
 */
export function sanitize(graph: JobGraph): boolean {
  let clean = true;
  for (const job of graph.jobs) {
    for (const requirement of [...job.required]) {
      if (requirement[kState].owner !== graph) {
        job.unrequires(requirement);
        clean = false;
      }
    }
    if (isNestedGraph(job) && !job.sanitize()) clean = false;
  }
  return clean;
}

/**
 * Removes `job` and reconnects around it: each job that required it now requires the
 * job's own requirements.
 * @throws InvalidOptionError if the job is not in the graph.
 */
export function bypassAndRemove(graph: EditableGraph, job: AbstractJob): void {
  if (!graph.jobs.has(job)) {
    throw new InvalidOptionError(
      `Cannot bypass job ${quotedLabel(job)}: it is not in ${schedulerName(graph)}`,
    );
  }
  for (const successor of graph.successors(job)) {
    successor.unrequires(job);
    successor.requires(job.required);
  }
  graph.remove(job);
}

/** Keeps only the given jobs, then drops requirements on the removed ones (no re-linking). */
export function keepOnly(graph: EditableGraph, jobs: Iterable<AbstractJob>): void {
  const keep = new Set(iterableOfJobs('keepOnly()', jobs));
  for (const job of [...graph.jobs]) if (!keep.has(job)) graph.remove(job);
  graph.sanitize();
}

/**
 * Keeps what the last run did not achieve: the jobs that failed, were cancelled or never ran
 * (what requires a failed job never ran); drops the ones that succeeded, and the requirements
 * on them (done already). A nested scheduler with a finite job that did not succeed (failed,
 * critical or not, cancelled, never ran) is kept with only its own unfinished jobs, the same way;
 * whether it ended `true` or `false` does not matter.
 */
export function keepOnlyFailed(graph: EditableGraph): void {
  // by the job's state: a job that failed with `undefined` has no exception to show, and failed all the same;
  // a nested scheduler succeeded when every finite job of it did (one that is not critical ends
  // done with `false`, and one that is true may hold non-critical jobs that failed: kept as here)
  const succeeded = (job: AbstractJob): boolean =>
    job.isAchieved() &&
    !(isNestedGraph(job) && [...job.jobs].some((inner) => !inner.forever && !succeeded(inner)));
  const unfinished = [...graph.jobs].filter((job) => !succeeded(job));
  // forever jobs (a capture) run again beside what is run again; alone, they have nothing to wait for
  const keep = unfinished.some((job) => !job.forever) ? unfinished : [];
  for (const job of keep) {
    const nested = job as Partial<{ keepOnlyFailed(): void }>;
    if (isNestedGraph(job) && typeof nested.keepOnlyFailed === 'function') nested.keepOnlyFailed();
  }
  graph.keepOnly(keep);
}

/** Keeps the jobs downstream of `starts` and upstream of `ends`, then sanitizes. */
export function keepOnlyBetween(graph: EditableGraph, options: KeepOnlyBetweenOptions = {}): void {
  checkOptionsObject('the keepOnlyBetween() options', options);
  checkKnownKeys('keepOnlyBetween()', options, KEEP_BETWEEN_KEYS);
  const starts = iterableOfJobs('starts', options.starts ?? []);
  const ends = iterableOfJobs('ends', options.ends ?? []);
  const downstream = starts.length > 0 ? graph.successorsDownstream(...starts) : new Set(graph.jobs);
  const upstream = ends.length > 0 ? graph.predecessorsUpstream(...ends) : new Set(graph.jobs);
  const keep = new Set([...downstream].filter((job) => upstream.has(job)));
  if (options.keepStarts ?? true) for (const job of starts) keep.add(job);
  if (options.keepEnds ?? true) for (const job of ends) keep.add(job);
  graph.keepOnly(keep);
}

// -------------------------------------------------------------- arguments

/** Every argument must be a job. */
function checkJobs(where: string, jobs: readonly unknown[]): void {
  for (const job of jobs) {
    if (!hasBrand(job, JOB_BRAND) && !hasBrand(job, SCHEDULER_BRAND)) {
      throw new InvalidOptionError(
        `Expected the arguments of ${where} to be jobs, got ${describeValue(job)}`,
      );
    }
  }
}

/** An iterable of jobs, as an array. */
function iterableOfJobs(where: string, value: unknown): AbstractJob[] {
  if (typeof value !== 'object' || value === null || !(Symbol.iterator in value)) {
    throw new InvalidOptionError(`Expected ${where} to be an iterable of jobs, got ${describeValue(value)}`);
  }
  const jobs = [...(value as Iterable<unknown>)];
  checkJobs(where, jobs);
  return jobs as AbstractJob[];
}
