/**
 * The channel budget of one connection. sshd refuses the 11th session channel of a
 * connection (MaxSessions 10, "open failed"), and still counts channels that are
 * closing, so a budget alone is not enough: a refusal is treated as "no slot yet"
 * and retried with backoff, never shown to the user as a failure. When the connection
 * goes, its budget turns its waiters away, so that they can wait on the next connection.
 */
import { SshError, SshErrorCode } from './errors.js';
import { ChannelRefusedError } from './transport/transport.js';

/**
 * Why a command waiting for a slot was turned away: the budget's connection is gone. `movable`
 * when it dropped (the command never started: it may wait on the next connection instead), not
 * when it was closed on purpose (`close()`, `closeAll()`).
 */
export class SlotWithdrawnError extends SshError {
  readonly movable: boolean;

  /** @param why - what happened, when not the connection's loss or close */
  constructor(node: string, movable: boolean, why?: string) {
    super(
      SshErrorCode.CHANNEL,
      why ??
        (movable
          ? `Connection to ${node} lost while the command waited for a channel`
          : `Connection to ${node} closed before the command could start`),
      { node },
    );
    this.movable = movable;
  }
}

/**
 * Who takes a slot: a command holds it until it ends; an SFTP session for as long as it is open
 * (it is reused by every file command), so that slots all held by SFTP sessions never come free
 * for a command.
 */
export type SlotHolder = 'command' | 'sftp';

/** One waiter: how to grant it a slot, and how to turn it away. */
interface Waiter {
  readonly holder: SlotHolder;
  readonly grant: () => void;
  readonly refuse: (reason: SlotWithdrawnError) => void;
}

/**
 * A FIFO semaphore of `size` slots, for one connection: closed with it ({@link SessionBudget.close}),
 * it turns its waiters away.
 */
export class SessionBudget {
  readonly size: number;
  /** The connection's node, as messages name it. */
  readonly #node: string;
  #free: number;
  /** Slots held by SFTP sessions. */
  #sftp = 0;
  readonly #waiting: Waiter[] = [];
  #closed: SlotWithdrawnError | undefined;

  constructor(size: number, node: string) {
    this.size = size;
    this.#node = node;
    this.#free = size;
  }

  /** Whether SFTP sessions hold every slot: a command would wait until one of them closes. */
  get takenBySftp(): boolean {
    return this.#sftp >= this.size;
  }

  /** Slots in use. */
  get used(): number {
    return this.size - this.#free;
  }

  /**
   * Waits for a slot; resolves with its release function (idempotent).
   * Rejects with the signal's reason if it aborts while waiting. A command is turned away (a
   * movable {@link SlotWithdrawnError}: it may choose another connection) when SFTP sessions hold
   * every slot, or come to while it waits.
   */
  acquire(holder: SlotHolder, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#taken(holder));
    }
    if (holder === 'command' && this.takenBySftp) return Promise.reject(this.#sftpTookAll());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        holder,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#taken(holder));
        },
        refuse: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      this.#waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The connection is gone: every waiter, and every later {@link SessionBudget.acquire}, is
   * turned away with `reason`. Slots still held are given back as usual (to nobody). Idempotent:
   * the first reason stays.
   */
  close(reason: SlotWithdrawnError): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const waiter of this.#waiting.splice(0)) waiter.refuse(reason);
  }

  /** A slot given to `holder`: its release function; the commands waiting are turned away once SFTP sessions hold every slot. */
  #taken(holder: SlotHolder): () => void {
    if (holder === 'sftp' && ++this.#sftp >= this.size) {
      const commands = this.#waiting.filter((waiter) => waiter.holder === 'command');
      if (commands.length > 0) {
        this.#waiting.splice(
          0,
          this.#waiting.length,
          ...this.#waiting.filter((waiter) => waiter.holder === 'sftp'),
        );
        const reason = this.#sftpTookAll();
        for (const waiter of commands) waiter.refuse(reason);
      }
    }
    return this.#releaser(holder);
  }

  #sftpTookAll(): SlotWithdrawnError {
    return new SlotWithdrawnError(
      this.#node,
      true,
      `SFTP sessions hold every channel of the connection to ${this.#node}`,
    );
  }

  #releaser(holder: SlotHolder): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (holder === 'sftp') this.#sftp--;
      const next = this.#waiting.shift();
      if (next) next.grant();
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
