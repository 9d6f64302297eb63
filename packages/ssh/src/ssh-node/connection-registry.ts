/**
 * Connections shared by SshNode objects (mlos_bench's client cache): one connection per key
 * (connection-key.ts: the destination, the route, the credentials, the settings), used by every
 * node object that has that key, and reference-counted by them.
 *
 * A node object becomes a user of a connection at its first use ({@link ConnectionUse}); it
 * stops being one when it is closed, or — after the end of a run asked for it — once none of its
 * commands holds the connection. The connection closes when its last user has gone and nothing
 * (a tunnel for a node behind it included) holds it; when the last user goes by `close()`, at once.
 * {@link closeAll} closes every connection.
 *
 * The connection's events (connecting, connected, connect-failed, disconnected) go to every node
 * using it, each formatter once; a node that starts using a connection already open is told
 * `connected`, and one that stops using a connection that stays open for others is told
 * `disconnected`, so that each node's events bracket its own use.
 *
 * Each user has an SFTP session of its own on the connection (opened at its first file call):
 * one node closing its session to stop a transfer leaves the others' file calls alone. A user's
 * session closes when it stops using the connection, and with the connection.
 */

import type { SftpSession } from '../transport/transport.js';
import { ConnectionLifecycle, type ConnectionSettings, type ConnectionSite } from './connection-lifecycle.js';
import { type EventSource, fanOut, nodeEvent, nodeListenersEvent } from './node-events.js';

/** What it takes to open the connection of a key, for the first node that needs it. */
export type OpenSettings = Omit<ConnectionSettings, 'node' | 'onOpen'> & {
  /** The node that opens it: its name in messages (every node of the key has the same). */
  readonly name: EventSource;
  /** Its node's `distance()`: {@link closeAll} closes the remotest first. */
  readonly depth: number;
};

/** The end of a gateway's connection, as a tunnel through it sees it. */
export interface TunnelEnd {
  /** The gateway, as messages name it. */
  readonly name: string;
  /** Holds the connection open (a tunnel is not a user: it keeps the connection only while it lives). */
  hold(): () => void;
  ready(signal?: AbortSignal): ReturnType<ConnectionLifecycle['ready']>;
}

/** One connection shared by the nodes of one key, and who uses it. */
export class SharedConnection {
  readonly key: string;
  readonly depth: number;
  readonly lifecycle: ConnectionLifecycle;
  readonly #direct: boolean;
  readonly #name: string;
  readonly #registry: ConnectionRegistry;
  readonly #users = new Set<ConnectionUse>();
  /** The last users, once none is left: the closing that follows is still news to them. */
  #lastAudience: EventSource[] = [];
  /** Commands holding the connection or on their way to it (a node spreads its commands by this count). */
  #commands = 0;

