/**
 * The life of one SSH connection: opened lazily at first use, under a lock (concurrent
 * callers share one attempt); opened again by the next use after it dropped; closed when told
 * (who uses it, and when it may close, is connection-registry.ts's business). What lives and
 * dies with the connection lives here too: its channel budget and the SFTP sessions on it (one
 * per user: per node object).
 *
 * It knows nothing of gateways: a connection behind one is given a {@link Dial} that opens a
 * stream to its server (gateway-tunnel.ts); the others connect over TCP.
 */
import type { Duplex } from 'node:stream';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { type HostKeyPolicy, verifyHostKey } from '../known-hosts.js';
import { SessionBudget, SlotWithdrawnError } from '../session-budget.js';
import type { Connection, SftpSession, Transport } from '../transport/transport.js';
import type { Credentials } from './credentials.js';
import { DEFAULT_MAX_HANDSHAKES, handshakeGates } from './handshake-gate.js';
import { pacedConnect } from './handshake-retry.js';
import { type EventSource, nodeEvent } from './node-events.js';
import { closedWhileOpening, UserSftpSession } from './sftp-session.js';
import { forwardX11 } from './x11-forwarding.js';

/** A stream to the server, opened for one connection; `close()` destroys it and gives back what it held. */
export interface Route {
  readonly stream: Duplex;
  /** Idempotent. */
  close(): void;
}

/** Opens a {@link Route} to the server; `signal` abandons the attempt. */
export type Dial = (signal: AbortSignal) => Promise<Route>;

/** Where and how to connect: the node's options, resolved. */
export interface ConnectionSettings {
  /** Who hears the connection's events (the nodes using it), and its name in messages. */
  readonly node: EventSource;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly credentials: Credentials;
  readonly hostKeyPolicy: HostKeyPolicy;
  /** The host key's name in known_hosts, when it is not the host and port (ssh's HostKeyAlias). */
  readonly hostKeyAlias: string | undefined;
  readonly knownHosts: string;
  /** Bounds connecting, opening a channel, and closing, in ms. */
  readonly connectTimeout: number;
  /** Keepalive period in ms (0: off); the transport ends a connection after 3 missed answers. */
  readonly keepaliveInterval: number;
  /** Session channels open at once on one connection. */
  readonly maxSessions: number;
  readonly transport: Transport;
  /** How to reach the server other than by TCP (through a gateway). */
  readonly dial?: Dial | undefined;
  /**
   * The gateway's connection key, when `dial` goes through one: handshakes are paced per gateway
   * connection too (handshake-gate.ts).
   */
  readonly via?: string | undefined;
  /** Handshakes at once per destination and per gateway, process-wide. @default DEFAULT_MAX_HANDSHAKES */
  readonly maxHandshakes?: number | undefined;
  /** Told each time a connection opens, with the count of connections opened so far. */
  readonly onOpen?: ((opened: number) => void) | undefined;
}

/** An open connection with its channel budget (a new connection has a new budget). */
export interface ConnectionSite {
  readonly connection: Connection;
  readonly budget: SessionBudget;
}

/** How many times an SFTP session waiting for a slot follows its dropped connection to a new one. */
const MOVES = 3;

/** Who an SFTP session is for (a node object using the connection): its key, and who hears its events. */
export interface SftpUser {
  readonly node: EventSource;
}

/**
 * One connection over time. Every use goes through {@link ConnectionLifecycle.ready} and holds
 * the connection while it runs ({@link ConnectionLifecycle.hold}), so that whoever decides to
 * close it when idle knows when the last command, transfer or tunnel lets go.
 */
