/**
 * Handshakes paced per destination and per gateway (issue 12): at most `maxHandshakes`
 * connections of the process at once between their TCP connect (or tunnel) and the end of
 * authentication, per destination (`host:port` as dialled; behind a gateway, per gateway
 * connection and `host:port`), and per gateway connection for the targets behind it.
 *
 * Why: sshd drops unauthenticated connections beyond `MaxStartups` (default `10:30:100`: from the
 * 11th connection in its handshake, 30% are dropped, rising to all of them at 100). A fan-out of
 * 200 nodes to one sshd would otherwise open 200 handshakes at once and see most of them dropped.
 * The default of 8 stays under sshd's default start of 10 with room for another client;
 * handshakes dropped anyway (a lower `MaxStartups`, other clients) are retried
 * (handshake-retry.ts).
 *
 * The gates are process-wide: every node object, shared connection or not, waits in the same
 * gate for one destination. A caller is let in while fewer than its own `limit` handshakes hold
 * the gate (nodes may differ). Waiters go first come, first served; a retried handshake goes to
 * the front (it has waited already).
 */

/** The default of SshNode's `maxHandshakes`: handshakes at once per destination and per gateway. */
export const DEFAULT_MAX_HANDSHAKES = 8;

interface Waiter {
  readonly limit: number;
  readonly admit: () => void;
}

/** One destination's (or one gateway's) handshakes in progress, and who waits for a turn. */
class Gate {
  active = 0;
  readonly waiters: Waiter[] = [];

  /** Lets in waiters from the front while the first one's limit allows. */
  pump(): void {
    for (;;) {
      const first = this.waiters[0];
      if (first === undefined || this.active >= first.limit) return;
      this.waiters.shift();
      this.active++;
      first.admit();
    }
  }
}

/** The gates with handshakes in progress or waiting (an idle gate is forgotten). */
const gates = new Map<string, Gate>();

/** How many handshakes hold the gate of `key` now (tests, the bench). */
export function handshakesInProgress(key: string): number {
  return gates.get(key)?.active ?? 0;
}

/**
 * The gates a connection's handshake goes through, outermost first (always in that order, so
 * that two handshakes never wait for each other): the gateway connection's (`via`, its
 * connection key), then the destination's.
 */
export function handshakeGates(host: string, port: number, via: string | undefined): string[] {
  return via === undefined ? [`${host}:${port}`] : [`via ${via}`, `via ${via} to ${host}:${port}`];
}

/**
 * Waits for a turn in every gate of `keys` (in order), then returns the release (idempotent).
 * `signal` stops the wait: the turns taken are given back and the promise rejects with its reason.
 * @param first - go to the front of each queue (a retry, which has waited its turn already)
 */
export async function enterHandshakeGates(
  keys: readonly string[],
  limit: number,
  signal: AbortSignal,
  first = false,
): Promise<() => void> {
  const taken: string[] = [];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const key of taken) leave(key);
  };
  try {
    for (const key of keys) {
      await enter(key, limit, signal, first);
      taken.push(key);
    }
  } catch (error) {
    release();
    throw error;
  }
  return release;
}

function enter(key: string, limit: number, signal: AbortSignal, first: boolean): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let gate = gates.get(key);
  if (gate === undefined) {
    gate = new Gate();
    gates.set(key, gate);
  }
  const entered = gate;
  return new Promise<void>((resolve, reject) => {
    const waiter: Waiter = {
      limit,
      admit: () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
    };
    const onAbort = () => {
      const at = entered.waiters.indexOf(waiter);
      if (at >= 0) entered.waiters.splice(at, 1);
      forgetIfIdle(key, entered);
      // a waiter behind this one may fit now (a smaller limit left the front)
      entered.pump();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (first) entered.waiters.unshift(waiter);
    else entered.waiters.push(waiter);
    entered.pump();
  });
}

function leave(key: string): void {
  const gate = gates.get(key);
  if (gate === undefined) return;
  gate.active--;
  gate.pump();
  forgetIfIdle(key, gate);
}

function forgetIfIdle(key: string, gate: Gate): void {
  if (gate.active === 0 && gate.waiters.length === 0 && gates.get(key) === gate) gates.delete(key);
}
