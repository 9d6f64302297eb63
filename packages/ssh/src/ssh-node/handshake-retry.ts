/**
 * A connection attempt, paced (handshake-gate.ts) and retried when the server dropped it before
 * the SSH handshake (issue 12: sshd's `MaxStartups`, which closes the new connection before or
 * during the banner and key exchange; the client sees "Connection lost before handshake" or a
 * reset).
 *
 * Only those drops are retried, as the transport marks them (`handshakeDropped` on the error:
 * closed or reset before the key exchange completed, no host key verdict, no timeout): never an
 * authentication refusal, a host key mismatch, a refused or unreachable port, nor a timeout. The
 * retries back off (exponential, full jitter) and stay within the node's `connectTimeout`, counted
 * over the attempts and the pauses between them, not the time spent waiting for a turn in the
 * gates: a fan-out of 500 nodes to one server waits its turns without eating its budget.
 */
import { sleep } from '@jobgraph/core';
import { SshError, type SshErrorCode } from '../errors.js';
import { enterHandshakeGates } from './handshake-gate.js';

/** Knobs for tests and the bench; not part of the package's API. */
export const handshakeTuning = {
  /** Retry dropped handshakes (tests turn it off to show what pacing and retries prevent). */
  retry: true,
  /** The first pause before a retry is up to this (ms), doubling each time... */
  firstDelay: 50,
  /** ...up to this (ms). */
  maxDelay: 1000,
  /** Told of each retry (the bench counts them). */
  onRetry: undefined as ((error: unknown) => void) | undefined,
};

/**
 * Whether the transport said the server dropped the connection before the SSH handshake: the
 * `handshakeDropped` mark that `transport/ssh2.ts` puts on such errors (a test's transport may too).
 */
export function isDroppedHandshake(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { handshakeDropped?: unknown }).handshakeDropped === true
  );
}

/** What {@link pacedConnect} needs. */
export interface PacedConnectRequest<T> {
  /** The gates to go through (handshakeGates()). */
  readonly gates: readonly string[];
  /** Handshakes at once in each gate. */
  readonly limit: number;
  /** The node's `connectTimeout`: the bound of the first attempt, and of all of them together. */
  readonly budget: number;
  readonly signal: AbortSignal;
  /** One attempt, bounded by `timeout` ms; it cleans up after itself when it fails. */
  readonly attempt: (timeout: number) => Promise<T>;
}

/**
 * `request.attempt`, run while holding a turn in each gate, and run again after a pause when the
 * server dropped it before the handshake, while the budget lasts. The last failure is the error
 * (an {@link SshError} says how many handshakes were dropped before it).
 */
export async function pacedConnect<T>(request: PacedConnectRequest<T>): Promise<T> {
  const { gates, limit, budget, signal } = request;
  let spent = 0;
  for (let attempt = 1; ; attempt++) {
    const release = await enterHandshakeGates(gates, limit, signal, attempt > 1);
    const started = performance.now();
    let pause: number;
    try {
      return await request.attempt(Math.max(1, budget - spent));
    } catch (error) {
      spent += performance.now() - started;
      pause =
        Math.random() * Math.min(handshakeTuning.maxDelay, handshakeTuning.firstDelay * 2 ** (attempt - 1));
      const retry =
        handshakeTuning.retry && isDroppedHandshake(error) && !signal.aborted && spent + pause < budget;
      if (!retry) throw attempt === 1 ? error : withDrops(error, attempt - 1);
      handshakeTuning.onRetry?.(error);
    } finally {
      release();
    }
    await sleep(pause, signal);
    spent += pause;
  }
}

/** `error`, its message saying that `drops` earlier handshakes were dropped by the server. */
function withDrops(error: unknown, drops: number): unknown {
  if (!(error instanceof SshError)) return error;
  const why = isDroppedHandshake(error)
    ? `dropped by the server before the handshake ${drops + 1} times within connectTimeout (its MaxStartups?)`
    : `after ${drops} handshake${drops === 1 ? '' : 's'} dropped by the server`;
  const wrapped = new SshError(error.code as SshErrorCode, `${error.message} (${why})`, {
    cause: error,
    ...(error.node === undefined ? {} : { node: error.node }),
  });
  if (isDroppedHandshake(error)) Object.assign(wrapped, { handshakeDropped: true });
  return wrapped;
}
