/**
 * Any asynchronous work on every host of a fleet at once, one result per host: the value, or
 * the error as a value (one host's failure never rejects the others'). `fleet.fs`, `copyTo`,
 * `copyFrom` and `fleet.each` stand on it.
 */
import type { CommandNode } from '../node.js';
import type { FleetHost } from './hosts.js';

/** What the work did on one host. */
export interface FleetValue<T> {
  /** The host's name in the fleet. */
  readonly host: string;
  readonly node: CommandNode;
  /** Done without error (`value` is set, `error` is not). */
  readonly ok: boolean;
  /** What the work resolved to (when `ok`). */
  readonly value?: T;
  /** Why it failed (when not `ok`). */
  readonly error?: Error;
  /** From the start of this host's work to its end. */
  readonly durationMs: number;
}

export function asError(caught: unknown): Error {
  return caught instanceof Error ? caught : new Error(String(caught));
}

/**
 * Runs `work` on every host at once; resolves to one result per host, in host order, never
 * rejects (a throw, even a synchronous one, is that host's `error`).
 */
export function eachHost<T>(
  hosts: readonly FleetHost[],
  work: (host: FleetHost, index: number) => Promise<T> | T,
): Promise<FleetValue<T>[]> {
  return Promise.all(
    hosts.map(async (host, index): Promise<FleetValue<T>> => {
      const start = performance.now();
      const base = { host: host.name, node: host.node };
      try {
        const value = await work(host, index);
        return { ...base, ok: true, value, durationMs: performance.now() - start };
      } catch (caught) {
        return { ...base, ok: false, error: asError(caught), durationMs: performance.now() - start };
      }
    }),
  );
}
