/**
 * An abortable sleep on the global timers (so fake timers in tests drive it).
 */
import { checkDuration } from './validate.js';

/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts.
 *
 * @example
 * ```ts
 * new Job(async ({ signal }) => { await sleep(500, signal); return 'slept' })
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  checkDuration('the sleep duration', ms);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
