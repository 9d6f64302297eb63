/**
 * The per-command options of `node.run` that both kinds of node handle alike: their checks
 * (before anything runs), the feeding of `stdin`, and the `idleTimeout` watch.
 */

import { Readable, type Writable } from 'node:stream';
import { MAX_DURATION } from '@jobgraph/core';
import { commandInMessage, SshError, SshErrorCode } from './errors.js';
import type { RunRequest } from './node.js';
import { encodingName } from './output.js';
import { isEnvName } from './ssh-node/shell.js';
import { checkSudo, type SudoRequest } from './sudo.js';

/** The input and output options a command object (`Run`, `RunScript`, `RunString`) passes to `node.run`. */
export interface CommandIoOptions {
  /**
   * The command's standard input, then end-of-file (a stream can be read once: a command
   * given one runs once). @default none: end-of-file at once
   */
  stdin?: string | Buffer | Readable;
  /** The encoding of its output (any `TextDecoder` label). @default 'utf-8' */
  encoding?: string;
  /** Stopped (`ERR_IDLE_TIMEOUT`) after this many ms without output. @default none */
  idleTimeout?: number;
  /** Run under sudo (`true`, or `{ user?, password? }`): see `RunRequest.sudo`. @default none */
  sudo?: SudoRequest;
}

/** The options of {@link CommandIoOptions}, checked, as given to `node.run`. */
export function commandIo(options: CommandIoOptions): Readonly<CommandIoOptions> {
  checkRunOptions(options);
  const { stdin, encoding, idleTimeout, sudo } = options;
  return {
    ...(sudo !== undefined ? { sudo } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(encoding !== undefined ? { encoding } : {}),
    ...(idleTimeout !== undefined ? { idleTimeout } : {}),
  };
}

function invalid(option: string, expected: string, value: unknown): SshError {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value)
      : typeof value === 'number'
        ? String(value)
        : typeof value;
  return new SshError(
    SshErrorCode.INVALID_OPTION,
    `Invalid run option ${option}: expected ${expected}, got ${shown}`,
  );
}

/**
 * Checks `stdin`, `encoding`, `idleTimeout` and `sudo` of a request (or of a command's options).
 * @throws SshError `ERR_INVALID_OPTION`, one line naming the option, what it must be and the value.
 */
export function checkRunOptions(
  request: Pick<RunRequest, 'stdin' | 'encoding' | 'idleTimeout' | 'sudo' | 'pty'> & {
    readonly env?: RunRequest['env'];
  } & Partial<Pick<RunRequest, 'onLine' | 'signal' | 'printStdout' | 'printStderr' | 'x11'>>,
): void {
  const { stdin, encoding, idleTimeout } = request;
  // checked before anything runs: an onLine that is no function failed once the command had run
  for (const key of ['pty', 'printStdout', 'printStderr', 'x11'] as const) {
    const value = request[key];
    if (value !== undefined && typeof value !== 'boolean') throw invalid(key, 'true or false', value);
  }
  if (request.onLine !== undefined && typeof request.onLine !== 'function')
    throw invalid('onLine', 'a function of each output line', request.onLine);
  if (request.signal !== undefined && !(request.signal instanceof AbortSignal))
    throw invalid('signal', 'an AbortSignal', request.signal);
  // a terminal has no end of input (it needs ^D), and echoes what it is given before the shell
  // starts: the command never saw its end, and could not be cancelled
  if (request.pty === true && stdin !== undefined)
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      'Invalid run options: stdin with pty is not supported (a terminal gives no end of input): give one or the other',
    );
  checkSudo(request.sudo, request.pty);
  checkEnv(request.env);
  if (
    stdin !== undefined &&
    typeof stdin !== 'string' &&
    !Buffer.isBuffer(stdin) &&
    !(stdin instanceof Readable)
  ) {
    throw invalid('stdin', 'a string, a Buffer or a Readable stream', stdin);
  }
  if (encoding !== undefined && (typeof encoding !== 'string' || encodingName(encoding) === undefined)) {
    throw invalid(
      'encoding',
      "an encoding that TextDecoder knows ('utf-8', 'utf-16le', 'latin1', …)",
      encoding,
    );
  }
  if (
    idleTimeout !== undefined &&
    (typeof idleTimeout !== 'number' ||
      !Number.isFinite(idleTimeout) ||
      idleTimeout <= 0 ||
      idleTimeout > MAX_DURATION)
  ) {
    throw invalid('idleTimeout', `a positive number of milliseconds, at most ${MAX_DURATION}`, idleTimeout);
  }
}

