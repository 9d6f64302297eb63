/**
 * A node's connections to its destination, each with its own channel budget, opened lazily:
 *
 * - the first `connections: n` lanes spread commands (as ssh_utilities' pool): a command goes to
 *   the live one with the fewest commands; another is opened when every live one already has a
 *   command, so n concurrent commands spread over n connections;
 * - the lanes after them, up to `maxConnections`, take the overflow (as OpenSSH's ControlMaster
 *   users do by hand): one opens only when every live connection's channel budget is full, rather
 *   than making the command wait for a channel; it closes once idle for `idleClose` ms. Beyond
 *   `maxConnections × maxSessions`, commands queue.
 *
 * SFTP, transfers and tunnels use the first lane.
 *
 * Each connection is a {@link ConnectionUse} of a shared connection (connection-registry.ts): two
 * node objects of one key, each with `connections: 2`, share both connections.
 *
 * A command waiting for a channel slot when its connection drops moves to the next connection
 * (a reconnection), instead of failing: it had not started.
 */
import { SlotWithdrawnError } from '../session-budget.js';
import type { ConnectionSite } from './connection-lifecycle.js';
import {
  type ConnectionRegistry,
  ConnectionUse,
  type OpenSettings,
  type SharedConnection,
  type TunnelEnd,
} from './connection-registry.js';
import type { EventSource } from './node-events.js';

/** How many times a command waiting for a slot follows its dropped connection to a new one. */
const MOVES = 5;

/** What a pool is made of. */
export interface PoolSettings {
  /** The node: the audience of its connections' events. */
  readonly node: EventSource;
  /** One key per connection (connection-key.ts). */
  readonly keys: readonly string[];
  /** What it takes to open connection `lane`, if no node of its key has. */
  readonly open: (lane: number) => OpenSettings;
  readonly registry: ConnectionRegistry;
  /** The pool of the node's gateway: it becomes a user whenever this node does. */
  readonly gateway?: ConnectionPool | undefined;
  /** How many of the lanes (the first ones) spread commands; the others take the overflow. */
  readonly spread: number;
  /** How long an overflow connection stays open with no command, in ms. */
  readonly idleClose: number;
}

