/**
 * Graph algorithms over the jobs of one scheduler, all O(V + E): the index that a
 * run uses (compressed successor arrays), the topological numbering, cycle finding,
 * and neighbourhoods. Requirements that point outside the scheduler are reported,
 * never followed.
 */

import { CycleError, ForeignRequirementError } from '../base/errors.js';
import { type AbstractJob, labelOf, quotedLabel } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';

/** The jobs of a scheduler as arrays of indices: what a run and the numbering work on. */
export interface GraphIndex {
  /** The scheduler whose jobs these are. */
  readonly owner: object;
  readonly jobs: readonly AbstractJob[];
  /** Number of requirements of each job (in-degree). */
  readonly indegree: Int32Array;
  /** Successors of job i are `successors[successorStart[i] .. successorStart[i + 1])`. */
  readonly successorStart: Int32Array;
  readonly successors: Int32Array;
}

/** The first requirement found that points outside the scheduler, if any. */
export interface ForeignRequirement {
  readonly job: AbstractJob;
  readonly requirement: AbstractJob;
}

/**
 * Builds the index of `jobs` (all owned by `owner`), in two passes over the edges.
 * @throws JobGraphError `ERR_FOREIGN_REQUIREMENT` when a requirement is not in the scheduler.
 */
export function buildIndex(
  owner: object,
  jobs: readonly AbstractJob[],
  where: string,
  foreign: 'throw' | 'ignore' = 'throw',
): GraphIndex {
  const n = jobs.length;
  for (let i = 0; i < n; i++) (jobs[i] as AbstractJob)[kState].index = i;
  const indegree = new Int32Array(n);
  const outdegree = new Int32Array(n + 1);
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const job = jobs[i] as AbstractJob;
    for (const requirement of job.required) {
      if (requirement[kState].owner !== owner) {
        if (foreign === 'throw') throw foreignRequirementError({ job, requirement }, where);
        continue;
      }
      const r = requirement[kState].index;
      outdegree[r] = (outdegree[r] as number) + 1;
      indegree[i] = (indegree[i] as number) + 1;
      edges++;
    }
  }
  const successorStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    successorStart[i + 1] = (successorStart[i] as number) + (outdegree[i] as number);
  const fill = successorStart.slice(0, n);
  const successors = new Int32Array(edges);
  for (let i = 0; i < n; i++) {
    for (const requirement of (jobs[i] as AbstractJob).required) {
      if (requirement[kState].owner !== owner) continue;
      const r = requirement[kState].index;
      const slot = fill[r] as number;
      successors[slot] = i;
      fill[r] = slot + 1;
    }
  }
  return { owner, jobs, indegree, successorStart, successors };
}

export function foreignRequirementError(foreign: ForeignRequirement, where: string): ForeignRequirementError {
  return new ForeignRequirementError(
    `Job ${quotedLabel(foreign.job)} in ${where} requires ${quotedLabel(foreign.requirement)}, which is not in that scheduler (call sanitize() to drop such requirements)`,
  );
}

/** The first requirement of `jobs` that points outside `owner`, or undefined. */
export function findForeignRequirement(
  owner: object,
  jobs: Iterable<AbstractJob>,
): ForeignRequirement | undefined {
  for (const job of jobs) {
    for (const requirement of job.required) {
      if (requirement[kState].owner !== owner) return { job, requirement };
    }
  }
  return undefined;
}

/**
 * Topological order of the index: among the jobs whose requirements are all placed,
 * the earliest inserted comes first, so a graph built in order keeps its insertion order.
 * Returns fewer than n jobs when there is a cycle.
 *
 * The ready jobs wait in two places: a queue of indices that arrived in increasing order
 * (each larger than the queue's last) and a binary heap for the others; the next job is
 * the smaller of the two heads. Graphs built in order (independent jobs, chains, layers)
 * never touch the heap, so their order costs O(V + E) instead of O(V log V).
 */
