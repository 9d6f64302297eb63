/**
 * SshNode: a remote host reached over SSH, directly or through gateways (apssh's
 * SshNode). One connection per node object, opened lazily under a lock and shared by
 * every job that uses the node; one exec channel per command, within a channel budget;
 * one SFTP channel per connection, reused.
 */
import { connect as netConnect } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { MAX_DURATION } from '@jobgraph/core';
import { messageOf, SshError, SshErrorCode } from './errors.js';
import type { Formatter, NodeEventKind } from './formatters/formatter.js';
import { HostFormatter } from './formatters/terminal.js';
import { encryptedDefaultKeys, type KeySpec, loadPrivateKeys, resolveKeys } from './keys.js';
import { type HostKeyPolicy, verifyHostKey } from './known-hosts.js';
import { type CommandNode, type CommandResult, outputSplitters, type RunRequest } from './node.js';
import { killScript, PidFrameReader, withPidReport } from './remote-process.js';
import { openWithRetry, SessionBudget } from './session-budget.js';
import { configNodeOptions, resolveSshConfig } from './ssh-config.js';
import { ssh2Transport } from './transport/ssh2.js';
import type {
  Connection,
  ExecChannel,
  ExitStatus,
  PrivateKey,
  SftpSession,
  Transport,
} from './transport/transport.js';

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
  /** Limit for connecting (TCP + handshake + authentication) and for opening a channel, in ms. @default 30_000 */
  connectTimeout?: number;
  /** Keepalive period in ms; 3 missed answers end the connection; 0 turns it off. @default 15_000 */
  keepaliveInterval?: number;
  /** At most this many session channels (commands, SFTP) open at once on the connection. @default 8 */
  maxSessions?: number;
  /** How output and events are shown. @default a HostFormatter */
  formatter?: Formatter;
  /** Show connection and session events. @default false */
  verbose?: boolean;
  /** The SSH implementation (tests substitute a fake). @default ssh2 */
  transport?: Transport;
}

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;

const finiteAtLeast =
  (min: number, integer = false) =>
  (value: unknown): boolean =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    (!integer || Number.isInteger(value));

/**
 * What each option must be, and how the message says it. A hand-written check, not a
 * schema library: zod's import alone took 55 ms of every script's start-up (of ~200 ms).
 */
const OPTION_RULES: { [K in keyof SshNodeOptions]-?: readonly [(value: unknown) => boolean, string] } = {
  hostname: [nonEmpty, 'a non-empty host name'],
  username: [nonEmpty, 'a non-empty string'],
  port: [
    (value) => finiteAtLeast(1, true)(value) && (value as number) <= 65535,
    'an integer from 1 to 65535',
  ],
  keys: [Array.isArray, 'an array'],
  agent: [(value) => value === false || nonEmpty(value), 'a non-empty string or false'],
  password: [(value) => typeof value === 'string', 'a string'],
  gateway: [(value) => value instanceof SshNode, 'an SshNode'],
  knownHosts: [nonEmpty, 'a non-empty string'],
  hostKeyPolicy: [
    (value) => value === 'strict' || value === 'accept-new' || value === 'off',
    "'strict', 'accept-new' or 'off'",
  ],
  connectTimeout: [
    (value) => finiteAtLeast(0)(value) && value !== 0 && (value as number) <= MAX_DURATION,
    `a positive number of milliseconds, at most ${MAX_DURATION}`,
  ],
  keepaliveInterval: [
    (value) => finiteAtLeast(0)(value) && (value as number) <= MAX_DURATION,
    `a number of milliseconds from 0 to ${MAX_DURATION}`,
  ],
  maxSessions: [finiteAtLeast(1, true), 'an integer >= 1'],
  formatter: [
    (value) => typeof value === 'object' && value !== null && typeof (value as Formatter).line === 'function',
    'a Formatter',
  ],
  verbose: [(value) => typeof value === 'boolean', 'a boolean'],
  transport: [(value) => typeof value === 'object' && value !== null, 'a Transport'],
};

