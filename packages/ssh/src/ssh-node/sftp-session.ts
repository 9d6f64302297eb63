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
      const opening = (async () => {
        const session = await this.#open(connection, budget, signal);
        // A session that ends on its own (or is closed to stop a transfer) is replaced
        // by the next file command, and its slot is given back.
        session.onClose(() => {
          if (this.#opening !== opening) return;
          this.#opening = undefined;
          this.#giveBackSlot();
        });
        return session;
      })();
      this.#opening = opening;
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  async #open(connection: Connection, budget: SessionBudget, signal: AbortSignal | undefined) {
    const node = this.#node.toString();
    const release = await budget.acquire(signal);
    try {
      const session = await openWithRetry(() => connection.sftp(), node, this.#openTimeout, signal);
      this.#release = release;
      nodeEvent(this.#node, 'sftp-start');
      return session;
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
   * given back at once.
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
