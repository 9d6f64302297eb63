/**
 * The life of one node's SSH connection: opened lazily at first use, under a lock (concurrent
 * callers share one attempt); opened again by the next use after it dropped; closed once idle
 * at the end of a run, or when the node is closed. What lives and dies with the connection
 * lives here too: its channel budget and its SFTP session.
 *
 * It knows nothing of gateways: a node behind one is given a {@link Dial} that opens a stream
 * to its server (gateway-tunnel.ts); the others connect over TCP.
 */
import type { Duplex } from 'node:stream';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { type HostKeyPolicy, verifyHostKey } from '../known-hosts.js';
import { SessionBudget } from '../session-budget.js';
import type { Connection, SftpSession, Transport } from '../transport/transport.js';
import type { Credentials } from './credentials.js';
import { type EventSource, nodeEvent } from './node-events.js';
import { SharedSftpSession } from './sftp-session.js';
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
  /** The node, for events and messages. */
  readonly node: EventSource;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly credentials: Credentials;
  readonly hostKeyPolicy: HostKeyPolicy;
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
}

/**
 * One node's connection over time. Every use goes through {@link ConnectionLifecycle.ready}
 * and holds the connection while it runs ({@link ConnectionLifecycle.hold}), so that the end
 * of a run can close it as soon as the last command, transfer or tunnel lets go.
 */
export class ConnectionLifecycle {
  readonly #settings: ConnectionSettings;
  #connection: Connection | undefined;
  #connecting: Promise<Connection> | undefined;
  /** Aborts the connection attempt in progress, when the node is closed meanwhile. */
  #connectAbort: AbortController | undefined;
  #budget: SessionBudget;
  readonly #sftp: SharedSftpSession;
  /** Commands, transfers and tunnels using the connection: it is closed when idle only at 0. */
  #holds = 0;
  #closeWhenIdle = false;
  #kept = false;
  #closing: Promise<void> | undefined;
  #opened = 0;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.#budget = new SessionBudget(settings.maxSessions);
    this.#sftp = new SharedSftpSession(settings.node, settings.connectTimeout);
  }

  /** The node, as messages name it. */
  get name(): string {
    return this.#settings.node.toString();
  }

  /** Whether a connection is open now (not whether one is being opened). */
  get isOpen(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
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
  ready(signal?: AbortSignal): Promise<Connection> {
    // An aborted caller must not start (or keep alive) a connection nobody will use.
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#closeWhenIdle = false;
    if (this.#connection !== undefined && !this.#connection.closed) return Promise.resolve(this.#connection);
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

  /** The connection's SFTP session, opened once (it holds one session slot until closed). */
  async sftp(signal?: AbortSignal): Promise<SftpSession> {
    const connection = await this.ready(signal);
    return this.#sftp.get(connection, this.#budget, signal);
  }

  /** Closes the SFTP session, not the connection; the next file command opens a new one. */
  resetSftp(): void {
    this.#sftp.reset();
  }

  /** Counts a use of the connection, until the returned function (idempotent) is called. */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#closeIfIdle();
    };
  }

  /** Keeps the connection open when idle; `close()` still closes it. */
  keep(): void {
    this.#kept = true;
  }

  /** Whether {@link ConnectionLifecycle.keep} was called. */
  get kept(): boolean {
    return this.#kept;
  }

  /** Closes the connection once nothing holds it (unless kept). */
  closeWhenIdle(): void {
    if (this.#kept) return;
    this.#closeWhenIdle = true;
    this.#closeIfIdle();
  }

  #closeIfIdle(): void {
    if (this.#closeWhenIdle && !this.#kept && this.#holds === 0) void this.close();
  }

  async #open(abandon: AbortSignal): Promise<Connection> {
    const { node, credentials, dial } = this.#settings;
    const direct = dial === undefined;
    nodeEvent(node, 'connecting', { direct });
    try {
      const keys = await credentials.keys();
      abandon.throwIfAborted();
      const route = dial === undefined ? undefined : await dial(abandon);
      let connection: Connection;
      try {
        connection = await this.#settings.transport.connect({
          host: this.#settings.host,
          port: this.#settings.port,
          username: this.#settings.username,
          keys,
          agent: credentials.agent,
          password: credentials.password,
          sock: route?.stream,
          timeout: this.#settings.connectTimeout,
          keepaliveInterval: this.#settings.keepaliveInterval,
          verifyHostKey: (key) =>
            verifyHostKey(
              this.#settings.hostKeyPolicy,
              this.#settings.knownHosts,
              this.#settings.host,
              this.#settings.port,
              key,
            ),
          signal: abandon,
        });
      } catch (error) {
        route?.close();
        throw error;
      }
      this.#opened++;
      this.#connection = connection;
      this.#budget = new SessionBudget(this.#settings.maxSessions);
      connection.onX11(forwardX11);
      connection.onClose((error) => {
        if (this.#connection === connection) {
          this.#connection = undefined;
          this.#sftp.forget();
        }
        route?.close();
        nodeEvent(node, 'disconnected', error ? { detail: error.message } : {});
      });
      nodeEvent(node, 'connected', { direct });
      return connection;
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
   * Closes the SFTP session and the connection. Bounded by `connectTimeout`; idempotent: a
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
    const connection = this.#connection;
    this.#connection = undefined;
    await this.#sftp.close();
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
