/**
 * At most `concurrency` hosts at work at once (parallel-ssh's `pool_size`): the others wait their
 * turn, in host order. Without a limit, every host starts at once.
 */
import { invalid } from './hosts.js';

/** Runs work within the limit; `signal` (aborted) takes a waiting host out of the queue. */
export type HostGate = <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/**
 * Checks a `concurrency` option.
 * @throws SshError `ERR_INVALID_OPTION` unless undefined or a positive integer
 */
export function checkConcurrency(concurrency: unknown): void {
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && (concurrency as number) >= 1)) {
    throw invalid(
      `Invalid Fleet option concurrency: expected a positive integer (hosts at work at once), got ${String(concurrency)}`,
    );
  }
}

/** A gate of `concurrency` places (none: no limit). */
export function hostGate(concurrency: number | undefined): HostGate {
  if (concurrency === undefined) return (work) => work();
  let active = 0;
  const waiting: Array<() => void> = [];
  const leave = () => {
    active--;
    waiting.shift()?.();
  };
  return async (work, signal) => {
    if (active >= concurrency) {
      await new Promise<void>((resolve, reject) => {
        const enter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const index = waiting.indexOf(enter);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal?.reason);
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(enter);
      });
    }
    active++;
    try {
      return await work();
    } finally {
      leave();
    }
  };
}
