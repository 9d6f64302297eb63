/**
 * One command on every host of a fleet, at once: per-host results (errors are values),
 * a per-host `timeout`, `join({ timeout })` with the partial output of the unfinished, `stop()`.
 */
import type { Readable } from 'node:stream';
import { SshError, SshErrorCode } from '../errors.js';
import type { CommandNode } from '../node.js';
import { checkRunOptions } from '../run-options.js';
import type { SudoRequest } from '../sudo.js';
import { checkConcurrency, type HostGate, hostGate } from './host-gate.js';
import type { FleetHost } from './hosts.js';

/** Options of `fleet.run()` and `fleet.start()`, given to every host's command. */
export interface FleetCommandOptions {
  /** Written to each command's stdin: a string or Buffer for all, or a function of the host (a stream can be read only once). */
  stdin?: string | Buffer | ((host: FleetHost) => string | Buffer | Readable);
  /** The output's encoding, any `TextDecoder` label. @default 'utf-8' */
  encoding?: string;
  /** Kill a command that prints nothing for this many ms (its error: `ERR_IDLE_TIMEOUT`). @default none */
  idleTimeout?: number;
  /** Environment variables, set through the command line. */
  env?: Readonly<Record<string, string>>;
  /** Run under a pseudo-terminal (stderr merged into stdout). @default false */
  pty?: boolean;
  /**
   * Run under sudo: `true` (root, no password) or `{ user?, password? }`; the password goes
   * through stdin, never into a result, event or error. A host where sudo is missing, needs a
   * password or refuses it has an `ERR_SUDO` error. @default none
   */
  sudo?: SudoRequest;
  /** Kill a host's command that runs longer than this many ms (its error: `ERR_COMMAND_TIMEOUT`). @default none */
  timeout?: number;
  /** Aborting it stops every host's command (remote processes killed). */
  signal?: AbortSignal;
  /**
   * At most this many hosts' commands at once (parallel-ssh's `pool_size`); the others wait their
   * turn in host order (a waiting host's `timeout` and `durationMs` start with its turn; `stop()`
   * and the signal end its wait, and `join()` counts it among the unfinished).
   * @default all at once
   */
  concurrency?: number;
  /**
   * Work done on each host in its turn, before its command (copying a script it runs, making a
   * directory…), given a signal that aborts on a stop, the run's signal or the timeout. Counted in
   * the host's `timeout` and `durationMs`; a throw is that host's `error`, and its command does
   * not run.
   * @default none
   * @example `fleet.run('./probe.sh', { prepare: (host) => host.node.fs.writeFile('probe.sh', body, { mode: 0o755 }) })`
   */
  prepare?: (host: FleetHost, signal: AbortSignal) => Promise<void>;
  /** Also show the output through each node's formatter. @default false (only collected) */
  print?: boolean;
  /** Keep the output in the results' `stdout` and `stderr`. @default true; false for output too big to hold (then shown with `print` only) */
  collect?: boolean;
}

/** What one host's command did. */
export interface FleetResult {
  /** The host's name in the fleet. */
  readonly host: string;
  readonly node: CommandNode;
  /** The command line run there. */
  readonly command: string;
  /** The exit code; null when it ended on a signal, failed, or has not ended. */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or null. */
  readonly signal: string | null;
  /** The output's text, decoded in the command's `encoding` (so far, for an unfinished one). */
  readonly stdout: string;
  readonly stderr: string;
  /** Why there is no status: connection, timeout, idle timeout, stop… */
  readonly error?: Error;
  /** From the start to the end (or to now, for an unfinished one). */
  readonly durationMs: number;
  /** The command ended with a status (an exit code or a signal). */
  readonly finished: boolean;
  /** Finished with exit code 0. */
  readonly ok: boolean;
}

/** What `join()` returns. */
export interface FleetJoin {
  /** Every host whose command has settled, ended or failed (see each result's `finished`, `error`). */
  readonly finished: FleetResult[];
  /** Still running, or given up: the output so far. */
  readonly unfinished: FleetResult[];
}

const OPTION_NAMES = [
  'stdin',
  'encoding',
  'idleTimeout',
  'env',
  'pty',
  'sudo',
  'timeout',
  'signal',
  'print',
  'collect',
  'concurrency',
  'prepare',
];

