/**
 * The order a run follows: the index of a scheduler's jobs, their topological order (a
 * cycle or a foreign requirement refused before anything starts), and the display ids
 * given from that order.
 */
import type { AbstractJob } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { buildIndex, findCycle, type GraphIndex, orderIndices } from './algorithms.js';
import { isNestedGraph, type JobGraph, schedulerName } from './nesting.js';

/**
 * The index and topological order of `jobs`, the jobs of `graph`.
 * @throws CycleError, `ERR_FOREIGN_REQUIREMENT`
 */
export function orderedGraph(
  graph: JobGraph,
  jobs: readonly AbstractJob[],
): { index: GraphIndex; order: Int32Array } {
  const index = buildIndex(graph, jobs, schedulerName(graph));
  const order = orderIndices(index);
  if (order.length < jobs.length) throw findCycle(index, order);
  return { index, order };
}

/**
 * Checks the graphs nested in `graph`, at any depth, so that a cycle anywhere stops the
 * outermost run before any job starts. @throws like {@link orderedGraph}
 */
export function checkNestedGraphs(graph: JobGraph): void {
  for (const job of graph.jobs) {
    if (!isNestedGraph(job)) continue;
    orderedGraph(job, [...job.jobs]);
    checkNestedGraphs(job);
  }
}

/** Gives each job its display id from a topological order, padded to the width of the count. */
export function numberJobs(jobs: readonly AbstractJob[], order: Int32Array): void {
  const width = String(jobs.length).length;
  let rank = 1;
  for (const i of order) (jobs[i] as AbstractJob)[kState].id = String(rank++).padStart(width, '0');
}
