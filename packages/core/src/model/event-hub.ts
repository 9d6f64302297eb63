/**
 * The typed event stream of a run (DESIGN.md section 7).
 *
 * Events form a discriminated union on `type`. The map is an interface so that other
 * packages can add their own events by module augmentation, e.g. @jobgraph/ssh:
 * ```ts
 * declare module '@jobgraph/core' {
 *   interface EventMap { 'cmd:line': { job: AbstractJob; line: string; stream: 'stdout' | 'stderr' } }
 * }
 * ```
 */
import type { AbstractJob } from './abstract-job.js';
import type { PureScheduler } from './pure-scheduler.js';

/** Payloads of the events, by `type`. Augment it to add events of your own. */
export interface EventMap {
  /** A scheduler starts a run. */
  'run:start': { scheduler: PureScheduler; jobs: number };
  /** A scheduler's run ended; `ok` is what `run()` resolves to (or false when it rejects). */
  'run:done': { scheduler: PureScheduler; ok: boolean; why: string };
  /** The scheduler's global timeout expired. */
  'run:timeout': { scheduler: PureScheduler; timeout: number };
  /** The run is being aborted: a critical job failed, or the caller's signal aborted. */
  'run:abort': { scheduler: PureScheduler; reason: unknown; job?: AbstractJob };
  /** Every job's `shutdown()` is being called. */
  'shutdown:start': { scheduler: PureScheduler };
  /** Shutdown ended; `pending` counts the jobs whose `shutdown()` did not return in time. */
  'shutdown:done': { scheduler: PureScheduler; pending: number };
  /** A job is ready but waits for a slot of the `jobsWindow`. */
  'job:scheduled': { job: AbstractJob };
  /** A job starts an attempt (`attempt` is 1 for the first one). */
  'job:start': { job: AbstractJob; attempt: number };
  /** An attempt failed and the job will be tried again. */
  'job:retry': { job: AbstractJob; attempt: number; error: unknown };
  /** A job completed with a result. */
  'job:done': { job: AbstractJob; result: unknown };
  /** A job completed by throwing. */
  'job:failed': { job: AbstractJob; error: unknown; critical: boolean };
  /** A running job was cancelled by the scheduler; `reason` is what its signal was aborted with. */
  'job:cancelled': { job: AbstractJob; reason: unknown };
  /** Free-form progress message from a job (`ctx.emit({ type: 'job:message', message })`). */
  'job:message': { job: AbstractJob; message: string };
  /** A listener threw while handling an event of type `failedType`; the run went on. */
  'listener:error': { error: unknown; failedType: string };
}

/** The common fields of every event. */
export interface EventBase {
  /** `Date.now()` when the event was emitted. */
  readonly time: number;
  /**
   * The nested schedulers between the scheduler you listen to and the event's source,
   * outermost first; empty for the scheduler's own jobs.
   */
  readonly path: readonly AbstractJob[];
}

/** Any event of a run: `{ type, time, path, ...payload }`. */
export type SchedulerEvent = {
  [K in keyof EventMap]: { readonly type: K } & EventBase & EventMap[K];
}[keyof EventMap];

/** The event of one `type`. */
export type EventOf<K extends keyof EventMap> = Extract<SchedulerEvent, { type: K }>;

/** The types of the events that concern one job (those with a `job` field). */
export type JobEventType = {
  [K in keyof EventMap]: EventMap[K] extends { job: AbstractJob } ? K : never;
}[keyof EventMap];

/** What a job passes to `ctx.emit()`: a job event without `job`, `time`, `path`, which the scheduler fills in. */
export type JobEvent = {
  [K in JobEventType]: { readonly type: K } & Omit<EventMap[K], 'job'>;
}[JobEventType];

/** A listener of one type of event. */
export type Listener<K extends keyof EventMap> = (event: EventOf<K>) => void;

/**
 * A minimal typed emitter. Unlike Node's EventEmitter there is no special `'error'`
 * event that could crash the process: a listener that throws is reported to the other
 * listeners as a `listener:error` event, and the run goes on.
 */
export class EventHub {
  readonly #byType = new Map<string, Set<(event: SchedulerEvent) => void>>();
  readonly #any = new Set<(event: SchedulerEvent) => void>();
  #count = 0;

  /** True when at least one listener is subscribed: lets the run loop skip building events. */
  get active(): boolean {
    return this.#count > 0;
  }

  on<K extends keyof EventMap>(type: K, listener: Listener<K>): () => void {
    let set = this.#byType.get(type);
    if (set === undefined) {
      set = new Set();
      this.#byType.set(type, set);
    }
    const wrapped = listener as (event: SchedulerEvent) => void;
    if (!set.has(wrapped)) {
      set.add(wrapped);
      this.#count++;
    }
    return () => {
      if (set.delete(wrapped)) this.#count--;
    };
  }

  onAny(listener: (event: SchedulerEvent) => void): () => void {
    if (!this.#any.has(listener)) {
      this.#any.add(listener);
      this.#count++;
    }
    return () => {
      if (this.#any.delete(listener)) this.#count--;
    };
  }

  dispatch(event: SchedulerEvent): void {
    const set = this.#byType.get(event.type);
    if (set !== undefined) for (const listener of set) this.#call(listener, event);
    for (const listener of this.#any) this.#call(listener, event);
  }

  #call(listener: (event: SchedulerEvent) => void, event: SchedulerEvent): void {
    try {
      listener(event);
    } catch (error) {
      // A failure while reporting a failure is dropped: no loop, no crash.
      if (event.type === 'listener:error') return;
      this.dispatch({
        type: 'listener:error',
        error,
        failedType: event.type,
        time: Date.now(),
        path: event.path,
      });
    }
  }
}