function parseOptions(options: unknown): SshNodeOptions {
  const invalid = (where: string, why: string) =>
    new SshError(SshErrorCode.INVALID_OPTION, `Invalid SshNode option ${where}: ${why}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('the options', 'expected an object');
  }
  const given = options as Record<string, unknown>;
  if (given.hostname === undefined) throw invalid('hostname', 'expected a non-empty host name');
  for (const [name, value] of Object.entries(given)) {
    const rule = Object.hasOwn(OPTION_RULES, name) ? OPTION_RULES[name as keyof SshNodeOptions] : undefined;
    if (rule === undefined) throw invalid(name, 'unknown option');
    if (value !== undefined && !rule[0](value)) {
      const shown =
        typeof value === 'string'
          ? JSON.stringify(value)
          : typeof value === 'number' || typeof value === 'boolean'
            ? String(value)
            : typeof value;
      throw invalid(name, `expected ${rule[1]}, got ${shown}`);
    }
  }
  return { ...given } as unknown as SshNodeOptions;
}

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
  readonly knownHosts: string;
  readonly connectTimeout: number;
  readonly keepaliveInterval: number;
  readonly maxSessions: number;
  readonly #keySpecs: KeySpec[] | undefined;
  readonly #agent: string | undefined;
  readonly #password: string | undefined;
  readonly #transport: Transport;
  #connection: Connection | undefined;
  #connecting: Promise<Connection> | undefined;
  /** Aborts the connection attempt in progress, when the node is closed meanwhile. */
  #connectAbort: AbortController | undefined;
  #budget: SessionBudget;
  #sftp: Promise<SftpSession> | undefined;
  #sftpRelease: (() => void) | undefined;
  /** Channels and tunnels in use: the node is closed only when this is 0. */
  #busy = 0;
  /** Open connections tunnelled through this node. */
  #tunnels = 0;
  #closeWhenIdle = false;
  #closing: Promise<void> | undefined;
  #keys: Promise<PrivateKey[]> | undefined;
  #kept = false;
  #connections = 0;

  constructor(options: SshNodeOptions);
  constructor(hostname: string, options?: Omit<SshNodeOptions, 'hostname'>);
  constructor(first: SshNodeOptions | string, rest: Omit<SshNodeOptions, 'hostname'> = {}) {
    const options = parseOptions(typeof first === 'string' ? { ...rest, hostname: first } : first);
    this.hostname = options.hostname;
    this.username = options.username ?? 'root';
    this.port = options.port ?? 22;
    this.gateway = options.gateway;
    this.verbose = options.verbose ?? false;
    this.hostKeyPolicy = options.hostKeyPolicy ?? 'accept-new';
    this.knownHosts = options.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
    this.connectTimeout = options.connectTimeout ?? 30_000;
    this.keepaliveInterval = options.keepaliveInterval ?? 15_000;
    this.maxSessions = options.maxSessions ?? 8;
    this.#keySpecs = options.keys;
    this.#agent = options.agent === false ? undefined : (options.agent ?? process.env.SSH_AUTH_SOCK);
    this.#password = options.password;
    this.#transport = options.transport ?? ssh2Transport;
    this.#budget = new SessionBudget(this.maxSessions);
    this.formatter = options.formatter ?? new HostFormatter({ verbose: this.verbose });
    this.formatter.attach?.(this);
  }

  /**
   * A node for a host alias of an OpenSSH client config (`~/.ssh/config`), with its
   * ProxyJump hops as gateways — see {@link resolveSshConfig} for what is understood.
   * Each node takes HostName, User (else `options.username`, else root), Port, its
   * IdentityFiles (missing or encrypted ones skipped; none left: the default key policy),
   * IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking and ConnectTimeout from the
   * config; every node shares `formatter`, `verbose` and `transport`. The caller's
   * options win over the config for the target. Nothing connects until first use.
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
    const target = await resolveSshConfig(alias, file === undefined ? {} : { file });
    const shared: Pick<SshNodeOptions, 'formatter' | 'verbose' | 'transport'> = {};
    if (explicit.formatter !== undefined) shared.formatter = explicit.formatter;
    if (explicit.verbose !== undefined) shared.verbose = explicit.verbose;
    if (explicit.transport !== undefined) shared.transport = explicit.transport;
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
    const self = `${this.username}@${this.hostname}${this.port === 22 ? '' : `:${this.port}`}`;
    return this.gateway === undefined ? self : `${this.gateway.toString()}->${self}`;
  }

  /** 1 without gateway, else 1 + the gateway's distance. */
  distance(): number {
    return this.gateway === undefined ? 1 : 1 + this.gateway.distance();
  }

  /** Whether the connection is open. */
  isConnected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /** How many SSH connections this node has opened so far (a reconnection counts). */
  get connectionCount(): number {
    return this.#connections;
  }

  /** Session channels in use on the connection (commands and SFTP). */
  get sessionsInUse(): number {
    return this.#budget.used;
  }

  /** Keep the connection open after runs (`keepConnection`); `close()` still closes it. */
  keep(): void {
    this.#kept = true;
  }

  /** Opens the connection if it is not open (gateways first); concurrent callers share one attempt. */
  async connect(): Promise<void> {
    await this.#connectionReady();
  }

  /**
   * The open connection, or the attempt in progress (shared by concurrent callers). A caller's
   * `signal` stops its own wait, not the attempt: the others may still want the connection.
   */
  #connectionReady(signal?: AbortSignal): Promise<Connection> {
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

  #event(kind: NodeEventKind, extra: { detail?: string; direct?: boolean } = {}): void {
    try {
      this.formatter.event({ kind, node: this, time: new Date(), ...extra });
    } catch {
      // a formatter must not break the connection logic
    }
  }

  /** The node's keys, read and parsed once (a failure is retried at the next connect). */
  #credentials(): Promise<PrivateKey[]> {
    if (this.#keySpecs === undefined || this.#keySpecs.length === 0) return loadPrivateKeys();
    if (this.#keys === undefined) {
      const loading = resolveKeys(this.#keySpecs, this.#transport);
      this.#keys = loading;
      loading.catch(() => {
        if (this.#keys === loading) this.#keys = undefined;
      });
    }
    return this.#keys;
  }

  async #open(abandon: AbortSignal): Promise<Connection> {
    const direct = this.gateway === undefined;
    this.#event('connecting', { direct });
    try {
      const keys = await this.#credentials();
      abandon.throwIfAborted();
      let sock: Awaited<ReturnType<Connection['forwardOut']>> | undefined;
      if (this.gateway !== undefined) {
        sock = await this.gateway.#tunnel(this.hostname, this.port, this.toString(), abandon);
        // When the target's end of the tunnel goes away, the gateway sends EOF but keeps the
        // channel open: ssh2 then neither closes the connection nor can destroy it (the
        // stream is no longer writable). Destroying the tunnel closes everything on it.
        const tunnel = sock;
        tunnel.once('end', () => tunnel.destroy());
      }
      let connection: Connection;
      try {
        connection = await this.#transport.connect({
          host: this.hostname,
          port: this.port,
          username: this.username,
          keys,
          agent: this.#agent,
          password: this.#password,
          sock,
          timeout: this.connectTimeout,
          keepaliveInterval: this.keepaliveInterval,
          verifyHostKey: (key) =>
            verifyHostKey(this.hostKeyPolicy, this.knownHosts, this.hostname, this.port, key),
          signal: abandon,
        });
      } catch (error) {
        if (sock !== undefined) {
          sock.destroy();
          if (this.gateway !== undefined) this.gateway.#tunnelClosed();
        }
        throw error;
      }
      this.#connections++;
      this.#connection = connection;
      this.#budget = new SessionBudget(this.maxSessions);
      connection.onX11(forwardX11);
      connection.onClose((error) => {
        if (this.#connection === connection) {
          this.#connection = undefined;
          this.#sftp = undefined;
          this.#sftpRelease = undefined;
        }
        if (sock !== undefined) {
          sock.destroy();
          if (this.gateway !== undefined) this.gateway.#tunnelClosed();
        }
        this.#event('disconnected', error ? { detail: error.message } : {});
      });
      this.#event('connected', { direct });
      return connection;
    } catch (error) {
      let wrapped =
        error instanceof SshError
          ? error
          : new SshError(SshErrorCode.CONNECT, `Cannot connect to ${this.toString()}: ${messageOf(error)}`, {
              cause: error,
              node: this.toString(),
            });
      if (
        wrapped.code === SshErrorCode.AUTH &&
        (this.#keySpecs === undefined || this.#keySpecs.length === 0)
      ) {
        wrapped = await withEncryptedKeysHint(wrapped);
      }
      // an attempt dropped by close() is no news: whoever closed the node knows
      if (!abandon.aborted) this.#event('connect-failed', { detail: wrapped.message });
      throw wrapped;
    }
  }

  /** A direct-tcpip tunnel from this node to host:port, for a node behind it. */
  async #tunnel(host: string, port: number, forWhom: string, signal: AbortSignal) {
    const connection = await this.#connectionReady(signal);
    try {
      const stream = await connection.forwardOut(host, port);
      this.#tunnels++;
      return stream;
    } catch (error) {
      throw new SshError(
        SshErrorCode.CONNECT,
        `Cannot connect to ${forWhom}: the gateway ${this.toString()} could not reach ${host}:${port} (${messageOf(error)})`,
        { cause: error, node: forWhom },
      );
    }
  }

  #tunnelClosed(): void {
    this.#tunnels = Math.max(0, this.#tunnels - 1);
    this.#closeIfIdle();
  }

  #retain(): void {
    this.#busy++;
  }

  #release(): void {
    this.#busy = Math.max(0, this.#busy - 1);
    this.#closeIfIdle();
  }

  #closeIfIdle(): void {
    if (this.#closeWhenIdle && !this.#kept && this.#busy === 0 && this.#tunnels === 0) {
      void this.close();
    }
  }

  /**
   * Closes the connection once no command, transfer or tunnel uses it (unless a job
   * asked to keep it); used at the end of a run so that scripts exit on their own.
   * Gateways follow once the nodes behind them are closed.
   */
  releaseConnection(): void {
    if (this.#kept) return;
    this.#closeWhenIdle = true;
    this.#closeIfIdle();
    this.gateway?.releaseConnection();
  }

  /**
   * Closes the SFTP channel and the connection (not the gateway's). Bounded by
   * `connectTimeout`; idempotent. A later command reconnects.
   */
  close(): Promise<void> {
    // A second call while closing waits for the same close (closeSshInScheduler must not
    // return while a gateway that closed itself is still going down).
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
    const sftp = this.#sftp;
    this.#sftp = undefined;
    this.#sftpRelease?.();
    this.#sftpRelease = undefined;
    if (sftp !== undefined) {
      const session = await sftp.catch(() => undefined);
      if (session) {
        session.close();
        this.#event('sftp-stop');
      }
    }
    if (connection && !connection.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        connection.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.connectTimeout);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** The connection's SFTP session, opened once (it holds one session slot until close). */
  async sftp(signal?: AbortSignal): Promise<SftpSession> {
    const connection = await this.#connectionReady(signal);
    if (this.#sftp === undefined) {
      const opening = (async () => {
        const release = await this.#budget.acquire(signal);
        try {
          const session = await openWithRetry(
            () => connection.sftp(),
            this.toString(),
            this.connectTimeout,
            signal,
          );
          this.#sftpRelease = release;
          this.#event('sftp-start');
          // A session that ends on its own (or is closed to stop a transfer) is replaced
          // by the next file command, and its slot is given back.
          session.onClose(() => {
            if (this.#sftp !== opening) return;
            this.#sftp = undefined;
            this.#sftpRelease?.();
            this.#sftpRelease = undefined;
          });
          return session;
        } catch (error) {
          release();
          throw error instanceof SshError
            ? error
            : new SshError(
                SshErrorCode.SFTP,
                `Cannot start SFTP on ${this.toString()}: ${messageOf(error)}`,
                {
                  cause: error,
                  node: this.toString(),
                },
              );
        }
      })();
      this.#sftp = opening;
      opening.catch(() => {
        if (this.#sftp === opening) this.#sftp = undefined;
      });
    }
    return this.#sftp;
  }

  /**
   * Closes the SFTP session (not the connection): the way to stop a transfer in
   * progress, which ssh2 cannot abort otherwise. The next file command opens a new one.
   */
  resetSftp(): void {
    const sftp = this.#sftp;
    if (sftp === undefined) return;
    this.#sftp = undefined;
    this.#sftpRelease?.();
    this.#sftpRelease = undefined;
    void sftp.then(
      (session) => {
        session.close();
        this.#event('sftp-stop');
      },
      () => undefined,
    );
  }

  /** Runs `work` while the node counts as busy (it is not closed meanwhile). */
  async using<T>(work: () => Promise<T>): Promise<T> {
    this.#retain();
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  /**
   * Runs a command line (interpreted by the remote login shell) and resolves with how
   * it ended. Output goes to the node's formatter and to `request.onLine`, line by
   * line as it arrives. Cancelling through `request.signal` closes the channel, kills
   * the remote process group, and rejects with the signal's reason.
   * @throws SshError on connection failures (`ERR_SSH_CONNECT`, `ERR_SSH_AUTH`, `ERR_HOST_KEY`, `ERR_SSH_CHANNEL`).
   */
  async run(command: string, request: RunRequest = {}): Promise<CommandResult> {
    const signal = request.signal;
    signal?.throwIfAborted();
    this.#retain();
    try {
      const connection = await this.#connectionReady(signal);
      const release = await this.#budget.acquire(signal);
      let channel: ExecChannel;
      try {
        channel = await openWithRetry(
          () => connection.exec(withPidReport(withEnv(command, request.env)), execOptions(request)),
          this.toString(),
          this.connectTimeout,
          signal,
        );
      } catch (error) {
        release();
        throw error instanceof SshError
          ? error
          : new SshError(
              SshErrorCode.CHANNEL,
              `Cannot run a command on ${this.toString()}: ${messageOf(error)}`,
              {
                cause: error,
                node: this.toString(),
              },
            );
      }
      return await this.#follow(connection, channel, command, request, release);
    } finally {
      this.#release();
    }
  }

  async #follow(
    connection: Connection,
    channel: ExecChannel,
    command: string,
    request: RunRequest,
    release: () => void,
  ): Promise<CommandResult> {
    const label = request.label ?? command;
    this.#event('session-start', { detail: label });
    let pid: number | undefined;
    const { stdout: outLines, stderr: errLines } = outputSplitters(this, request, label);
    // The PID frame comes first on stderr (or on stdout under a pty, where both merge).
    // Cancelling: the remote process group is killed over another channel (sshd ignores
    // signal requests for root, and does not close a channel whose process still runs).
    const signal = request.signal;
    let cancelled = false;
    let killing: Promise<void> | undefined;
    const kill = () => {
      if (pid !== undefined) killing ??= this.#kill(connection, pid);
    };
    const onPid = (value: number) => {
      pid = value;
      if (cancelled) kill();
    };
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    const outFrames = new PidFrameReader(onPid, (chunk) => outLines.push(chunk));
    const errFrames = new PidFrameReader(onPid, (chunk) => errLines.push(chunk));
    channel.stdout.on('data', (chunk: Buffer) =>
      request.pty ? outFrames.push(chunk) : outLines.push(chunk),
    );
    channel.stderr.on('data', (chunk: Buffer) => errFrames.push(chunk));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Cancelled while the channel was opening: the remote process has started all the same
    // (an abort event does not fire again for a listener added afterwards).
    if (signal?.aborted === true) onAbort();
    let status: ExitStatus;
    try {
      status = await (signal === undefined ? channel.exit : untilCancelled(channel, signal, () => killing));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release();
      outFrames.end();
      errFrames.end();
      outLines.end();
      errLines.end();
      this.#event('session-stop', { detail: label });
    }
    if (cancelled) throw signal?.reason;
    if (status.code === null && status.signal === null && connection.closed) {
      throw new SshError(
        SshErrorCode.CHANNEL,
        `Connection to ${this.toString()} lost while running: ${label}`,
        {
          node: this.toString(),
        },
      );
    }
    return { exitCode: status.code, signal: status.signal };
  }

  /**
   * Kills a remote process group over a new channel; bounded, never throws. The kill
   * channel does not wait for a slot of the budget (the budget stays below sshd's
   * MaxSessions, so there is room; a refusal is retried).
   */
  async #kill(connection: Connection, pid: number): Promise<void> {
    if (connection.closed) return;
    const work = (async () => {
      const channel = await openWithRetry(() => connection.exec(killScript(pid), {}), this.toString(), 5_000);
      channel.stdout.resume();
      channel.stderr.resume();
      await channel.exit;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      work.catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * The exit of a cancelled command: once the kill is done (or if the PID never came),
 * the channel is closed; the wait is bounded in every case.
 */
async function untilCancelled(
  channel: ExecChannel,
  signal: AbortSignal,
  killing: () => Promise<void> | undefined,
): Promise<ExitStatus> {
  let onAbort = (): void => undefined;
  const cancelled = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const exited = channel.exit.then(() => undefined);
  await Promise.race([exited, cancelled]);
  // a job's signal serves all its commands: do not leave one listener per command on it
  signal.removeEventListener('abort', onAbort);
  if (!signal.aborted) return channel.exit;
  // Give the PID frame a moment to arrive if the command was cancelled right away.
  await Promise.race([exited, delay(2_000).then(() => killing())]);
  await Promise.race([exited, killing() ?? Promise.resolve()]);
  channel.close();
  await Promise.race([exited, delay(5_000)]);
  return { code: null, signal: null };
}

/** A pause that does not keep the process alive (it only bounds other waits). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Pipes an X11 channel that the server opened (for a command run with `x11`) to the
 * local X server of `$DISPLAY`: `:n` (or `unix:n`) is the socket `/tmp/.X11-unix/Xn`,
 * `host:n` is TCP port 6000+n, a path (`/…/org.xquartz:0`) is that socket. The remote
 * client's cookie passes through unchanged. Errors end both sides, never the process.
 */
function forwardX11(stream: Duplex): void {
  const display = process.env.DISPLAY ?? '';
  const match = /^(.*):(\d+)(?:\.\d+)?$/.exec(display);
  if (match === null) {
    stream.destroy();
    return;
  }
  const host = match[1] ?? '';
  const number = Number(match[2]);
  const socket = display.startsWith('/')
    ? netConnect(display)
    : host === '' || host === 'unix'
      ? netConnect(`/tmp/.X11-unix/X${number}`)
      : netConnect(6000 + number, host);
  const destroy = () => {
    socket.destroy();
    stream.destroy();
  };
  socket.on('error', destroy);
  stream.on('error', destroy);
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
  stream.pipe(socket).pipe(stream);
}

function execOptions(request: RunRequest) {
  return {
    ...(request.pty ? { pty: true } : {}),
    ...(request.x11 ? { x11: true } : {}),
  };
}

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Prefixes `export NAME='value';` for each variable: sshd accepts `env` requests only
 * for names listed in AcceptEnv, so they go through the command line, quoted.
 */
export function withEnv(command: string, env: Readonly<Record<string, string>> | undefined): string {
  if (env === undefined) return command;
  const exports = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid environment variable name: ${JSON.stringify(name)}`,
      );
    }
    return `export ${name}=${shellQuote(value)}`;
  });
  return exports.length === 0 ? command : `${exports.join('; ')}\n${command}`;
}

/** The local login, the default user of the CLI. */
export function localUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}

/**
 * A refusal of a node on the default keys, told which of them were left out for being encrypted
 * (the commonest reason: the key is fine, but no agent holds it and nobody gave its passphrase).
 */
async function withEncryptedKeysHint(error: SshError): Promise<SshError> {
  const encrypted = await encryptedDefaultKeys().catch(() => []);
  if (encrypted.length === 0) return error;
  const files = encrypted.join(', ');
  return new SshError(
    error.code as SshErrorCode,
    `${error.message}; left out for being encrypted: ${files} (load it into ssh-agent with ssh-add, or give it with its passphrase)`,
    error.node === undefined ? { cause: error.cause } : { cause: error.cause, node: error.node },
  );
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
