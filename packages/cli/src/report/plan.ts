/**
 * The plan of a run as its log carries it (`run:plan`, before `run:start`): each job with its id,
 * label, node and requirements, so that a report made from the log alone can draw the job graph
 * and the topology, and list the jobs that never ran.
 */
import type { AbstractJob } from '@jobgraph/core';
import { labelOf } from '@jobgraph/core';

/** One job of the plan. */
export interface PlannedJob {
  readonly id: string;
  readonly label: string;
  /** The node's `toString()` (`gw->root@fit01`), for a job that has one (an SshJob). */
  readonly node?: string;
  /** The ids of the jobs it requires. */
  readonly required: readonly string[];
  readonly critical: boolean;
  readonly forever: boolean;
}

declare module '@jobgraph/core' {
  interface EventMap {
    /**
     * The jobs of the run about to start, with their requirements (from `jobgraph run` and
     * recordRun()); `title`: what the run is (a scenario file's name).
     */
    'run:plan': { jobs: PlannedJob[]; title?: string };
  }
}

/** The plan of `jobs`, named by `idOf` (a scenario's ids). */
export function planOf(jobs: Iterable<AbstractJob>, idOf: (job: AbstractJob) => string): PlannedJob[] {
  return [...jobs].map((job) => {
    const node = (job as { node?: unknown }).node;
    return {
      id: idOf(job),
      label: labelOf(job),
      ...(node === undefined || node === null ? {} : { node: String(node) }),
      required: [...job.required].map(idOf),
      critical: job.critical,
      forever: job.forever,
    };
  });
}
