/**
 * What became of a job after a run: its lifecycle state, with `failed` told apart from `done`.
 */
import type { AbstractJob, Lifecycle } from '@jobgraph/core';

/**
 * What became of a job: a core lifecycle state (`done`, `cancelled`, `idle` for a job that never
 * ran; `scheduled` and `running` only for a run abandoned mid-way), with `failed` for a job that is
 * done by raising.
 */
export type JobStatus = Lifecycle | 'failed';

/** A job's status, with its result or its error. */
export function outcomeOf(
  job: AbstractJob,
):
  | { status: 'done'; result: unknown }
  | { status: 'failed'; error: unknown }
  | { status: Exclude<Lifecycle, 'done'> } {
  if (job.state !== 'done') return { status: job.state };
  // result() is the public way to tell a result from a raised exception (even a thrown `undefined`).
  try {
    return { status: 'done', result: job.result() };
  } catch (error) {
    return { status: 'failed', error };
  }
}
