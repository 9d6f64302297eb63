/**
 * A node's connections to its destination (`connections: n`, as ssh_utilities' pool): up to n,
 * opened lazily, each with its own channel budget. A command goes to the live connection with
 * the fewest commands; another one is opened (up to n) when every live one already has a command,
 * so n concurrent commands spread over n connections. SFTP, transfers and tunnels use the first.
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
}

/** The connections of one node. */
export class ConnectionPool {
  readonly #settings: PoolSettings;
  readonly #lanes: readonly ConnectionUse[];

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
   * The connection for the next command: the live one with the fewest commands, or the first
   * one not live when every live one has a command (or none is live).
   */
  pick(): ConnectionUse {
    let best: { use: ConnectionUse; commands: number } | undefined;
    let idle: ConnectionUse | undefined;
    for (const use of this.#lanes) {
      const entry = use.peek();
      if (entry === undefined || !entry.live) {
        idle ??= use;
        continue;
      }
      if (best === undefined || entry.commands < best.commands) best = { use, commands: entry.commands };
    }
    if (best === undefined) return idle ?? this.first;
    return best.commands > 0 && idle !== undefined ? idle : best.use;
  }

  /**
   * Runs a command's `work` on a connection (opened if need be), held meanwhile. A command turned
   * away while it waited for a channel slot, its connection having dropped, is given the next one.
   */
  async command<T>(signal: AbortSignal | undefined, work: (site: ConnectionSite) => Promise<T>): Promise<T> {
    let release: (() => void) | undefined;
    try {
      for (let moves = 0; ; moves++) {
        const use = this.pick();
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
    }
  }

  /** Stops using every connection once idle (the end of a run). */
  releaseWhenIdle(): void {
    for (const use of this.#lanes) use.releaseWhenIdle();
  }

  /** Stops using every connection now; those left without user close (bounded). */
  async close(): Promise<void> {
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

  /** Session channels in use on the node's connections. */
  get sessionsInUse(): number {
    return this.#lanes.reduce((sum, use) => sum + use.sessionsInUse, 0);
  }
}
