/**
 * The channel budget of one connection. sshd refuses the 11th session channel of a
 * connection (MaxSessions 10, "open failed"), and still counts channels that are
 * closing, so a budget alone is not enough: a refusal is treated as "no slot yet"
 * and retried with backoff, never shown to the user as a failure.
 */
import { SshError, SshErrorCode } from './errors.js';
import { ChannelRefusedError } from './transport/transport.js';

/** A FIFO semaphore of `size` slots. */
export class SessionBudget {
  readonly size: number;
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.size = size;
    this.#free = size;
  }

  /** Slots in use. */
  get used(): number {
    return this.size - this.#free;
  }

  /**
   * Waits for a slot; resolves with its release function (idempotent).
   * Rejects with the signal's reason if it aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.#releaser());
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      this.#waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/**
 * Opens a channel, retrying while the server refuses it for lack of a session slot
 * (backoff 10 ms doubling to 500 ms), for at most `limit` ms.
 * @throws SshError `ERR_SSH_CHANNEL` when the server still refuses after `limit`.
 */
export async function openWithRetry<T>(
  open: () => Promise<T>,
  node: string,
  limit: number,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  let delay = 10;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof ChannelRefusedError)) throw error;
      if (Date.now() - started + delay > limit) {
        throw new SshError(
          SshErrorCode.CHANNEL,
          `Cannot open a session on ${node}: the server kept refusing for ${limit} ms (${error.message}); lower maxSessions`,
          { cause: error, node },
        );
      }
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
  }
}
