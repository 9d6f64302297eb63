/**
 * The per-job bookkeeping that schedulers keep on each job. Internal: not exported
 * from the package. It lives on the job itself (behind a symbol) because a job
 * belongs to exactly one scheduler, and direct fields keep a run at O(V + E).
 */
/**
 * Where a job is in its life:
 * - `idle`: not started in the current (or last) run;
 * - `scheduled`: ready, waiting for a slot of the scheduler's `jobsWindow`;
 * - `running`: its `run()` is in progress;
 * - `done`: completed, with a result or with an exception;
 * - `cancelled`: stopped by the scheduler (forever stop, timeout, critical abort).
 */
export type Lifecycle = 'idle' | 'scheduled' | 'running' | 'done' | 'cancelled';

/** Something that can own jobs: a PureScheduler or a Scheduler (compared by identity here). */
export interface JobOwner {
  readonly jobs: ReadonlySet<unknown>;
}

export class JobRunState {
  lifecycle: Lifecycle = 'idle';
  /** The job obtained a slot during the last run (the ☉ of the badge). */
  started = false;
  failed = false;
  result: unknown = undefined;
  error: unknown = undefined;
  attempts = 0;
  /** The scheduler that holds this job, if any. */
  owner: JobOwner | undefined = undefined;
  /** Display id given by the owner's numbering (`'1'`, `'07'`…); empty before any numbering. */
  id = '';
  // ---- scratch of the run in progress ----
  /** Requirements not yet completed. */
  remaining = 0;
  /** Index in the owner's insertion order, for numbering. */
  index = 0;
  /**
   * The run loop that started the job's current attempt: a late outcome from an
   * earlier, abandoned run (a job that ignored its signal) must not touch this run.
   */
  run: object | undefined = undefined;

  resetForRun(): void {
    this.lifecycle = 'idle';
    this.started = false;
    this.failed = false;
    this.result = undefined;
    this.error = undefined;
    this.attempts = 0;
    this.remaining = 0;
    this.run = undefined;
  }
}

export const kState: unique symbol = Symbol('jobgraph.state');
