/**
 * The SFTP session of one user of a connection (one node object): every node object on a shared
 * connection has its own, so that closing it to stop a transfer (`resetSftp()`, as ssh2 cannot
 * abort a copy) touches no other node's file calls.
 */
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { openWithRetry, type SessionBudget } from '../session-budget.js';
import type { Connection, SftpSession } from '../transport/transport.js';
import { type EventSource, nodeEvent } from './node-events.js';

/** One attempt at opening the session, then the session it opened. */
interface Opening {
  readonly promise: Promise<SftpSession>;
  /** Abandons the attempt (reset, close, or nobody waiting any more); not any caller's signal. */
  readonly abort: AbortController;
  /** Callers waiting for the attempt; the last one whose signal aborts abandons it. */
  waiters: number;
  /** Once opened and kept. */
  session?: SftpSession;
}

/**
 * One node's SFTP session on a connection: opened at first use within the connection's channel
 * budget (it holds one slot while open), then reused; replaced by the next file command once it
 * has ended. The open is the session's own: a caller's signal stops that caller's wait only.
 */
export class UserSftpSession {
  readonly #node: EventSource;
  readonly #openTimeout: number;
  #opening: Opening | undefined;
  #release: (() => void) | undefined;

  /**
   * @param node - who hears its events (the node object using it), and its name in messages
   * @param openTimeout - how long the server may keep refusing the channel, in ms
   */
  constructor(node: EventSource, openTimeout: number) {
    this.#node = node;
    this.#openTimeout = openTimeout;
  }

  /** Whether `session` is the one open now. */
  is(session: SftpSession): boolean {
    return this.#opening?.session === session;
  }

  /** Whether the session is open or opening, holding (or waiting for) a channel slot. */
  get active(): boolean {
    return this.#opening !== undefined;
  }

  /** The session, opened on `connection` with a slot of `budget` unless one is open or opening. */
  get(connection: Connection, budget: SessionBudget, signal?: AbortSignal): Promise<SftpSession> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const opening = this.#opening ?? this.#start(connection, budget);
    if (opening.session !== undefined) return Promise.resolve(opening.session);
    return this.#wait(opening, signal);
  }

  #start(connection: Connection, budget: SessionBudget): Opening {
    const abort = new AbortController();
    const opening: Opening = {
      abort,
      waiters: 0,
      promise: this.#open(connection, budget, abort.signal).then(({ session, release }) =>
        this.#adopt(opening, session, release),
      ),
    };
    this.#opening = opening;
    // every waiter may have gone: the failure is theirs to see, never an unhandled rejection
    opening.promise.catch(() => {
      if (this.#opening === opening) this.#opening = undefined;
    });
    return opening;
  }

  /** The attempt, for one caller: its signal aborting ends its wait, and the attempt once no one waits. */
  #wait(opening: Opening, signal: AbortSignal | undefined): Promise<SftpSession> {
    opening.waiters++;
    return new Promise<SftpSession>((resolve, reject) => {
      let waiting = true;
      const stop = () => {
        waiting = false;
        opening.waiters--;
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (!waiting) return;
        stop();
        reject(signal?.reason);
        // (a session already kept is the node's, waited for or not)
        if (opening.waiters === 0 && opening.session === undefined && this.#opening === opening)
          this.#abandon(opening);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      opening.promise.then(
        (session) => {
          if (!waiting) return;
          stop();
          resolve(session);
        },
        (error: unknown) => {
          if (!waiting) return;
          stop();
          reject(error);
        },
      );
    });
  }

  /**
   * A session just opened: kept, with its slot, if `opening` is still the current one. Reset,
   * closed or forgotten while it was opening, whoever did it found no slot to give back and no
   * session to close: both are done here, and the callers waiting for it fail.
   */
  #adopt(opening: Opening, session: SftpSession, release: () => void): SftpSession {
    if (this.#opening !== opening) {
      release();
      session.close();
      nodeEvent(this.#node, 'sftp-stop');
      throw closedWhileOpening(this.#node.toString());
    }
    this.#release = release;
    opening.session = session;
    // A session that ends on its own (or is closed to stop a transfer) is replaced
    // by the next file command, and its slot is given back.
    session.onClose(() => {
      if (this.#opening !== opening) return;
      this.#opening = undefined;
      this.#giveBackSlot();
    });
    // A server that answers nothing while requests wait (stuck in a hung file system) would hold
    // a Push or Pull for good: given up after the connection's bound, and dropped (the next file
    // command opens another).
    session.watchStalls?.(this.#openTimeout, () => {
      if (this.#opening === opening) this.close();
    });
    return session;
  }

  /** A session and the release of its slot, which the caller keeps (or gives back at once). */
  async #open(
    connection: Connection,
    budget: SessionBudget,
    signal: AbortSignal,
  ): Promise<{ session: SftpSession; release: () => void }> {
    const node = this.#node.toString();
    const release = await budget.acquire('sftp', signal);
    try {
      const session = await openWithRetry(() => connection.sftp(), node, this.#openTimeout, signal);
      nodeEvent(this.#node, 'sftp-start');
      return { session, release };
    } catch (error) {
      release();
      throw error instanceof SshError
        ? error
        : new SshError(SshErrorCode.SFTP, `Cannot start SFTP on ${node}: ${messageOf(error)}`, {
            cause: error,
            node,
          });
    }
  }

  /**
   * Closes the session without waiting (the way to stop a transfer in progress; the node stops
   * using the connection); its slot is given back at once. A session still opening is abandoned:
   * no longer waiting for a slot, or closed (and its slot given back) as soon as it opens; the
   * file commands waiting for it fail. The next file command opens a new one.
   */
  close(): void {
    const opening = this.#opening;
    if (opening === undefined) return;
    this.#opening = undefined;
    this.#giveBackSlot();
    if (opening.session !== undefined) {
      opening.session.close();
      nodeEvent(this.#node, 'sftp-stop');
    } else {
      opening.abort.abort(closedWhileOpening(this.#node.toString()));
    }
  }

  /** The connection is gone, and the session with it: nothing to close, and its budget is replaced. */
  forget(): void {
    // not aborted: an attempt waiting for a slot is turned away by the gone connection's budget,
    // as one that may move to the next connection
    this.#opening = undefined;
    this.#release = undefined;
  }

  /** Nobody waits for the attempt any more: it is dropped, with the slot it waits for or holds. */
  #abandon(opening: Opening): void {
    this.#opening = undefined;
    opening.abort.abort(closedWhileOpening(this.#node.toString()));
  }

  #giveBackSlot(): void {
    this.#release?.();
    this.#release = undefined;
  }
}

/** Why a file command waiting for a session closed (or abandoned) meanwhile fails. */
export function closedWhileOpening(node: string): SshError {
  return new SshError(
    SshErrorCode.SFTP,
    `Cannot start SFTP on ${node}: the session was closed while it was opening (resetSftp, close or a lost connection)`,
    { node },
  );
}
