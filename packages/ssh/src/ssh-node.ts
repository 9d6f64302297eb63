/**
 * SshNode: a remote host reached over SSH, directly or through gateways (apssh's
 * SshNode). A connection opened lazily under a lock and used by every job of the node, and
 * shared with every other node object of the same destination and settings (reference-counted);
 * or up to `connections` of them. One exec channel per command, within a channel budget per
 * connection; one SFTP channel per node object (on its first connection), reused.
 *
 * This module is the face users see; the parts live in ssh-node/, each importing only
 * those below it: option-rules, credentials and connection-key at the bottom, then the
 * connection's life (connection-lifecycle, with its users' SFTP sessions), who shares it
 * (connection-registry), a node's connections (connection-pool), gateway-tunnel and
 * remote-command on them, and node-pool, which makes a node's pool from its options.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { endpointText } from './endpoint-text.js';
import type { Formatter } from './formatters/formatter.js';
import { HostFormatter } from './formatters/terminal.js';
import { NodeFs } from './fs/node-fs.js';
import type { RemoteFs } from './fs/remote-fs.js';
import { SftpFsBackend } from './fs/sftp-fs.js';
import type { KeySpec, loadPrivateKeys } from './keys.js';
import type { HostKeyPolicy } from './known-hosts.js';
import type { CommandNode, CommandResult, RunRequest } from './node.js';
import { checkCommandLine, checkRunOptions } from './run-options.js';
import { configNodeOptions, resolveSshConfig } from './ssh-config.js';
import type { ConnectionPool } from './ssh-node/connection-pool.js';
import { Credentials } from './ssh-node/credentials.js';
import { kNodeListeners, type NodeEventListener } from './ssh-node/node-events.js';
import { makeNodePool } from './ssh-node/node-pool.js';
import {
  DEFAULT_IDLE_CLOSE,
  DEFAULT_MAX_CONNECTIONS,
  type OptionRules,
  parseSshNodeOptions,
  SSH_NODE_OPTION_RULES,
} from './ssh-node/option-rules.js';
import { Orphans, runRemoteCommand } from './ssh-node/remote-command.js';
import { lazySsh2Transport } from './transport/lazy-ssh2.js';
import type { SftpSession, Transport } from './transport/transport.js';

/** Options of {@link SshNode}. */
export interface SshNodeOptions {
  /** Host name or address, as the gateway (if any) sees it. */
  hostname: string;
  /** Login. @default 'root' */
  username?: string;
  /** @default 22 */
  port?: number;
  /**
   * Private keys to try, in order: file paths (`~` expanded), `{ path, passphrase }`,
   * key text or bytes, or keys from {@link loadPrivateKeys}.
   * @default the agent's keys (if `$SSH_AUTH_SOCK`), then `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` (loaded once per process)
   */
  keys?: KeySpec[];
  /** Agent socket, or false for none. @default process.env.SSH_AUTH_SOCK */
  agent?: string | false;
  /** Password, tried after the keys. */
  password?: string;
  /** The node through which this one is reached; chains of any depth. */
  gateway?: SshNode;
  /** @default ~/.ssh/known_hosts */
  knownHosts?: string;
  /**
   * `strict`: unknown and changed keys refused; `accept-new`: unknown keys accepted and
   * recorded, changed ones refused; `off`: no check.
   * @default 'accept-new'
   */
  hostKeyPolicy?: HostKeyPolicy;
  /**
   * The name under which the host's key is looked up in (and recorded into) `knownHosts`, instead
   * of `[host]:port` (ssh_config's HostKeyAlias): for hosts reached by several names or ports, or
   * an address that changes. @default none: the host and port
   */
  hostKeyAlias?: string;
  /** Limit for connecting (TCP + handshake + authentication) and for opening a channel, in ms. @default 30_000 */
  connectTimeout?: number;
  /** Keepalive period in ms; 3 missed answers end the connection; 0 turns it off. @default 15_000 */
  keepaliveInterval?: number;
  /** At most this many session channels (commands, SFTP) open at once on each connection. @default 8 */
  maxSessions?: number;
  /**
   * At most this many handshakes (TCP connect or tunnel, SSH handshake, authentication) at once
   * from this process to the node's destination (`host:port`; behind a gateway, also through each
   * gateway connection), counted over every node object: sshd drops unauthenticated connections
   * beyond its `MaxStartups` (default 10). Dropped ones are retried within `connectTimeout`.
   * @default 8
   */
  maxHandshakes?: number;
  /**
   * Up to this many connections to the destination (1 to 64), each with its own `maxSessions`
   * channels, opened as needed: a command goes to the connection with the fewest commands, and
   * another connection is opened when every open one already runs a command. SFTP uses the first.
   * @default 1
   * @example `new SshNode({ hostname: 'h', connections: 4 })   // 8 concurrent commands: 2 per connection`
   */
  connections?: number;
  /**
   * Up to this many connections to the destination (1 to 64; less than `connections` counts as `connections`): when every
   * open connection has `maxSessions` channels in use, a command opens another connection (through
   * the same gateways) instead of waiting for a channel — as OpenSSH users open a second
   * ControlMaster connection. Connections opened so close once idle for `idleClose` ms. Commands
   * wait for a channel only beyond `maxConnections × maxSessions`. 1 (or `connections`): no overflow
   * connection, commands wait for a channel. An overflow connection that cannot be opened (a server
   * that takes one connection per user) is no failure: the command waits for a channel on the open
   * ones, and no overflow connection is tried for a minute.
   * @default 4 (or `connections` when larger)
   * @example `new SshNode({ hostname: 'h', maxSessions: 8 })   // 12 concurrent commands: 8 + 4 on a second connection`
   */
  maxConnections?: number;
  /**
   * How long a connection opened for the overflow (see `maxConnections`) stays open with no
   * command of this node, in ms; 0 closes it as soon as its last command ends.
   * @default 5000
   */
  idleClose?: number;
  /**
   * Share the connection(s) with every other SshNode object that names the same destination with
   * the same credentials and settings (host, port, username, gateway's connection, keys, agent,
   * password, hostKeyPolicy, knownHosts, connectTimeout, keepaliveInterval, maxSessions,
   * connections' index, transport object): one connection for them all, closed when the last
   * node using it is closed or done (see `closeAll()`). `false`: connections of this node's own.
   * @default true
   * @example
   * ```ts
   * const a = new SshNode('fit01', { gateway })       // a and b: one connection to fit01
   * const b = new SshNode('fit01', { gateway })
   * const c = new SshNode('fit01', { gateway, shareConnection: false })   // a connection of its own
   * ```
   */
  shareConnection?: boolean;
  /**
   * When this node is a gateway: run `true` once on its connection before the first tunnel, so
   * that its sshd sends without Nagle's delay (OpenSSH turns it off only when a session runs a
   * command; without it, overlapping commands through the gateway waited ~40 ms each for delayed
   * ACKs). `false` for a jump host where no command may run (a `ForceCommand`, recorded sessions).
   * @default true
   */
  tunnelNoDelay?: boolean;
  /** How output and events are shown. @default a HostFormatter */
  formatter?: Formatter;
  /** Show connection and session events. @default false */
  verbose?: boolean;
  /** The SSH implementation (tests substitute a fake). @default ssh2 */
  transport?: Transport;
}

