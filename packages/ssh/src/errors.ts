/**
 * The errors of @jobgraph/ssh: each a JobGraphError with an `ERR_*` code, a one-line
 * message naming the node and the cause, and the original error as `cause`.
 */
import { JobGraphError } from '@jobgraph/core';

/** Every `code` that @jobgraph/ssh may put on a {@link SshError}. */
export const SshErrorCode = {
  /** The TCP connection or the SSH handshake failed (unreachable, refused, timed out, closed early). */
  CONNECT: 'ERR_SSH_CONNECT',
  /** Every authentication method was refused. */
  AUTH: 'ERR_SSH_AUTH',
  /** The server's host key is not the one on record (or unknown, with the strict policy). */
  HOST_KEY: 'ERR_HOST_KEY',
  /** A channel (exec, sftp, tunnel) could not be opened or broke. */
  CHANNEL: 'ERR_SSH_CHANNEL',
  /** A file transfer failed. */
  SFTP: 'ERR_SFTP',
  /** A key file could not be read or decrypted. */
  KEY: 'ERR_SSH_KEY',
  /** A local file needed by a command (script, include, file to push) is missing. */
  LOCAL_FILE: 'ERR_LOCAL_FILE',
  /** A command of a critical SshJob failed. */
  COMMAND_FAILED: 'ERR_COMMAND_FAILED',
  /** An option had the wrong type or value. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** An ssh_config file could not be read or resolved. */
  SSH_CONFIG: 'ERR_SSH_CONFIG',
  /**
   * The ssh2 module (the SSH implementation, imported at the first connection, key parse or
   * agent query) could not be loaded: not installed, or broken. The next use tries again.
   */
  SSH2_LOAD: 'ERR_SSH2_LOAD',
  /** A command printed nothing for its `idleTimeout`: it was killed (its process group). */
  IDLE_TIMEOUT: 'ERR_IDLE_TIMEOUT',
  /** A Fleet command ran past its `timeout`: it was killed (its process group). */
  COMMAND_TIMEOUT: 'ERR_COMMAND_TIMEOUT',
  /** A Fleet command was stopped by `stop()` of its run: it was killed (its process group). */
  COMMAND_STOPPED: 'ERR_COMMAND_STOPPED',
  /** A command's captured output (`capture`) grew past {@link MAX_CAPTURE_CHARS}: nothing was stored. */
  CAPTURE_TOO_LARGE: 'ERR_CAPTURE_TOO_LARGE',
  /** The stream given as a command's `stdin` failed: the command got end-of-file there. */
  STDIN: 'ERR_STDIN',
  /** A command run with `sudo` could not start: no sudo on the host, a password needed or refused, not allowed. */
  SUDO: 'ERR_SUDO',
  /** `node.fs`: the path (or a directory on the way) does not exist. */
  REMOTE_NOT_FOUND: 'ERR_REMOTE_NOT_FOUND',
  /** `node.fs`: permission denied (EACCES, EPERM, SFTP's PERMISSION_DENIED). */
  REMOTE_PERMISSION: 'ERR_REMOTE_PERMISSION',
  /** `node.fs`: the path exists already (mkdir without `recursive`). */
  REMOTE_EXISTS: 'ERR_REMOTE_EXISTS',
  /** `node.fs`: a directory was expected (readdir of a file, a file on the way). */
  REMOTE_NOT_DIRECTORY: 'ERR_REMOTE_NOT_DIRECTORY',
  /** `node.fs`: a file was expected and the path is a directory (readFile, rm without `recursive`). */
  REMOTE_IS_DIRECTORY: 'ERR_REMOTE_IS_DIRECTORY',
  /** `node.fs`: any other failure (I/O error, file too large, SFTP failure, lost connection, timeout). */
  REMOTE_IO: 'ERR_REMOTE_IO',
} as const;

/** The union of the codes of {@link SshErrorCode}. */
export type SshErrorCode = (typeof SshErrorCode)[keyof typeof SshErrorCode];

/** An SSH-side failure; `node` is the `user@host` it concerns, when there is one. */
export class SshError extends JobGraphError {
  override name = 'SshError';
  readonly node: string | undefined;

  constructor(code: SshErrorCode, message: string, options: ErrorOptions & { node?: string } = {}) {
    super(code, message, options);
    this.node = options.node;
  }
}

/**
 * A command of a critical SshJob failed (apssh's `CommandFailedError`). Its message
 * names the command, the exit code or signal, and `user@host`:
 * `Command failed with exit code 2 on root@fit01: apt-get install -y foo`.
 */
export class CommandFailedError extends SshError {
  override name = 'CommandFailedError';
  /** The exit code, or null when the command ended on a signal or without status. */
  readonly exitCode: number | null;
  /** The signal name without `SIG` (`'TERM'`), or null. */
  readonly signal: string | null;
  /** The command's label. */
  readonly command: string;

  constructor(command: string, node: string, exitCode: number | null, signal: string | null) {
    const how =
      signal !== null
        ? `on signal ${signal}`
        : exitCode !== null
          ? `with exit code ${exitCode}`
          : 'without an exit status';
    super(SshErrorCode.COMMAND_FAILED, `Command failed ${how} on ${node}: ${commandInMessage(command)}`, {
      node,
    });
    this.exitCode = exitCode;
    this.signal = signal;
    this.command = command;
  }
}

/** The message of any thrown value. */
/** The most characters of a command a message shows. */
const COMMAND_SHOWN = 200;

/**
 * A command as an error message shows it: on one line (a script's lines joined by ` ⏎ `), cut
 * past 200 characters. The error's own fields keep it whole.
 * @example `commandInMessage('set -e\nmake')   // 'set -e ⏎ make'`
 */
export function commandInMessage(command: string): string {
  const line = command.trim().replace(/\s*\n\s*/g, ' ⏎ ');
  return line.length <= COMMAND_SHOWN
    ? line
    : `${Array.from(line)
        .slice(0, COMMAND_SHOWN - 1)
        .join('')}…`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