export function orderIndices(index: GraphIndex): Int32Array {
  const n = index.jobs.length;
  const remaining = index.indegree.slice();
  const queue = new Int32Array(n);
  let queueHead = 0;
  let queueTail = 0;
  const heap = new Int32Array(n);
  let size = 0;
  const push = (value: number) => {
    if (queueTail === 0 || value > (queue[queueTail - 1] as number)) {
      queue[queueTail++] = value;
      return;
    }
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as number;
      if (p <= value) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = value;
  };
  const popHeap = (): number => {
    const top = heap[0] as number;
    const last = heap[--size] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && (heap[child + 1] as number) < (heap[child] as number)) child++;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
    return top;
  };
  for (let i = 0; i < n; i++) if (remaining[i] === 0) push(i);
  const order = new Int32Array(n);
  let placed = 0;
  const { successorStart, successors } = index;
  while (queueHead < queueTail || size > 0) {
    const i =
      size === 0 || (queueHead < queueTail && (queue[queueHead] as number) < (heap[0] as number))
        ? (queue[queueHead++] as number)
        : popHeap();
    order[placed++] = i;
    for (let e = successorStart[i] as number, end = successorStart[i + 1] as number; e < end; e++) {
      const s = successors[e] as number;
      const left = (remaining[s] as number) - 1;
      remaining[s] = left;
      if (left === 0) push(s);
    }
  }
  return placed === n ? order : order.subarray(0, placed);
}

/**
 * A cycle among the jobs that `order` could not place, as labels in execution
 * direction (`a → b` means b requires a), the first repeated at the end.
 */
export function findCycle(index: GraphIndex, order: Int32Array): CycleError {
  const placed = new Uint8Array(index.jobs.length);
  for (const i of order) placed[i] = 1;
  // Every unplaced job has an unplaced requirement: walk requirements until a job repeats.
  let current = placed.indexOf(0);
  const seenAt = new Map<number, number>();
  const walk: number[] = [];
  while (!seenAt.has(current)) {
    seenAt.set(current, walk.length);
    walk.push(current);
    for (const requirement of (index.jobs[current] as AbstractJob).required) {
      if (requirement[kState].owner !== index.owner) continue;
      const r = requirement[kState].index;
      if (placed[r] === 0) {
        current = r;
        break;
      }
    }
  }
  const cycle = walk.slice(seenAt.get(current)).reverse();
  cycle.push(cycle[0] as number);
  return new CycleError(cycle.map((i) => labelOf(index.jobs[i] as AbstractJob)));
}

/** Topological order of the jobs; throws CycleError or the foreign-requirement error. */
export function topologicalJobs(owner: object, jobs: readonly AbstractJob[], where: string): AbstractJob[] {
  const index = buildIndex(owner, jobs, where);
  const order = orderIndices(index);
  if (order.length < jobs.length) throw findCycle(index, order);
  return Array.from(order, (i) => jobs[i] as AbstractJob);
}

/** Map from each job of `jobs` to the jobs of `jobs` that require it. */
export function successorMap(jobs: ReadonlySet<AbstractJob>): Map<AbstractJob, AbstractJob[]> {
  const map = new Map<AbstractJob, AbstractJob[]>();
  for (const job of jobs) map.set(job, []);
  for (const job of jobs) {
    for (const requirement of job.required) map.get(requirement)?.push(job);
  }
  return map;
}

/** Everything reachable from `starts` by `next`, restricted to `members`, starts excluded unless reached again. */
export function closure(
  starts: Iterable<AbstractJob>,
  next: (job: AbstractJob) => Iterable<AbstractJob>,
  members: ReadonlySet<AbstractJob>,
): Set<AbstractJob> {
  const result = new Set<AbstractJob>();
  const stack = [...starts];
  while (stack.length > 0) {
    const job = stack.pop() as AbstractJob;
    for (const neighbour of next(job)) {
      if (members.has(neighbour) && !result.has(neighbour)) {
        result.add(neighbour);
        stack.push(neighbour);
      }
    }
  }
  return result;
}