export class ConnectionLifecycle {
  readonly #settings: ConnectionSettings;
  #site: ConnectionSite | undefined;
  #connecting: Promise<ConnectionSite> | undefined;
  /** Aborts the connection attempt in progress, when the node is closed meanwhile. */
  #connectAbort: AbortController | undefined;
  #budget: SessionBudget;
  /** The SFTP session of each user that has one (opened or opening) on this connection. */
  readonly #sftp = new Map<SftpUser, UserSftpSession>();
  /** Commands, transfers and tunnels using the connection. */
  #holds = 0;
  #closing: Promise<void> | undefined;
  #opened = 0;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.#budget = new SessionBudget(settings.maxSessions, settings.node.toString());
  }

  /** The node, as messages name it. */
  get name(): string {
    return this.#settings.node.toString();
  }

  /** Whether a connection is open now (not whether one is being opened). */
  get isOpen(): boolean {
    return this.#site !== undefined && !this.#site.connection.closed;
  }

  /** Whether a connection is being opened. */
  get isConnecting(): boolean {
    return this.#connecting !== undefined;
  }

  /** Commands, transfers and tunnels holding the connection now. */
  get holds(): number {
    return this.#holds;
  }

  /**
   * SFTP sessions on the connection, open or opening: each holds (or waits for) a channel slot.
   * Not one that ended by itself, failed to open or was abandoned: it holds none.
   */
  get sftpSessions(): number {
    let active = 0;
    for (const session of this.#sftp.values()) if (session.active) active++;
    return active;
  }

  /** Whether an SFTP session holding a slot here (open or opening) is `user`'s. */
  hasSftpOf(user: SftpUser): boolean {
    return this.#sftp.get(user)?.active === true;
  }

  /** Connections opened so far (a reconnection counts). */
  get openedCount(): number {
    return this.#opened;
  }

  /** The channel budget of the current connection (a new connection has all its slots). */
  get budget(): SessionBudget {
    return this.#budget;
  }

  /**
   * The open connection, or the attempt in progress (shared by concurrent callers). A caller's
   * `signal` stops its own wait, not the attempt: the others may still want the connection.
   */
  async ready(signal?: AbortSignal): Promise<Connection> {
    return (await this.site(signal)).connection;
  }

  /** {@link ConnectionLifecycle.ready}, with the channel budget of that very connection. */
  site(signal?: AbortSignal): Promise<ConnectionSite> {
    // An aborted caller must not start (or keep alive) a connection nobody will use.
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#site !== undefined && !this.#site.connection.closed) return Promise.resolve(this.#site);
    if (this.#connecting === undefined) {
      const abort = new AbortController();
      this.#connectAbort = abort;
      const connecting = this.#open(abort.signal).finally(() => {
        this.#connecting = undefined;
        if (this.#connectAbort === abort) this.#connectAbort = undefined;
      });
      // every caller may have stopped waiting (their signals aborted): the failure is theirs
      // to see, never an unhandled rejection
      connecting.catch(() => undefined);
      this.#connecting = connecting;
    }
    return signal === undefined ? this.#connecting : untilAborted(this.#connecting, signal);
  }

  /**
   * `user`'s SFTP session on the connection, opened once (it holds one session slot until
   * closed); every user has its own. Waiting for a slot when the connection drops, it waits on
   * the next connection. `signal` stops this caller's wait, not the opening. `using` tells
   * whether `user` still uses the connection: one that stopped meanwhile opens no session.
   */
  async sftp(user: SftpUser, signal?: AbortSignal, using: () => boolean = () => true): Promise<SftpSession> {
    for (let moves = 0; ; moves++) {
      const { connection, budget } = await this.site(signal);
      if (!using()) throw closedWhileOpening(user.node.toString());
      let session = this.#sftp.get(user);
      if (session === undefined) {
        session = new UserSftpSession(user.node, this.#settings.connectTimeout);
        this.#sftp.set(user, session);
      }
      try {
        return await session.get(connection, budget, signal);
      } catch (error) {
        if (!(error instanceof SlotWithdrawnError && error.movable) || moves >= MOVES) throw error;
      }
    }
  }

  /**
   * Closes `user`'s SFTP session (no other user's), not the connection: the next file command
   * opens a new one. Also what a user stopping to use the connection does, so that its slot is
   * given back.
   */
  closeSftp(user: SftpUser, only?: SftpSession): void {
    const session = this.#sftp.get(user);
    if (only !== undefined && !session?.is(only)) return;
    session?.close();
    this.#sftp.delete(user);
  }

  /**
   * Counts a use of the connection, until the returned function (idempotent) is called;
   * `onRelease` is told after each release.
   */
  hold(onRelease?: () => void): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      onRelease?.();
    };
  }

  /** One try: the route (through the gateway, if any), then the SSH connection over it. */
  async #attempt(
    keys: Awaited<ReturnType<Credentials['keys']>>,
    timeout: number,
    abandon: AbortSignal,
  ): Promise<{ connection: Connection; route: Route | undefined }> {
    const { dial } = this.#settings;
    const route = dial === undefined ? undefined : await dial(abandon);
    try {
      const connection = await this.#settings.transport.connect({
        host: this.#settings.host,
        port: this.#settings.port,
        username: this.#settings.username,
        keys,
        agent: this.#settings.credentials.agent,
        password: this.#settings.credentials.password,
        sock: route?.stream,
        timeout,
        keepaliveInterval: this.#settings.keepaliveInterval,
        verifyHostKey: (key) =>
          verifyHostKey(
            this.#settings.hostKeyPolicy,
            this.#settings.knownHosts,
            // as ssh: the alias alone, without the port
            this.#settings.hostKeyAlias ?? this.#settings.host,
            this.#settings.hostKeyAlias === undefined ? this.#settings.port : 22,
            key,
          ),
        signal: abandon,
      });
      return { connection, route };
    } catch (error) {
      route?.close();
      throw error;
    }
  }

  async #open(abandon: AbortSignal): Promise<ConnectionSite> {
    const { node, credentials, dial } = this.#settings;
    const direct = dial === undefined;
    nodeEvent(node, 'connecting', { direct });
    try {
      const keys = await credentials.keys();
      abandon.throwIfAborted();
      const { connection, route } = await pacedConnect({
        gates: handshakeGates(this.#settings.host, this.#settings.port, this.#settings.via),
        limit: this.#settings.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES,
        budget: this.#settings.connectTimeout,
        signal: abandon,
        attempt: (timeout) => this.#attempt(keys, timeout, abandon),
      });
      this.#opened++;
      const budget = new SessionBudget(this.#settings.maxSessions, this.name);
      const site: ConnectionSite = { connection, budget };
      this.#site = site;
      this.#budget = budget;
      connection.onX11(forwardX11);
      connection.onClose((error) => {
        if (this.#site === site) {
          this.#site = undefined;
          for (const session of this.#sftp.values()) session.forget();
          this.#sftp.clear();
        }
        // after the site is forgotten: the commands turned away ask for the next connection
        budget.close(new SlotWithdrawnError(node.toString(), true));
        route?.close();
        nodeEvent(node, 'disconnected', error ? { detail: error.message } : {});
      });
      this.#settings.onOpen?.(this.#opened);
      nodeEvent(node, 'connected', { direct });
      return site;
    } catch (error) {
      let wrapped =
        error instanceof SshError
          ? error
          : new SshError(SshErrorCode.CONNECT, `Cannot connect to ${node.toString()}: ${messageOf(error)}`, {
              cause: error,
              node: node.toString(),
            });
      if (wrapped.code === SshErrorCode.AUTH) wrapped = await credentials.explainRefusal(wrapped);
      // an attempt dropped by close() is no news: whoever closed the node knows
      if (!abandon.aborted) nodeEvent(node, 'connect-failed', { detail: wrapped.message });
      throw wrapped;
    }
  }

  /**
   * Closes the SFTP sessions and the connection. Bounded by `connectTimeout`; idempotent: a
   * second call while closing waits for the same close.
   */
  close(): Promise<void> {
    // (closeSshInScheduler must not return while a gateway that closed itself is still going down)
    this.#closing ??= this.#closeNow().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  async #closeNow(): Promise<void> {
    const connecting = this.#connecting;
    if (connecting !== undefined) {
      // closing while connecting: drop the attempt rather than wait up to connectTimeout for it
      this.#connectAbort?.abort();
      await connecting.catch(() => undefined);
    }
    const connection = this.#site?.connection;
    this.#site = undefined;
    // closed on purpose: the commands waiting for a slot fail rather than reconnect
    this.#budget.close(new SlotWithdrawnError(this.name, false));
    for (const session of this.#sftp.values()) session.close();
    this.#sftp.clear();
    if (connection && !connection.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        connection.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#settings.connectTimeout);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