/** @throws SshError `ERR_INVALID_OPTION` on an unknown option, a stream as stdin, a bad timeout */
export function checkCommandOptions(options: object, extra: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Invalid Fleet options: expected an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key) && !extra.includes(key)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid Fleet option ${JSON.stringify(key)}: expected one of ${[...OPTION_NAMES, ...extra].join(', ')}`,
      );
    }
  }
  const { stdin, timeout, encoding, idleTimeout, sudo, pty, concurrency, env, signal } =
    options as FleetCommandOptions;
  // checked once here, so that a bad value is one error rather than one per host
  checkRunOptions({ encoding, idleTimeout, sudo, pty, env });
  if (pty === true && stdin !== undefined)
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      'Invalid Fleet options: stdin with pty is not supported (a terminal gives no end of input): give one or the other',
    );
  if (
    stdin !== undefined &&
    typeof stdin !== 'string' &&
    typeof stdin !== 'function' &&
    !Buffer.isBuffer(stdin)
  ) {
    if (typeof stdin !== 'object' || stdin === null)
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid Fleet option stdin: expected a string, a Buffer, or a function of the host, got ${stdin === null ? 'null' : typeof stdin}`,
      );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Invalid Fleet option signal: expected an AbortSignal, got ${signal === null ? 'null' : typeof signal}`,
    );
  }
  checkConcurrency(concurrency);
  const { prepare } = options as FleetCommandOptions;
  if (prepare !== undefined && typeof prepare !== 'function') {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      'Invalid Fleet option prepare: expected a function (host, signal) => Promise<void>',
    );
  }
  if (stdin !== undefined && typeof stdin === 'object' && !Buffer.isBuffer(stdin)) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      'Invalid Fleet option stdin: a stream can be read only once: give a string, a Buffer, or a function of the host',
    );
  }
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= 2_147_483_647)) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Invalid Fleet option timeout: expected a positive number of milliseconds, at most 2147483647, got ${String(timeout)}`,
    );
  }
}

/** One host's command under way. */
class HostRun {
  readonly #stdout: string[] = [];
  readonly #stderr: string[] = [];
  readonly #controller = new AbortController();
  /** When the command started (or, while it waits for its turn, when it was asked for). */
  #start = performance.now();
  #result: FleetResult | undefined;
  readonly done: Promise<FleetResult>;
  readonly host: FleetHost;
  readonly line: string;

  constructor(host: FleetHost, line: string, options: FleetCommandOptions, gate: HostGate) {
    this.host = host;
    this.line = line;
    // the caller's signal: aborted already, the host never starts; aborting later, FleetRun's
    // one listener tells every host (one listener per host would be too many for a big fleet)
    if (options.signal?.aborted) this.abort(options.signal.reason);
    // waiting for its turn (concurrency) ends on a stop too: the host's error is then the reason
    this.done = gate(() => this.#run(options), this.#controller.signal).catch((reason: unknown) => {
      this.#result = this.snapshot(undefined, reason instanceof Error ? reason : new Error(String(reason)));
      return this.#result;
    });
  }

  async #run(options: FleetCommandOptions): Promise<FleetResult> {
    const { node } = this.host;
    this.#start = performance.now();
    // A timeout while connecting is no command killed: nothing ran (the host is unreachable).
    let connecting = false;
    const timer =
      options.timeout === undefined
        ? undefined
        : setTimeout(() => {
            if (connecting) {
              const message = `Cannot connect to ${node.toString()}: no connection within the command's timeout of ${options.timeout} ms`;
              // said where every other failed connection is said: the node's formatter
              try {
                node.formatter.event({ kind: 'connect-failed', node, time: new Date(), detail: message });
              } catch {
                // formatters must not break commands
              }
              this.abort(new SshError(SshErrorCode.CONNECT, message, { node: node.toString() }));
              return;
            }
            this.abort(
              new SshError(
                SshErrorCode.COMMAND_TIMEOUT,
                `Command ran past its timeout of ${options.timeout} ms on ${node.toString()}, killed: ${this.line}`,
                { node: node.toString() },
              ),
            );
          }, options.timeout);
    let status: { exitCode: number | null; signal: string | null } | undefined;
    let error: Error | undefined;
    try {
      if ('connect' in node && typeof node.connect === 'function') {
        connecting = true;
        await this.#untilAborted(node.connect());
        connecting = false;
      }
      if (options.prepare !== undefined) await this.#prepare(options.prepare);
      // a throwing stdin function is this host's error, not the whole run's
      const stdin = typeof options.stdin === 'function' ? options.stdin(this.host) : options.stdin;
      status = await node.run(this.line, {
        signal: this.#controller.signal,
        label: this.line,
        ...(options.collect === false
          ? {}
          : { onLine: (line) => (line.stream === 'stderr' ? this.#stderr : this.#stdout).push(line.linenl) }),
        printStdout: options.print === true,
        printStderr: options.print === true,
        ...(stdin === undefined ? {} : { stdin }),
        ...(options.encoding === undefined ? {} : { encoding: options.encoding }),
        ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.pty === undefined ? {} : { pty: options.pty }),
        ...(options.sudo === undefined ? {} : { sudo: options.sudo }),
      });
    } catch (caught) {
      error = caught instanceof Error ? caught : new Error(String(caught));
    } finally {
      clearTimeout(timer);
    }
    this.#result = this.snapshot(status, error);
    return this.#result;
  }

  /**
   * The host's step before its command, in its turn and within its timeout; a stop, the signal or
   * the timeout end the wait for it even if `prepare` does not heed its signal.
   */
  async #prepare(prepare: NonNullable<FleetCommandOptions['prepare']>): Promise<void> {
    this.#controller.signal.throwIfAborted();
    await this.#untilAborted(prepare(this.host, this.#controller.signal));
  }

  /** `work`, or the host's abort reason as soon as it aborts (a step that does not heed a signal). */
  async #untilAborted<T>(work: Promise<T>): Promise<T> {
    const signal = this.#controller.signal;
    if (signal.aborted) {
      work.catch(() => undefined);
      throw signal.reason;
    }
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      // the abandoned step's failure is no unhandled rejection
      work.catch(() => undefined);
    }
  }

  /** The result, final once the command has settled, else the output so far. */
  snapshot(
    status: { exitCode: number | null; signal: string | null } | undefined = undefined,
    error: Error | undefined = undefined,
  ): FleetResult {
    if (this.#result !== undefined) return this.#result;
    const finished = status !== undefined && (status.exitCode !== null || status.signal !== null);
    return {
      host: this.host.name,
      node: this.host.node,
      command: this.line,
      exitCode: status?.exitCode ?? null,
      signal: status?.signal ?? null,
      stdout: this.#stdout.join(''),
      stderr: this.#stderr.join(''),
      ...(error === undefined ? {} : { error }),
      durationMs: performance.now() - this.#start,
      finished,
      ok: finished && status?.exitCode === 0 && error === undefined,
    };
  }

  get settled(): boolean {
    return this.#result !== undefined;
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }
}

