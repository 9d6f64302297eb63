/**
 * What `node.fs` needs from a place that holds files: a handful of primitives, each one
 * request, failing with the SshErrors of fs-errors.ts. `NodeFs` (node-fs.ts) builds every
 * call of {@link RemoteFs} on them, once, so that a LocalNode and an SshNode answer alike;
 * local-fs.ts and sftp-fs.ts implement them.
 */
import type { FsDirEntry, FsStat } from './remote-fs.js';

/** The call being served (for messages) and its signal. */
export interface FsRequest {
  /** `readText`, `glob`…: named in error messages. */
  readonly call: string;
  readonly signal: AbortSignal | undefined;
}

export interface FsBackend {
  /** `user@host`, for messages. */
  readonly node: string;
  /** The directory relative paths start from (the login or working directory), absolute. */
  home(request: FsRequest): Promise<string>;
  /** `follow`: stat, else lstat. */
  stat(request: FsRequest, path: string, follow: boolean): Promise<FsStat>;
  /** A directory's entries, types not following symlinks, in the server's order. */
  entries(request: FsRequest, path: string): Promise<FsDirEntry[]>;
  /** The whole file, refused (ERR_REMOTE_IO) above `maxBytes`. */
  readFile(request: FsRequest, path: string, maxBytes: number): Promise<Buffer>;
  /** Creates `path` (it must not exist) with mode 0o600 and writes `data`; the caller removes it on failure. */
  writeNew(request: FsRequest, path: string, data: Buffer): Promise<void>;
  chmod(request: FsRequest, path: string, mode: number): Promise<void>;
  /** Creates one directory; ERR_REMOTE_EXISTS if anything is there. */
  mkdir(request: FsRequest, path: string, mode: number): Promise<void>;
  /** rename(2): replaces the target. */
  rename(request: FsRequest, from: string, to: string): Promise<void>;
  /** Removes a file or symlink. */
  unlink(request: FsRequest, path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(request: FsRequest, path: string): Promise<void>;
}
