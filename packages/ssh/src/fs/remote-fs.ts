/**
 * `node.fs`: the file-system calls every node offers — an SshNode over its one SFTP session,
 * the LocalNode on the local disk — with the same results and the same errors. This module is
 * the contract: the calls, their options and what they return.
 */
import type { RemoteFileType } from '../transport/transport.js';

/** What a path is: `stat` follows symlinks; `readdir` and `glob` entries do not. */
export type FsFileType = RemoteFileType;

/** Options every call takes. */
export interface FsCallOptions {
  /** Aborting it rejects the call with the signal's reason; a writeFile in progress leaves nothing behind. */
  readonly signal?: AbortSignal | undefined;
}

/** A path's attributes, as `stat` returns them. */
export interface FsStat {
  readonly type: FsFileType;
  /** In bytes. */
  readonly size: number;
  /** Permission bits only (`0o644`). */
  readonly mode: number;
  /** Last modification, whole seconds since the epoch (what SFTP carries). */
  readonly mtime: number;
}

/** A directory entry (`readdir` with `withTypes`, or `glob` with `withTypes`). */
export interface FsDirEntry {
  /** The name in its directory (readdir), or the path relative to the base (glob). */
  readonly name: string;
  readonly type: FsFileType;
}

/** Options of `readFile` and `readText`. */
export interface FsReadOptions extends FsCallOptions {
  /** A larger file is refused with ERR_REMOTE_IO rather than held in memory. @default 64 MiB */
  readonly maxBytes?: number | undefined;
}

/** Options of `readText`. */
export interface FsReadTextOptions extends FsReadOptions {
  /** Any label `TextDecoder` knows; invalid bytes become U+FFFD. @default 'utf-8' */
  readonly encoding?: string | undefined;
}

/** Options of `writeFile`. */
export interface FsWriteOptions extends FsCallOptions {
  /** Permission bits of the file, exactly (no umask). @default the replaced file's, else 0o644 */
  readonly mode?: number | undefined;
}

/** Options of `mkdir`. */
export interface FsMkdirOptions extends FsCallOptions {
  /** Make missing parents too, and accept an existing directory. @default false */
  readonly recursive?: boolean | undefined;
  /** Permission bits of the new directories (the server's umask applies). @default 0o755 */
  readonly mode?: number | undefined;
}

/** Options of `rm`. */
export interface FsRmOptions extends FsCallOptions {
  /** Remove a directory and everything in it. @default false: a directory is refused (ERR_REMOTE_IS_DIRECTORY) */
  readonly recursive?: boolean | undefined;
  /** A missing path is no error. @default false */
  readonly force?: boolean | undefined;
}

/** Options of `glob`. */
export interface FsGlobOptions extends FsCallOptions {
  /** The directory the pattern is relative to. @default the login directory (SSH), the working directory (local) */
  readonly cwd?: string | undefined;
  /** Match names starting with `.` with `*` and `**` too. @default false */
  readonly dot?: boolean | undefined;
  /** Directories listed at once while walking. @default 16 */
  readonly concurrency?: number | undefined;
}

/**
 * The file system of a node. Paths are POSIX; a relative path is relative to the login
 * directory (SSH) or the working directory (local). Every call rejects with an SshError:
 * `ERR_REMOTE_NOT_FOUND`, `ERR_REMOTE_PERMISSION`, `ERR_REMOTE_EXISTS`, `ERR_REMOTE_NOT_DIRECTORY`,
 * `ERR_REMOTE_IS_DIRECTORY`, `ERR_REMOTE_IO` (naming the call, the host and the path), or
 * `ERR_INVALID_OPTION` for a bad argument (before anything is done).
 *
 * @example
 * ```ts
 * const node = new SshNode('fit01')
 * if (!(await node.fs.exists('/etc/app'))) await node.fs.mkdir('/etc/app', { recursive: true })
 * await node.fs.writeFile('/etc/app/config.json', JSON.stringify(config))   // atomic
 * const logs = await node.fs.glob('**\/*.log', { cwd: '/var/log/app' })
 * const text = await node.fs.readText(`/var/log/app/${logs[0]}`)
 * ```
 */
export interface RemoteFs {
  /** Whether the path exists (false also when a component on the way is not a directory). */
  exists(path: string, options?: FsCallOptions): Promise<boolean>;
  /** The path's attributes, symlinks followed. */
  stat(path: string, options?: FsCallOptions): Promise<FsStat>;
  /** Whether the path is a regular file (symlinks followed); false when it does not exist. */
  isFile(path: string, options?: FsCallOptions): Promise<boolean>;
  /** Whether the path is a directory (symlinks followed); false when it does not exist. */
  isDirectory(path: string, options?: FsCallOptions): Promise<boolean>;
  /** The whole file. */
  readFile(path: string, options?: FsReadOptions): Promise<Buffer>;
  /** The whole file, decoded. */
  readText(path: string, options?: FsReadTextOptions): Promise<string>;
  /**
   * Writes the file atomically: into a temporary file of the same directory, then renamed over
   * `path`; on failure or abort the temporary is removed and `path` is untouched. A string is
   * written as UTF-8.
   */
  writeFile(path: string, data: string | Buffer, options?: FsWriteOptions): Promise<void>;
  /** Makes a directory. */
  mkdir(path: string, options?: FsMkdirOptions): Promise<void>;
  /** The names in a directory (sorted, without `.` and `..`), or entries with their types. */
  readdir(path: string, options?: FsCallOptions & { withTypes?: false }): Promise<string[]>;
  readdir(path: string, options: FsCallOptions & { withTypes: true }): Promise<FsDirEntry[]>;
  /**
   * The paths under `cwd` matching `pattern` (`*`, `**`, `?`, `[...]`), relative to `cwd`, sorted.
   * Symlinks are matched but not followed. A pattern that leaves `cwd` (`..`, or an absolute
   * path outside it) is refused with ERR_INVALID_OPTION. A directory met on the way that cannot
   * be listed (permission denied, removed meanwhile) is skipped, as glob(3) and the shells do;
   * `cwd` itself must be listable.
   */
  glob(pattern: string, options?: FsGlobOptions): Promise<string[]>;
  /** Removes a file or symlink; a directory with `recursive`. Refuses `/`, `''`, `.`, `..` and the like. */
  rm(path: string, options?: FsRmOptions): Promise<void>;
  /** Renames, replacing an existing target (as rename(2)). */
  rename(from: string, to: string, options?: FsCallOptions): Promise<void>;
  /** Sets the permission bits. */
  chmod(path: string, mode: number, options?: FsCallOptions): Promise<void>;
}

/** Default of {@link FsReadOptions.maxBytes}. */
export const DEFAULT_MAX_READ = 64 * 1024 * 1024;