/** The option rules, with the one that needs the class. */
const OPTION_RULES: OptionRules<SshNodeOptions> = {
  ...SSH_NODE_OPTION_RULES,
  gateway: [(value) => value instanceof SshNode, 'an SshNode'],
};

/**
 * A remote node.
 *
 * @example
 * ```ts
 * const gateway = new SshNode({ hostname: 'faraday.inria.fr', username: 'inria_r2lab' })
 * const fit01 = new SshNode({ hostname: 'fit01', gateway })        // root@fit01 through the gateway
 * await new SshJob({ node: fit01, command: 'uname -a', scheduler }).run(…)
 * ```
 */
export class SshNode implements CommandNode {
  readonly hostname: string;
  readonly username: string;
  readonly port: number;
  readonly gateway: SshNode | undefined;
  readonly formatter: Formatter;
  readonly verbose: boolean;
  readonly hostKeyPolicy: HostKeyPolicy;
  /** The name of the host's key in `knownHosts`, when it is not the host and port. */
  readonly hostKeyAlias: string | undefined;
  readonly knownHosts: string;
  readonly connectTimeout: number;
  readonly keepaliveInterval: number;
  readonly maxSessions: number;
  readonly connections: number;
  readonly maxConnections: number;
  readonly idleClose: number;
  readonly tunnelNoDelay: boolean;
  readonly shareConnection: boolean;
  /** The node's connections: used through the registry of shared connections, picked per command. */
  readonly #pool: ConnectionPool;
  /** The listeners of {@link SshNode.onEvent} (node-events.ts tells them). */
  readonly [kNodeListeners] = new Set<NodeEventListener>();
  /** Commands a dropped connection may have left running, killed before the next one runs. */
  readonly #orphans = new Orphans();
  /** Keep the connections open after runs (`keepConnection`). */
  #kept = false;
  #fs: RemoteFs | undefined;
  /** The keys, agent and password, as given. */
  readonly #credentials: Credentials;

