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
import { SshError, SshErrorCode } from '../errors.js';
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

/** How long no overflow connection is tried after one failed to open, in ms. */
export const OVERFLOW_PAUSE = 60_000;

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
  /** Until when no overflow connection is opened: one failed to open (`Date.now()` ms). */
  #overflowRefusedUntil = 0;
  /** Why the last overflow connection could not be opened. */
  #overflowRefusal: unknown;

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
   * The lane of the next command, and whether it has to be opened. Among the spreading lanes: the
   * live one with the fewest commands, or the first one not live when every live one has a
   * command (or none is live). When that one has no free channel (its commands and SFTP sessions
   * counted): another live spreading lane with room, else a spreading lane not live, else the first
   * live overflow lane with room, else the first overflow lane not live (unless overflow
   * connections were refused lately), else the live lane with the fewest commands where a command
   * can have a channel at all, where the command queues. `stuck` when there is none: every channel
   * of every connection it may use is held by an SFTP session.
   */
  pick(): { lane: number; opens: boolean; stuck?: true } {
    const spread = this.#settings.spread;
    const lanes = this.#lanes.map((use) => use.peek());
    const live = (lane: number) => lanes[lane]?.live === true;
    let best: number | undefined;
    let idle: number | undefined;
    for (let lane = 0; lane < spread; lane++) {
      if (!live(lane)) idle ??= lane;
      else if (best === undefined || commandsOn(lanes[lane]) < commandsOn(lanes[best])) best = lane;
    }
    if (best === undefined) return { lane: idle ?? 0, opens: true };
    if (commandsOn(lanes[best]) > 0 && idle !== undefined) return { lane: idle, opens: true };
    if (hasRoom(lanes[best])) return { lane: best, opens: false };
    const roomy = this.#leastOccupied(0, spread, (lane) => live(lane) && hasRoom(lanes[lane]));
    if (roomy !== undefined) return { lane: roomy, opens: false };
    if (idle !== undefined) return { lane: idle, opens: true };
    for (let lane = spread; lane < lanes.length; lane++) {
      if (live(lane) && hasRoom(lanes[lane])) return { lane, opens: false };
    }
    if (Date.now() >= this.#overflowRefusedUntil) {
      for (let lane = spread; lane < lanes.length; lane++) if (!live(lane)) return { lane, opens: true };
    }
    // every connection is full: wait on the one with the fewest commands, among those where a
    // command can have a channel at all (an SFTP session keeps its channel while it is open: a
    // connection whose every channel is an SFTP session's would make the command wait for good)
    const least = this.#leastOccupied(
      0,
      lanes.length,
      (lane) => live(lane) && servesCommands(lanes[lane]),
      commandsOn,
    );
    return least === undefined ? { lane: best, opens: false, stuck: true } : { lane: least, opens: false };
  }

  /** The lane from `from` to `to` (excluded) that `accepts`, with the fewest channels taken (or `by`). */
  #leastOccupied(
    from: number,
    to: number,
    accepts: (lane: number) => boolean,
    by: (entry: SharedConnection | undefined) => number = (entry) => entry?.occupancy ?? 0,
  ): number | undefined {
    let found: number | undefined;
    for (let lane = from; lane < to; lane++) {
      if (!accepts(lane)) continue;
      if (found === undefined || by(this.#lanes[lane]?.peek()) < by(this.#lanes[found]?.peek())) found = lane;
    }
    return found;
  }

  /**
   * Runs a command's `work` on a connection (opened if need be), held meanwhile. A command turned
   * away while it waited for a channel slot, its connection having dropped, is given the next one.
   * An overflow connection that cannot be opened (a server that takes one connection per user,
   * say) is no failure of the command: it waits for a channel on the open ones, and no other
   * overflow connection is tried for {@link OVERFLOW_PAUSE} ms.
   */
  async command<T>(signal: AbortSignal | undefined, work: (site: ConnectionSite) => Promise<T>): Promise<T> {
    let release: (() => void) | undefined;
    let lane = 0;
    try {
      for (let moves = 0; ; moves++) {
        const left = lane;
        const picked = this.pick();
        if (picked.stuck === true) throw this.#stuck(picked.lane);
        lane = picked.lane;
        const use = this.#lanes[lane] as ConnectionUse;
        // the new hold before the old one goes: letting go might close what the command moves to
        const held = use.hold(true);
        release?.();
        release = held;
        if (moves > 0) this.#closeWhenIdle(left);
        let site: ConnectionSite;
        try {
          site = await use.site(signal);
        } catch (error) {
          if (!(picked.opens && lane >= this.#settings.spread && isConnectFailure(error)) || moves >= MOVES)
            throw error;
          this.#overflowRefusedUntil = Date.now() + OVERFLOW_PAUSE;
          this.#overflowRefusal = error;
          // let go of the lane that failed: held, it would count as live, be picked again and
          // dialled again within the pause
          release();
          release = undefined;
          continue;
        }
        try {
          return await work(site);
        } catch (error) {
          if (!(error instanceof SlotWithdrawnError && error.movable) || moves >= MOVES) throw error;
        }
      }
    } finally {
      release?.();
      this.#closeWhenIdle(lane);
    }
  }

  /** Why a command cannot run: SFTP sessions hold every channel it could have. */
  #stuck(lane: number): SshError {
    const node = this.#settings.node.toString();
    const size = this.#lanes[lane]?.peek()?.lifecycle.budget.size ?? 0;
    const own = this.#lanes.some((use) => use.peek()?.lifecycle.hasSftpOf(use) === true);
    const holders = own
      ? `SFTP sessions hold every channel of its connection (maxSessions ${size})`
      : `the SFTP sessions of other node objects sharing its connection hold all its channels (maxSessions ${size})`;
    const refused = this.#lanes.length > this.#settings.spread;
    const more = refused
      ? 'the server refused another connection (none is tried for a minute)'
      : `maxConnections is ${this.#lanes.length}`;
    const advice = refused ? 'raise maxSessions' : 'raise maxSessions or maxConnections';
    return new SshError(
      SshErrorCode.CHANNEL,
      `Cannot run a command on ${node}: ${holders}, and ${more}; ${advice}, or call resetSftp() on the node whose file commands are done`,
      { node, ...(refused && this.#overflowRefusal !== undefined ? { cause: this.#overflowRefusal } : {}) },
    );
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
    return this.#lanes.filter(
      (use) => use.isConnected || (use.attached && use.peek()?.lifecycle.isConnecting),
    ).length;
  }

  /** Session channels in use on the node's connections. */
  get sessionsInUse(): number {
    return this.#lanes.reduce((sum, use) => sum + use.sessionsInUse, 0);
  }
}

/** Commands holding a connection or on their way to it (none when it is not there). */
function commandsOn(entry: SharedConnection | undefined): number {
  return entry?.commands ?? 0;
}

/**
 * An error of opening a connection (not of a command on it): the server refused it or could not
 * be reached. A host key refused is not one: that must fail loudly, never be worked around.
 */
function isConnectFailure(error: unknown): boolean {
  return (
    error instanceof SshError && (error.code === SshErrorCode.CONNECT || error.code === SshErrorCode.AUTH)
  );
}

/** Whether a command may ever have a channel there: not every channel is an SFTP session's. */
function servesCommands(entry: SharedConnection | undefined): boolean {
  return entry !== undefined && !entry.lifecycle.budget.takenBySftp;
}

/** Whether a connection has a free channel for one more command (its commands and SFTP sessions counted). */
function hasRoom(entry: SharedConnection | undefined): boolean {
  return entry !== undefined && entry.occupancy < entry.lifecycle.budget.size;
}
