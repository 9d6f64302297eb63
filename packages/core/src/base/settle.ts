/**
 * Bounded waiting for promises to settle (cancelled jobs, shutdowns, timed-out attempts).
 */

/**
 * Waits until every promise has settled, or `ms` milliseconds, whichever comes first.
 * Resolves with the number of promises still pending.
 */
export function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<number> {
  if (promises.length === 0) return Promise.resolve(0);
  let left = promises.length;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(left), ms);
    for (const promise of promises) {
      promise
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve(0);
          }
        });
    }
  });
}