/**
 * `env`: names a shell takes, values strings without NUL (a NUL ends a command line where it
 * is). A value is never shown in the message: it may be a secret.
 */
function checkEnv(env: unknown): void {
  if (env === undefined) return;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw invalid('env', 'an object of names to string values', env);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!isEnvName(name)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid run option env: ${JSON.stringify(name)} is not a variable name (letters, digits and _, not first a digit)`,
      );
    }
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid run option env.${name}: expected a string without NUL characters, got ${typeof value === 'string' ? 'one with a NUL' : value === null ? 'null' : typeof value}`,
      );
    }
  }
}

/**
 * A command line: a string, without NUL (the system cuts a command line at its first NUL: the
 * rest would not run). The command is not shown in the message (it may hold a secret).
 * @throws SshError `ERR_INVALID_OPTION`
 */
export function checkCommandLine(command: unknown): void {
  if (typeof command !== 'string') {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Invalid command: expected a string, got ${typeof command}`,
    );
  }
  if (command.includes('\0')) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      'Invalid command: it holds a NUL character (a command line ends at the first NUL)',
    );
  }
}

/** The input being written to a command; `stop()` detaches a stream the command did not read to its end. */
export interface InputFeed {
  stop(): void;
  /** The error of the `stdin` stream, if it failed. */
  readonly error: Error | undefined;
}

/**
 * Writes `input` to `sink`, then ends it. A stream is piped (back-pressure: it is read as the
 * command reads). Errors of the sink (EPIPE, a closed channel: the command did not read it all)
 * are ignored; an error of the stream ends the input and is kept in `error`.
 */
export function feedInput(input: string | Buffer | Readable, sink: Writable): InputFeed {
  const noop = () => undefined;
  sink.on('error', noop);
  if (!(input instanceof Readable)) {
    sink.end(input);
    return { stop: noop, error: undefined };
  }
  let error: Error | undefined;
  const onError = (cause: Error) => {
    error ??= cause;
    input.unpipe(sink);
    sink.end();
  };
  input.on('error', onError);
  input.pipe(sink);
  return {
    // the error listener stays: a later error of the caller's stream must not go unhandled
    stop: () => input.unpipe(sink),
    get error() {
      return error;
    },
  };
}

/** The error of a failed `stdin` stream, for `run()` to reject with. */
export function stdinError(node: string, label: string, cause: Error): SshError {
  return new SshError(
    SshErrorCode.STDIN,
    `The stdin stream of a command failed on ${node}: ${cause.message} (${commandInMessage(label)})`,
    {
      cause,
      node,
    },
  );
}

/** The rejection of a command stopped by its `idleTimeout`. */
export function idleTimeoutError(node: string, label: string, idleTimeout: number): SshError {
  return new SshError(
    SshErrorCode.IDLE_TIMEOUT,
    `Command stopped after ${idleTimeout} ms without output (idleTimeout) on ${node}: ${commandInMessage(label)}`,
    { node },
  );
}

/**
 * Calls `onIdle` once when `touch` has not been called for `idleTimeout` ms; none without
 * a timeout. `clear()` when the command ends.
 */
export function idleWatch(
  idleTimeout: number | undefined,
  onIdle: () => void,
): { touch(): void; clear(): void } {
  if (idleTimeout === undefined) return { touch: () => undefined, clear: () => undefined };
  const timer = setTimeout(onIdle, idleTimeout);
  return { touch: () => timer.refresh(), clear: () => clearTimeout(timer) };
}