  constructor(options: SshNodeOptions);
  constructor(hostname: string, options?: Omit<SshNodeOptions, 'hostname'>);
  constructor(first: SshNodeOptions | string, rest: Omit<SshNodeOptions, 'hostname'> = {}) {
    const options = parseSshNodeOptions(
      typeof first === 'string' ? { ...rest, hostname: first } : first,
      OPTION_RULES,
    );
    this.hostname = options.hostname;
    this.username = options.username ?? 'root';
    this.port = options.port ?? 22;
    this.gateway = options.gateway;
    this.verbose = options.verbose ?? false;
    this.hostKeyPolicy = options.hostKeyPolicy ?? 'accept-new';
    this.hostKeyAlias = options.hostKeyAlias;
    this.knownHosts = options.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
    this.connectTimeout = options.connectTimeout ?? 30_000;
    this.keepaliveInterval = options.keepaliveInterval ?? 15_000;
    this.maxSessions = options.maxSessions ?? 8;
    this.connections = options.connections ?? 1;
    // never fewer than `connections` (a Fleet host listed twice with maxConnections 1 in its defaults)
    this.maxConnections = Math.max(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, this.connections);
    this.idleClose = options.idleClose ?? DEFAULT_IDLE_CLOSE;
    this.tunnelNoDelay = options.tunnelNoDelay ?? true;
    this.shareConnection = options.shareConnection ?? true;
    const transport = options.transport ?? lazySsh2Transport;
    this.#credentials = new Credentials(options.keys, options.agent, options.password, transport);
    const gateway =
      this.gateway === undefined
        ? undefined
        : { pool: this.gateway.#pool, tunnelNoDelay: this.gateway.tunnelNoDelay };
    this.#pool = makeNodePool(this, gateway, {
      credentials: this.#credentials,
      keys: options.keys,
      maxHandshakes: options.maxHandshakes,
      transport,
    });
    this.formatter = options.formatter ?? new HostFormatter({ verbose: this.verbose });
    this.formatter.attach?.(this);
  }

  /**
   * A node for a host alias of an OpenSSH client config (`~/.ssh/config`), with its
   * ProxyJump hops as gateways — see {@link resolveSshConfig} for what is understood.
   * Each node takes HostName, User (else `options.username`, else root), Port, its
   * IdentityFiles (missing or encrypted ones skipped; none left: the default key policy),
   * IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking and ConnectTimeout from the
   * config; every node shares `formatter`, `verbose`, `transport` and `tunnelNoDelay`. The caller's
   * options win over the config for the target. A `gateway` given replaces the config's
   * ProxyJump route (and ProxyCommand), as `ssh -J` does: the alias is then resolved with
   * `proxied: true` (not canonicalized, unless CanonicalizeHostName always). Nothing connects
   * until first use.
   * @throws SshError `ERR_SSH_CONFIG` when the config cannot be resolved (ProxyCommand, Match exec, a jump loop…).
   * @example
   * ```ts
   * // ~/.ssh/config:
   * //   Host lab
   * //     HostName faraday.inria.fr
   * //     User inria_r2lab
   * //   Host fit*
   * //     ProxyJump lab
   * const fit01 = await SshNode.fromSshConfig('fit01', { verbose: true })
   * fit01.toString()   // 'inria_r2lab@faraday.inria.fr->root@fit01'
   * ```
   */
  static async fromSshConfig(
    alias: string,
    options: { file?: string } & Omit<SshNodeOptions, 'hostname'> = {},
  ): Promise<SshNode> {
    const { file, ...given } = options;
    // options given as undefined must not hide the config's values
    const explicit = Object.fromEntries(
      Object.entries(given).filter(([, value]) => value !== undefined),
    ) as Omit<SshNodeOptions, 'hostname'>;
    // a gateway given here replaces the config's route, as ssh -J does (no canonicalization either)
    const target = await resolveSshConfig(alias, {
      ...(file === undefined ? {} : { file }),
      proxied: explicit.gateway !== undefined,
      // given here, they are ssh's -l and -p: Match user, %r and %p of the config see them
      ...(explicit.username === undefined ? {} : { login: explicit.username }),
      ...(explicit.port === undefined ? {} : { port: explicit.port }),
    });
    // the hops (ProxyJump) take how nodes show, and whether a jump host may run the one command
    // that turns Nagle off (tunnelNoDelay); the rest of the options is the target's
    const forHops = (['formatter', 'verbose', 'transport', 'tunnelNoDelay'] as const).filter(
      (key) => explicit[key] !== undefined,
    );
    const shared = Object.fromEntries(forHops.map((key) => [key, explicit[key]])) as Partial<SshNodeOptions>;
    let gateway: SshNode | undefined;
    for (const hop of explicit.gateway === undefined ? target.jump : []) {
      const hopOptions = await configNodeOptions(hop, explicit.username, explicit.transport);
      gateway = new SshNode({ ...hopOptions, ...shared, ...(gateway === undefined ? {} : { gateway }) });
    }
    const fromConfig = await configNodeOptions(target, explicit.username, explicit.transport);
    return new SshNode({ ...fromConfig, ...(gateway === undefined ? {} : { gateway }), ...explicit });
  }

  /** `user@host`, or `gwuser@gw->user@host` through gateways. */
  toString(): string {
    const self = endpointText(this.username, this.hostname, this.port);
    return this.gateway === undefined ? self : `${this.gateway.toString()}->${self}`;
  }

  /** 1 without gateway, else 1 + the gateway's distance. */
  distance(): number {
    return this.gateway === undefined ? 1 : 1 + this.gateway.distance();
  }

  /** Whether the node uses an open connection. */
  isConnected(): boolean {
    return this.#pool.isConnected;
  }

  /**
   * The key files the node was given as `keys`, in order, as written (a `{ path, passphrase }` by
   * its path; no passphrase): what can be written down (Fleet's `toJSON`). Undefined when no
   * keys were given (the default keys), or when one was given in memory ({@link keysInMemory}).
   */
  get keyPaths(): readonly string[] | undefined {
    return this.#credentials.keyPaths;
  }

  /** Whether a key was given in memory (key text, bytes, a loaded key, as `fromSshConfig` gives): it has no path to write down. */
  get keysInMemory(): boolean {
    return this.#credentials.keysInMemory;
  }

  /** The `agent` option as given: a socket path, false for none, undefined for the default (`$SSH_AUTH_SOCK`). */
  get agent(): string | false | undefined {
    return this.#credentials.givenAgent;
  }

  /**
   * How many SSH connections this node has used so far: a reconnection counts, and so does a
   * shared connection that another node object opened.
   */
  get connectionCount(): number {
    return this.#pool.openedCount;
  }

  /** Connections of this node open (or opening) now. */
  get openConnections(): number {
    return this.#pool.openNow;
  }

  /** Session channels in use on the node's connections (commands and SFTP; on a shared connection, every node's). */
  get sessionsInUse(): number {
    return this.#pool.sessionsInUse;
  }

  /** Keep the connection open after runs (`keepConnection`); `close()` still closes it. */
  keep(): void {
    this.#kept = true;
  }

  /** Opens the (first) connection if it is not open (gateways first); concurrent callers share one attempt. */
  async connect(): Promise<void> {
    await this.#pool.first.site();
  }

  /**
   * Stops using the connections once no command or transfer of this node holds them (unless a
   * job asked to keep them); used at the end of a run so that scripts exit on their own. A
   * connection closes when no node uses it and no tunnel holds it: one that a node object of
   * another scheduler still uses stays open. Gateways follow once the nodes behind them are closed.
   */
  releaseConnection(): void {
    if (this.#kept) return;
    this.#pool.releaseWhenIdle();
    this.gateway?.releaseConnection();
  }

  /**
   * Stops using the connections now (not the gateway's), and closes this node's SFTP channel:
   * a connection that no other node object uses is closed, and its commands fail; one still used
   * by another node stays open, and this node's commands on it go on. Bounded by
   * `connectTimeout`; idempotent. A later command connects again.
   */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /**
   * The node's files, over its own SFTP session (no shell spawned): exists, stat, readFile,
   * readText, writeFile (atomic), mkdir, readdir, glob, rm, rename, chmod — see {@link RemoteFs}.
   * Each SFTP request is bounded by `connectTimeout`. Made at first use.
   * @example `const text = await node.fs.readText('/etc/os-release')`
   */
  get fs(): RemoteFs {
    this.#fs ??= new NodeFs(
      new SftpFsBackend({
        name: this.toString(),
        timeout: this.connectTimeout,
        session: (signal) => this.sftp(signal),
        drop: (session) => this.#pool.first.resetSftp(session),
        using: (work) => this.using(work),
      }),
    );
    return this.#fs;
  }

  /**
   * This node's SFTP session on its (first) connection, opened once (it holds one session slot
   * until closed). Each node object has its own, also on a connection shared with other node
   * objects. `signal` stops this caller's wait only, not the opening that other callers may wait for.
   */
  sftp(signal?: AbortSignal): Promise<SftpSession> {
    return this.#pool.first.sftp(signal);
  }

  /**
   * Closes this node's SFTP session (not the connection, nor the sessions of other node objects
   * sharing it): the way to stop a transfer in progress, which ssh2 cannot abort otherwise. The
   * next file command opens a new one. A session still opening is abandoned (closed, and its
   * channel slot given back, as soon as it opens); the file commands waiting for it fail with
   * `ERR_SFTP`.
   */
  resetSftp(): void {
    this.#pool.first.resetSftp();
  }

  /** Runs `work` while the node counts as busy (its first connection is not closed meanwhile). */
  async using<T>(work: () => Promise<T>): Promise<T> {
    const release = this.#pool.first.hold(false);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * Subscribes to the node's connection and session events (`connecting`, `connected`,
   * `connect-failed`, `disconnected` — with the error as `detail` when the connection was lost —,
   * `session-start`…): what its formatter is shown, to a listener of yours. A listener that
   * throws is ignored. `attachSshEvents(scheduler)` uses it to put connections in a scheduler's
   * event stream.
   * @returns a function that unsubscribes
   * @example `const stop = node.onEvent((event) => console.log(event.kind, event.detail))`
   */
  onEvent(listener: NodeEventListener): () => void {
    this[kNodeListeners].add(listener);
    return () => {
      this[kNodeListeners].delete(listener);
    };
  }

  /**
   * Runs a command line (interpreted by the remote login shell) and resolves with how
   * it ended. Output goes to the node's formatter and to `request.onLine`, line by
   * line as it arrives. Cancelling through `request.signal` closes the channel, kills
   * the remote process group, and rejects with the signal's reason. `stdin`, `encoding` and
   * `idleTimeout`: see {@link RunRequest}.
   * @throws SshError on connection failures (`ERR_SSH_CONNECT`, `ERR_SSH_AUTH`, `ERR_HOST_KEY`, `ERR_SSH_CHANNEL`);
   * `ERR_INVALID_OPTION` (before connecting), `ERR_IDLE_TIMEOUT`, `ERR_STDIN`.
   */
  async run(command: string, request: RunRequest = {}): Promise<CommandResult> {
    checkCommandLine(command);
    checkRunOptions(request);
    request.signal?.throwIfAborted();
    return this.#pool.command(request.signal, async ({ connection, budget }) => {
      // commands a dropped connection left are killed first; concurrent commands wait for it too
      await this.#orphans.killBefore(connection, this.toString());
      return runRemoteCommand(
        { node: this, connection, budget, openTimeout: this.connectTimeout, orphans: this.#orphans },
        command,
        request,
      );
    });
  }
}
