/**
 * The errors of `node.fs`: one line each, naming the call, the host and the path. Node's errno
 * codes (LocalNode) and SFTP statuses (SshNode) map to the same {@link SshErrorCode}s, so a
 * caller handles a missing file the same way on every node.
 */
import { SshError, SshErrorCode } from '../errors.js';
import { SftpStatusError } from '../transport/transport.js';

/** The codes `node.fs` rejects with, besides `ERR_INVALID_OPTION` for bad arguments. */
export type FsErrorCode =
  | typeof SshErrorCode.REMOTE_NOT_FOUND
  | typeof SshErrorCode.REMOTE_PERMISSION
  | typeof SshErrorCode.REMOTE_EXISTS
  | typeof SshErrorCode.REMOTE_NOT_DIRECTORY
  | typeof SshErrorCode.REMOTE_IS_DIRECTORY
  | typeof SshErrorCode.REMOTE_IO;

/** What each code says in a message. */
const WHAT: Record<FsErrorCode, string> = {
  [SshErrorCode.REMOTE_NOT_FOUND]: 'no such file or directory',
  [SshErrorCode.REMOTE_PERMISSION]: 'permission denied',
  [SshErrorCode.REMOTE_EXISTS]: 'it exists already',
  [SshErrorCode.REMOTE_NOT_DIRECTORY]: 'not a directory',
  [SshErrorCode.REMOTE_IS_DIRECTORY]: 'it is a directory',
  [SshErrorCode.REMOTE_IO]: 'input/output error',
};

/**
 * `fs.readText on root@host: /etc/x: no such file or directory`; `detail` replaces the
 * code's words (for ERR_REMOTE_IO, the cause's own).
 */
export function fsError(
  code: FsErrorCode,
  node: string,
  call: string,
  path: string,
  options: { detail?: string; cause?: unknown } = {},
): SshError {
  const detail = (options.detail ?? WHAT[code]).replace(/\s*\n\s*/g, ' ');
  return new SshError(code, `fs.${call} on ${node}: ${path}: ${detail}`, {
    node,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** `fs.rm: path: expected …, got '/'` — a bad argument, refused before anything is done. */
export function invalidArgument(call: string, argument: string, expected: string, got: unknown): SshError {
  const shown = typeof got === 'string' ? `'${got}'` : got === undefined ? 'nothing' : String(got);
  return new SshError(
    SshErrorCode.INVALID_OPTION,
    `fs.${call}: ${argument}: expected ${expected}, got ${shown}`,
  );
}

/** Node's errno codes, as ours (the rest: ERR_REMOTE_IO). */
const ERRNO: Record<string, FsErrorCode> = {
  ENOENT: SshErrorCode.REMOTE_NOT_FOUND,
  EACCES: SshErrorCode.REMOTE_PERMISSION,
  EPERM: SshErrorCode.REMOTE_PERMISSION,
  EEXIST: SshErrorCode.REMOTE_EXISTS,
  ENOTEMPTY: SshErrorCode.REMOTE_EXISTS,
  ENOTDIR: SshErrorCode.REMOTE_NOT_DIRECTORY,
  EISDIR: SshErrorCode.REMOTE_IS_DIRECTORY,
};

/** A failure of node:fs as an SshError; an SshError (ours already) is returned as it is. */
export function fromErrno(error: unknown, node: string, call: string, path: string): SshError {
  if (error instanceof SshError) return error;
  const errno = (error as { code?: unknown }).code;
  const code = typeof errno === 'string' ? ERRNO[errno] : undefined;
  if (code !== undefined) return fsError(code, node, call, path, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return fsError(SshErrorCode.REMOTE_IO, node, call, path, { detail: message, cause: error });
}

/**
 * The code of an SFTP failure, when the status says it: OpenSSH reports only ENOENT and
 * EACCES/EPERM precisely; `failure` needs a look at the path (see sftp-fs.ts), hence undefined.
 */
export function codeOfStatus(error: unknown): FsErrorCode | undefined {
  if (!(error instanceof SftpStatusError)) return undefined;
  if (error.status === 'no-such-file') return SshErrorCode.REMOTE_NOT_FOUND;
  if (error.status === 'permission-denied') return SshErrorCode.REMOTE_PERMISSION;
  return undefined;
}

/** Whether `error` is an SshError with one of `codes`. */
export function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof SshError && codes.includes(error.code);
}

/** A file over `maxBytes`, refused before it is read. */
export function tooLarge(node: string, call: string, path: string, maxBytes: number) {
  return fsError(SshErrorCode.REMOTE_IO, node, call, path, {
    detail: `larger than maxBytes (${maxBytes} bytes)`,
  });
}
