/**
 * The JobContext given to a running job. It is kept small on purpose: a run of
 * 100,000 jobs creates 100,000 of them. Its AbortController is created lazily, on the
 * first read of `signal`, since most short jobs never read it.
 */
import type { JobContext, JobEvent, SchedulerEvent } from '../model/abstract-job.js';

export const kForward: unique symbol = Symbol('jobgraph.forward');

/** What a context reports to: the run loop, for the job at `index`. */
export interface ContextOwner {
  jobEvent(index: number, event: JobEvent): void;
  forwardEvent(index: number, event: SchedulerEvent): void;
  retrying(index: number, attempt: number, error: unknown): void;
  /** How long a cancelled or timed-out job may take to settle (the scheduler's shutdownTimeout). */
  readonly shutdownTimeout: number;
}

/** Something that can re-publish the events of a nested scheduler in its parent. */
export interface EventForwarder {
  [kForward](event: SchedulerEvent): void;
}

export class RunContext implements JobContext, EventForwarder {
  attempt = 1;
  readonly #owner: ContextOwner;
  readonly #index: number;
  #controller: AbortController | undefined;
  #cancelled = false;
  #reason: unknown;

  constructor(owner: ContextOwner, index: number) {
    this.#owner = owner;
    this.#index = index;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  // A getter that returns a closure rather than a method: jobs destructure their
  // context (`({ signal, emit }) => …`), and a method would lose its `this` there.
  // The closure is made only when a job reads `emit`.
  get emit(): (event: JobEvent) => void {
    return (event) => this.#owner.jobEvent(this.#index, event);
  }

  /** How long a cancelled or timed-out attempt may take to settle, in ms. */
  get shutdownTimeout(): number {
    return this.#owner.shutdownTimeout;
  }

  /** Called before a retry, with the number of the attempt about to start. */
  retrying(attempt: number, error: unknown): void {
    this.attempt = attempt;
    this.#owner.retrying(this.#index, attempt, error);
  }

  [kForward](event: SchedulerEvent): void {
    this.#owner.forwardEvent(this.#index, event);
  }
}

/** A context for one attempt under a per-job timeout: its own signal, linked to the job's. */
export class AttemptContext implements JobContext, EventForwarder {
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly #parent: RunContext;

  constructor(parent: RunContext, signal: AbortSignal) {
    this.#parent = parent;
    this.attempt = parent.attempt;
    this.signal = signal;
  }

  /** Safe to destructure, like {@link RunContext.emit}. */
  get emit(): (event: JobEvent) => void {
    return this.#parent.emit;
  }

  [kForward](event: SchedulerEvent): void {
    this.#parent[kForward](event);
  }
}
