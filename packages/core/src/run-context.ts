/**
 * The JobContext given to a running job. Its AbortController is created lazily, on
 * the first read of `signal`: most short jobs never read it, and 100,000 controllers
 * would cost more than the whole rest of a run.
 */
import type { JobContext } from './abstract-job.js';
import type { JobEvent, SchedulerEvent } from './events.js';

export const kForward: unique symbol = Symbol('jobgraph.forward');

/** Receives the events of a nested scheduler, to re-publish them in its parent. */
export type Forwarder = (event: SchedulerEvent) => void;

export class RunContext implements JobContext {
  attempt = 1;
  #controller: AbortController | undefined;
  #cancelled = false;
  #reason: unknown;
  readonly #emit: (event: JobEvent) => void;
  /** Set when the job is a nested scheduler: how its events reach the parent. */
  readonly [kForward]: Forwarder;

  constructor(emit: (event: JobEvent) => void, forward: Forwarder) {
    this.#emit = emit;
    this[kForward] = forward;
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

  emit(event: JobEvent): void {
    this.#emit(event);
  }
}

/** A context for one attempt under a per-job timeout: its own signal, linked to the job's. */
export class AttemptContext implements JobContext {
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly [kForward]: Forwarder;
  readonly #parent: RunContext;

  constructor(parent: RunContext, signal: AbortSignal) {
    this.#parent = parent;
    this.attempt = parent.attempt;
    this.signal = signal;
    this[kForward] = parent[kForward];
  }

  emit(event: JobEvent): void {
    this.#parent.emit(event);
  }
}
