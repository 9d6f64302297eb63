/**
 * Any asynchronous work on every host of a fleet at once, one result per host: the value, or
 * the error as a value (one host's failure never rejects the others'). `fleet.fs`, `copyTo`,
 * `copyFrom` and `fleet.each` stand on it.
 */
import type { CommandNode } from '../node.js';
import { hostGate } from './host-gate.js';
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
 * Runs `work` on every host at once (at most `concurrency` at a time, if given); resolves to one
 * result per host, in host order, never rejects (a throw, even a synchronous one, is that host's
 * `error`). A host's `durationMs` starts with its turn.
 */
export function eachHost<T>(
  hosts: readonly FleetHost[],
  work: (host: FleetHost, index: number) => Promise<T> | T,
  concurrency?: number,
): Promise<FleetValue<T>[]> {
  const gate = hostGate(concurrency);
  return Promise.all(
    hosts.map(async (host, index): Promise<FleetValue<T>> => {
      const base = { host: host.name, node: host.node };
      let start = performance.now();
      try {
        const value = await gate(async () => {
          start = performance.now();
          return await work(host, index);
        });
        return { ...base, ok: true, value, durationMs: performance.now() - start };
      } catch (caught) {
        return { ...base, ok: false, error: asError(caught), durationMs: performance.now() - start };
      }
    }),
  );
}