  constructor(key: string, settings: OpenSettings, registry: ConnectionRegistry) {
    this.key = key;
    this.depth = settings.depth;
    this.#direct = settings.dial === undefined;
    this.#name = settings.name.toString();
    this.#registry = registry;
    const { name, depth: _depth, ...open } = settings;
    this.lifecycle = new ConnectionLifecycle({
      ...open,
      node: fanOut(name, () => this.#audience()),
      onOpen: (opened) => {
        for (const user of this.#users) user.saw(this, opened);
      },
    });
  }

  #audience(): EventSource[] {
    return this.#users.size > 0 ? [...this.#users].map((user) => user.node) : this.#lastAudience;
  }

  /** Whether `user` uses this connection now. */
  has(user: ConnectionUse): boolean {
    return this.#users.has(user);
  }

  /** Commands holding the connection, or on their way to it. */
  get commands(): number {
    return this.#commands;
  }

  /** Channel slots taken or wanted: its commands (running or on their way) and its SFTP sessions. */
  get occupancy(): number {
    return this.#commands + this.lifecycle.sftpSessions;
  }

  /** Whether the connection is open, being opened, or has commands on their way to it. */
  get live(): boolean {
    return this.lifecycle.isOpen || this.lifecycle.isConnecting || this.#commands > 0;
  }

  /** `user` starts using the connection; told where it stands, unless its formatter heard it already. */
  attach(user: ConnectionUse): void {
    if (this.#users.has(user)) return;
    const heard = this.#sharesFormatter(user);
    this.#users.add(user);
    if (this.lifecycle.isOpen) user.saw(this, this.lifecycle.openedCount);
    // a formatter that heard it already is not told twice; the node's own listeners are
    const tell = heard ? nodeListenersEvent : nodeEvent;
    if (this.lifecycle.isOpen) tell(user.node, 'connected', { direct: this.#direct });
    else if (this.lifecycle.isConnecting) tell(user.node, 'connecting', { direct: this.#direct });
  }

  /**
   * `user` stops using the connection, and its SFTP session is closed. The last user closing
   * (`how: 'close'`) closes the connection now; the last user leaving once idle (`'idle'`) closes
   * it as soon as nothing holds it.
   */
  detach(user: ConnectionUse, how: 'close' | 'idle'): Promise<void> {
    // already gone (released when idle, say): a close() still waits for the connection's end
    if (!this.#users.delete(user)) return this.#closing ?? Promise.resolve();
    this.lifecycle.closeSftp(user);
    if (this.#users.size > 0) {
      if (this.lifecycle.isOpen) {
        if (this.#sharesFormatter(user)) nodeListenersEvent(user.node, 'disconnected');
        else nodeEvent(user.node, 'disconnected');
      }
      return Promise.resolve();
    }
    this.#lastAudience = [user.node];
    if (how === 'close') return this.#shutDown();
    this.#settle();
    return Promise.resolve();
  }

  /** `user`'s own SFTP session on the connection (opened if need be). */
  sftp(user: ConnectionUse, signal?: AbortSignal): Promise<SftpSession> {
    return this.lifecycle.sftp(user, signal, () => this.#users.has(user));
  }

  /** Holds the connection until the returned function (idempotent) is called; `command`: counted among its commands. */
  hold(command: boolean): () => void {
    if (command) this.#commands++;
    const release = this.lifecycle.hold(() => this.#settle());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (command) this.#commands--;
      release();
    };
  }

  /** The connection as a tunnel of a node behind this one uses it. */
  get tunnelEnd(): TunnelEnd {
    return {
      name: this.#name,
      hold: () => this.hold(false),
      ready: (signal) => this.lifecycle.ready(signal),
    };
  }

  /** Closes the connection now, whoever uses it ({@link closeAll}). */
  closeNow(): Promise<void> {
    if (this.#users.size > 0) this.#lastAudience = this.#audience();
    this.#users.clear();
    return this.#shutDown();
  }

  /** The close under way, once the connection is being shut down. */
  #closing: Promise<void> | undefined;

  #sharesFormatter(user: ConnectionUse): boolean {
    for (const other of this.#users)
      if (other !== user && other.node.formatter === user.node.formatter) return true;
    return false;
  }

  /** Nobody uses the connection and nothing holds it: closed. */
  #settle(): void {
    // nobody awaits this close: a failure of it must not become an unhandled rejection
    if (this.#users.size === 0 && this.lifecycle.holds === 0) this.#shutDown().catch(() => undefined);
  }

  #shutDown(): Promise<void> {
    // forgotten first: a node that wants the key meanwhile gets a connection of its own
    this.#registry.forget(this);
    this.#closing = this.lifecycle.close();
    return this.#closing;
  }
}

/** Where a {@link ConnectionUse} finds its connection. */
export interface UseSettings {
  /** The node using it: the audience of its events. */
  readonly node: EventSource;
  readonly key: string;
  /** What it takes to open it, if no node has. */
  readonly open: () => OpenSettings;
  readonly registry: ConnectionRegistry;
  /** Called each time the use attaches (a node behind a gateway makes the gateway a user too). */
  readonly onAttach?: (() => void) | undefined;
}

/**
 * One node's use of the connection of one key (one per node and lane). Every call but the
 * getters and `close()` makes the node a user again if it was not.
 */
export class ConnectionUse {
  readonly node: EventSource;
  readonly #settings: UseSettings;
  #entry: SharedConnection | undefined;
  /** Holds taken through this use and not released. */
  #holds = 0;
  /** The end of a run asked to stop using the connection once this use holds it no more. */
  #leaving = false;
  #opened = 0;
  #seen: { entry: SharedConnection; opened: number } | undefined;

  constructor(settings: UseSettings) {
    this.node = settings.node;
    this.#settings = settings;
  }

  /** Whether the node uses the connection now. */
  get attached(): boolean {
    return this.#entry?.has(this) ?? false;
  }

  /** The node uses the connection and it is open. */
  get isConnected(): boolean {
    return this.attached && (this.#entry?.lifecycle.isOpen ?? false);
  }

  /** Holds taken through this use (this node's commands, transfers…) and not released. */
  get holds(): number {
    return this.#holds;
  }

  /** Connections this node has used, a reconnection counting as one more. */
  get openedCount(): number {
    return this.#opened;
  }

  /** Session channels in use on the connection (by every node using it), 0 when not a user. */
  get sessionsInUse(): number {
    return this.attached ? (this.#entry?.lifecycle.budget.used ?? 0) : 0;
  }

  /** The key's connection as it stands (whoever uses it), without becoming a user. */
  peek(): SharedConnection | undefined {
    return this.#settings.registry.peek(this.#settings.key);
  }

  /** Becomes a user if it is not (without holding the connection). */
  join(): SharedConnection {
    let entry = this.#entry;
    if (entry === undefined || !entry.has(this)) {
      entry = this.#settings.registry.obtain(this.#settings.key, this.#settings.open);
      this.#entry = entry;
      entry.attach(this);
      this.#settings.onAttach?.();
    }
    this.#leaving = false;
    return entry;
  }

  /** The open connection and its budget (opened if need be). */
  site(signal?: AbortSignal): Promise<ConnectionSite> {
    return this.join().lifecycle.site(signal);
  }

  /** This node's own SFTP session on the connection (opened if need be; other nodes using the connection have theirs). */
  sftp(signal?: AbortSignal): Promise<SftpSession> {
    return this.join().sftp(this, signal);
  }

  /**
   * Closes this node's SFTP session, if it has one (not other nodes'); the next file command opens
   * another. With `only`, just when that is the session it has (not a newer one).
   */
  resetSftp(only?: SftpSession): void {
    if (this.attached) this.#entry?.lifecycle.closeSftp(this, only);
  }

  /** Holds the connection until the returned function (idempotent) is called; `command`: a command holds it. */
  hold(command: boolean): () => void {
    const release = this.join().hold(command);
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      release();
      if (this.#leaving && this.#holds === 0) this.#leave();
    };
  }

  /** Stops using the connection once this use holds it no more (the end of a run). */
  releaseWhenIdle(): void {
    if (!this.attached) return;
    this.#leaving = true;
    if (this.#holds === 0) this.#leave();
  }

  /** Stops using the connection now; the last user closing it closes it (bounded). */
  close(): Promise<void> {
    this.#leaving = false;
    return this.#entry?.detach(this, 'close') ?? Promise.resolve();
  }

  /** A connection opened while this node used it (or found open when it started). */
  saw(entry: SharedConnection, opened: number): void {
    if (this.#seen?.entry === entry && this.#seen.opened === opened) return;
    this.#seen = { entry, opened };
    this.#opened++;
  }

  #leave(): void {
    this.#leaving = false;
    void this.#entry?.detach(this, 'idle');
  }
}

/** The shared connections of the process, by key. */
export class ConnectionRegistry {
  readonly #entries = new Map<string, SharedConnection>();

  /** The connection of `key`, made (not opened) with `open()` if there is none. */
  obtain(key: string, open: () => OpenSettings): SharedConnection {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = new SharedConnection(key, open(), this);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  peek(key: string): SharedConnection | undefined {
    return this.#entries.get(key);
  }

  /** Drops `entry` (closing, or closed), unless another has taken its key since. */
  forget(entry: SharedConnection): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
  }

  /** Closes every connection, the remotest first (a gateway after the tunnels through it). */
  async closeAll(): Promise<void> {
    const byDepth = new Map<number, SharedConnection[]>();
    for (const entry of this.#entries.values())
      byDepth.set(entry.depth, [...(byDepth.get(entry.depth) ?? []), entry]);
    for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
      await Promise.allSettled((byDepth.get(depth) ?? []).map((entry) => entry.closeNow()));
    }
  }
}

/** The registry of this process: every SshNode's connections. */
export const registry = new ConnectionRegistry();

/**
 * Closes every SSH connection of the process — those shared by several SshNode objects and
 * those of nodes with `shareConnection: false` — the remotest first (a gateway after the nodes
 * tunnelled through it). Commands running on them fail (`ERR_SSH_CHANNEL`); each close is bounded
 * by the node's `connectTimeout`. Nodes stay usable: their next command connects again.
 * @example
 * ```ts
 * import { closeAll } from '@jobgraph/ssh'
 * try { await main() } finally { await closeAll() }
 * ```
 */
export function closeAll(): Promise<void> {
  return registry.closeAll();
}
