/**
 * EventHub: the typed emitter behind `scheduler.on()` and `onAny()`. The event types
 * themselves live with the job that emits them (model/abstract-job.ts).
 */
import type { EventMap, Listener, SchedulerEvent } from './abstract-job.js';

type AnyListener = (event: SchedulerEvent) => void;
const NONE: readonly AnyListener[] = [];

/**
 * A minimal typed emitter. Unlike Node's EventEmitter there is no special `'error'`
 * event that could crash the process: a listener that throws, or an async one that rejects, is
 * reported to the other listeners as a `listener:error` event, and the run goes on.
 *
 * Listeners are held in arrays replaced on each change (copy on write): an event goes to the
 * listeners there were when it was dispatched, even if one of them subscribes or unsubscribes,
 * and a dispatch is a plain loop, no iterator: a logged 10,000-job run dispatches 20,000 events
 * (bench/event-log.mjs).
 */
export class EventHub {
  readonly #byType = new Map<string, readonly AnyListener[]>();
  #any = NONE;
  #count = 0;
  readonly #onFailure: ((failure: SchedulerEvent) => void) | undefined;

  /**
   * @param onFailure - told each `listener:error` once this hub's listeners have had it (a nested
   *   scheduler's hub passes it to the parent's listeners, as its other events)
   */
  constructor(onFailure?: (failure: SchedulerEvent) => void) {
    this.#onFailure = onFailure;
  }

  /** True when at least one listener is subscribed: lets the run loop skip building events. */
  get active(): boolean {
    return this.#count > 0;
  }

  on<K extends keyof EventMap>(type: K, listener: Listener<K>): () => void {
    const wrapped = listener as AnyListener;
    const listeners = this.#byType.get(type) ?? NONE;
    if (listeners.includes(wrapped)) return () => this.#offType(type, wrapped);
    this.#byType.set(type, [...listeners, wrapped]);
    this.#count++;
    return () => this.#offType(type, wrapped);
  }

  onAny(listener: AnyListener): () => void {
    if (!this.#any.includes(listener)) {
      this.#any = [...this.#any, listener];
      this.#count++;
    }
    return () => {
      if (!this.#any.includes(listener)) return;
      this.#any = this.#any.filter((other) => other !== listener);
      this.#count--;
    };
  }

  /**
   * Gives `event` to the listeners, then to `forward` (a nested scheduler's parent), then tells
   * the failures of listeners it caused: in that order everywhere, each failure after its cause.
   */
  dispatch(event: SchedulerEvent, forward?: (event: SchedulerEvent) => void): void {
    this.#depth++;
    try {
      this.#deliver(event);
    } finally {
      this.#depth--;
    }
    forward?.(event);
    // A listener's failure is told once every listener has had the event that caused it: told at
    // once, a log listening after the one that failed wrote the error before its cause.
    this.#tellFailures();
  }

  #tellFailures(): void {
    if (this.#depth > 0 || this.#failures.length === 0) return;
    const failures = this.#failures.splice(0);
    for (const failure of failures) {
      this.dispatch(failure);
      this.#onFailure?.(failure);
    }
  }

  /** How deep in dispatches the hub is (a listener may cause events); failures wait for 0. */
  #depth = 0;
  readonly #failures: SchedulerEvent[] = [];

  #deliver(event: SchedulerEvent): void {
    if (this.#byType.size > 0) {
      const typed = this.#byType.get(event.type);
      if (typed !== undefined)
        for (let i = 0; i < typed.length; i++) this.#call(typed[i] as AnyListener, event);
    }
    const any = this.#any;
    for (let i = 0; i < any.length; i++) this.#call(any[i] as AnyListener, event);
  }

  #offType(type: string, listener: AnyListener): void {
    const listeners = this.#byType.get(type);
    if (listeners === undefined || !listeners.includes(listener)) return;
    const rest = listeners.filter((other) => other !== listener);
    if (rest.length === 0) this.#byType.delete(type);
    else this.#byType.set(type, rest);
    this.#count--;
  }

  #call(listener: AnyListener, event: SchedulerEvent): void {
    let result: unknown;
    try {
      result = listener(event);
    } catch (error) {
      this.#failed(error, event);
      return;
    }
    // An async listener (the type says void, which an async function satisfies) fails later: its
    // rejection is told the same way, where left alone it crashed the process (unhandled rejection).
    if (result === undefined || result === null) return;
    try {
      if (typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
          this.#failed(error, event);
          this.#tellFailures();
        });
      }
    } catch (error) {
      // a returned object whose `then` cannot be read (a revoked Proxy)
      this.#failed(error, event);
    }
  }

  #failed(error: unknown, event: SchedulerEvent): void {
    // A failure while reporting a failure is dropped: no loop, no crash.
    if (event.type === 'listener:error') return;
    this.#failures.push({
      type: 'listener:error',
      error,
      failedType: event.type,
      time: Date.now(),
      path: event.path,
    });
  }
}
