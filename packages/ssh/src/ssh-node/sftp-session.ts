/**
 * The one SFTP session of a connection, shared by the file commands (Push, Pull, scripts).
 */
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { openWithRetry, type SessionBudget } from '../session-budget.js';
import type { Connection, SftpSession } from '../transport/transport.js';
import { type EventSource, nodeEvent } from './node-events.js';

/**
 * A connection's SFTP session: opened at first use within the channel budget (it holds one
 * slot while open), then reused; replaced by the next file command once it has ended.
 */
export class SharedSftpSession {
  readonly #node: EventSource;
  readonly #openTimeout: number;
  #opening: Promise<SftpSession> | undefined;
  #release: (() => void) | undefined;

  /** @param openTimeout - how long the server may keep refusing the channel, in ms */
  constructor(node: EventSource, openTimeout: number) {
    this.#node = node;
    this.#openTimeout = openTimeout;
  }

  /** The session, opened on `connection` with a slot of `budget` unless one is open or opening. */
  get(connection: Connection, budget: SessionBudget, signal?: AbortSignal): Promise<SftpSession> {
    if (this.#opening === undefined) {
      const opening: Promise<SftpSession> = this.#open(connection, budget, signal).then(
        ({ session, release }) => this.#adopt(opening, session, release),
      );
      this.#opening = opening;
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  /**
   * A session just opened: kept, with its slot, if `opening` is still the current one. Reset,
   * closed or forgotten while it was opening, whoever did it found no slot to give back and no
   * session to close: both are done here, and the callers waiting for it fail.
   */
  #adopt(opening: Promise<SftpSession>, session: SftpSession, release: () => void): SftpSession {
    if (this.#opening !== opening) {
      release();
      session.close();
      nodeEvent(this.#node, 'sftp-stop');
      const node = this.#node.toString();
      throw new SshError(
        SshErrorCode.SFTP,
        `Cannot start SFTP on ${node}: the session was closed while it was opening (resetSftp, close or a lost connection)`,
        { node },
      );
    }
    this.#release = release;
    // A session that ends on its own (or is closed to stop a transfer) is replaced
    // by the next file command, and its slot is given back.
    session.onClose(() => {
      if (this.#opening !== opening) return;
      this.#opening = undefined;
      this.#giveBackSlot();
    });
    return session;
  }

  /** A session and the release of its slot, which the caller keeps (or gives back at once). */
  async #open(
    connection: Connection,
    budget: SessionBudget,
    signal: AbortSignal | undefined,
  ): Promise<{ session: SftpSession; release: () => void }> {
    const node = this.#node.toString();
    const release = await budget.acquire(signal);
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
   * Closes the session without waiting (the way to stop a transfer in progress); its slot is
   * given back at once. A session still opening is closed, and its slot given back, as soon as
   * it opens; the file commands waiting for it fail.
   */
  reset(): void {
    const opening = this.#opening;
    if (opening === undefined) return;
    this.#opening = undefined;
    this.#giveBackSlot();
    void opening.then(
      (session) => {
        session.close();
        nodeEvent(this.#node, 'sftp-stop');
      },
      () => undefined,
    );
  }

  /** Closes the session, once it has opened if it is opening; its slot is given back at once. */
  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    this.#giveBackSlot();
    if (opening === undefined) return;
    const session = await opening.catch(() => undefined);
    if (session) {
      session.close();
      nodeEvent(this.#node, 'sftp-stop');
    }
  }

  /** The connection is gone, and the session with it: nothing to close, and its budget is replaced. */
  forget(): void {
    this.#opening = undefined;
    this.#release = undefined;
  }

  #giveBackSlot(): void {
    this.#release?.();
    this.#release = undefined;
  }
}