/** The connections of one node. */
export class ConnectionPool {
  readonly #settings: PoolSettings;
  readonly #lanes: readonly ConnectionUse[];
  /** The timer that closes each overflow lane once idle (none for the spreading lanes). */
  readonly #idleTimers: (ReturnType<typeof setTimeout> | undefined)[];

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    const gateway = settings.gateway;
    this.#lanes = settings.keys.map(
      (key, lane) =>
        new ConnectionUse({
          node: settings.node,
          key,
          open: () => settings.open(lane),
          registry: settings.registry,
          // a node behind a gateway uses the gateway: closing another node of the gateway's key
          // must not close it under this one
          onAttach: gateway === undefined ? undefined : () => gateway.first.join(),
        }),
    );
    this.#idleTimers = this.#lanes.map(() => undefined);
  }

  /** The first connection: SFTP, transfers, tunnels, `connect()`. */
  get first(): ConnectionUse {
    return this.#lanes[0] as ConnectionUse;
  }

  /** The key of the first connection (a node behind this one names its gateway by it). */
  get firstKey(): string {
    return this.#settings.keys[0] as string;
  }

  /** The first connection as a tunnel through this node sees it (not a user: a hold while the tunnel lives). */
  tunnelEnd(): TunnelEnd {
    return this.#settings.registry.obtain(this.firstKey, () => this.#settings.open(0)).tunnelEnd;
  }

  /**
   * The lane of the next command. Among the spreading lanes: the live one with the fewest
   * commands, or the first one not live when every live one has a command (or none is live). When
   * that one's channel budget is full: the first live overflow lane with room, else the first one
   * not live (it opens), else the least busy lane of all (the command queues there).
   */
  pick(): number {
    const spread = this.#settings.spread;
    let best: { lane: number; commands: number } | undefined;
    let idle: number | undefined;
    for (let lane = 0; lane < spread; lane++) {
      const entry = this.#lanes[lane]?.peek();
      if (entry === undefined || !entry.live) {
        idle ??= lane;
        continue;
      }
      if (best === undefined || entry.commands < best.commands) best = { lane, commands: entry.commands };
    }
    if (best === undefined) return idle ?? 0;
    if (best.commands > 0 && idle !== undefined) return idle;
    if (hasRoom(this.#lanes[best.lane]?.peek())) return best.lane;
    let closed: number | undefined;
    for (let lane = spread; lane < this.#lanes.length; lane++) {
      const entry = this.#lanes[lane]?.peek();
      if (entry === undefined || !entry.live) closed ??= lane;
      else if (hasRoom(entry)) return lane;
    }
    if (closed !== undefined) return closed;
    // every connection is full: wait on the one with the fewest commands
    let least = best;
    for (let lane = spread; lane < this.#lanes.length; lane++) {
      const commands = this.#lanes[lane]?.peek()?.commands ?? 0;
      if (commands < least.commands) least = { lane, commands };
    }
    return least.lane;
  }

  /**
   * Runs a command's `work` on a connection (opened if need be), held meanwhile. A command turned
   * away while it waited for a channel slot, its connection having dropped, is given the next one.
   */
  async command<T>(signal: AbortSignal | undefined, work: (site: ConnectionSite) => Promise<T>): Promise<T> {
    let release: (() => void) | undefined;
    let lane = 0;
    try {
      for (let moves = 0; ; moves++) {
        lane = this.pick();
        const use = this.#lanes[lane] as ConnectionUse;
        // the new hold before the old one goes: letting go might close what the command moves to
        const held = use.hold(true);
        release?.();
        release = held;
        try {
          return await work(await use.site(signal));
        } catch (error) {
          if (!(error instanceof SlotWithdrawnError && error.movable) || moves >= MOVES) throw error;
        }
      }
    } finally {
      release?.();
      this.#closeWhenIdle(lane);
    }
  }

  /** An overflow lane with no command of this node left: closed after `idleClose` ms, unless a command comes meanwhile. */
  #closeWhenIdle(lane: number): void {
    if (lane < this.#settings.spread) return;
    const use = this.#lanes[lane] as ConnectionUse;
    // this node's own commands: another node sharing the connection has a timer of its own, and
    // the connection closes once no node uses it
    if (use.holds > 0) return;
    clearTimeout(this.#idleTimers[lane]);
    const timer = setTimeout(() => {
      this.#idleTimers[lane] = undefined;
      // a command that came and went meanwhile started a timer of its own
      if (use.holds === 0) use.releaseWhenIdle();
    }, this.#settings.idleClose);
    // the timer alone must not keep a script alive
    timer.unref();
    this.#idleTimers[lane] = timer;
  }

  #clearIdleTimers(): void {
    for (const [lane, timer] of this.#idleTimers.entries()) {
      clearTimeout(timer);
      this.#idleTimers[lane] = undefined;
    }
  }

  /** Stops using every connection once idle (the end of a run). */
  releaseWhenIdle(): void {
    this.#clearIdleTimers();
    for (const use of this.#lanes) use.releaseWhenIdle();
  }

  /** Stops using every connection now; those left without user close (bounded). */
  async close(): Promise<void> {
    this.#clearIdleTimers();
    await Promise.all(this.#lanes.map((use) => use.close()));
  }

  /** Whether one of the node's connections is open (and the node uses it). */
  get isConnected(): boolean {
    return this.#lanes.some((use) => use.isConnected);
  }

  /** Connections the node has used so far, reconnections included. */
  get openedCount(): number {
    return this.#lanes.reduce((sum, use) => sum + use.openedCount, 0);
  }

  /** Connections of the node open now (or opening). */
  get openNow(): number {
    return this.#lanes.filter((use) => use.attached && (use.peek()?.live ?? false)).length;
  }

  /** Session channels in use on the node's connections. */
  get sessionsInUse(): number {
    return this.#lanes.reduce((sum, use) => sum + use.sessionsInUse, 0);
  }
}

/** Whether a connection has a free channel for one more command (its commands and SFTP sessions counted). */
function hasRoom(entry: SharedConnection | undefined): boolean {
  return entry !== undefined && entry.occupancy < entry.lifecycle.budget.size;
}