/**
 * A command started on every host (`fleet.start()`).
 * @example
 * ```ts
 * const run = fleet.start('tail -f /var/log/syslog')
 * const { finished, unfinished } = await run.join({ timeout: 5_000 })
 * unfinished.forEach((r) => console.log(r.host, r.stdout))   // the output so far
 * await run.stop()                                           // remote processes killed
 * ```
 */
export class FleetRun {
  readonly #runs: HostRun[];

  constructor(hosts: readonly FleetHost[], lines: readonly string[], options: FleetCommandOptions) {
    const gate = hostGate(options.concurrency);
    this.#runs = hosts.map((host, index) => new HostRun(host, lines[index] as string, options, gate));
    const outer = options.signal;
    if (outer !== undefined && !outer.aborted) {
      // one listener on the caller's signal for the whole fleet, gone once every host has settled
      const forward = () => {
        for (const run of this.#runs) if (!run.settled) run.abort(outer.reason);
      };
      outer.addEventListener('abort', forward, { once: true });
      void this.results().then(() => outer.removeEventListener('abort', forward));
    }
  }

  /** Every host's final result, in host order; never rejects. */
  results(): Promise<FleetResult[]> {
    return Promise.all(this.#runs.map((run) => run.done));
  }

  /**
   * Waits until every command has ended, or `timeout` ms; the unfinished keep running
   * (`stop()` kills them) and are returned with their output so far.
   * @default timeout: none (waits for all)
   */
  async join(options: { timeout?: number } = {}): Promise<FleetJoin> {
    const { timeout } = options ?? {};
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && timeout <= 2_147_483_647)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid FleetRun join option timeout: expected a number of milliseconds from 0 to 2147483647, got ${String(timeout)}`,
      );
    }
    const all = this.results();
    if (options.timeout !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, options.timeout)))]);
      clearTimeout(timer);
    } else {
      await all;
    }
    const finished: FleetResult[] = [];
    const unfinished: FleetResult[] = [];
    for (const run of this.#runs) {
      const result = run.snapshot();
      (run.settled ? finished : unfinished).push(result);
    }
    return { finished, unfinished };
  }

  /** Kills the commands still running (their remote process groups) and resolves to every host's result once all have settled. */
  async stop(): Promise<FleetResult[]> {
    for (const run of this.#runs) {
      if (!run.settled) {
        run.abort(
          new SshError(
            SshErrorCode.COMMAND_STOPPED,
            `Command stopped on ${run.host.node.toString()}: ${run.line}`,
            { node: run.host.node.toString() },
          ),
        );
      }
    }
    return this.results();
  }
}
