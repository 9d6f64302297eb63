/**
 * EventHub: the typed emitter behind `scheduler.on()` and `onAny()`. The event types
 * themselves live with the job that emits them (model/abstract-job.ts).
 */
import type { EventMap, Listener, SchedulerEvent } from './abstract-job.js';

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
