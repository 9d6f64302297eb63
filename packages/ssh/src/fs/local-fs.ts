/**
 * The backend of a LocalNode's `fs`: node:fs on the local disk, errno codes mapped as an
 * SshNode's SFTP statuses are, so both answer alike.
 */

import type { Dirent, Stats } from 'node:fs';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { SshErrorCode } from '../errors.js';
import type { FsBackend, FsRequest } from './backend.js';
import { fromErrno, fsError, tooLarge } from './fs-errors.js';
import type { FsDirEntry, FsFileType, FsStat } from './remote-fs.js';

/** Bytes written per write(2), and read per read(2): the signal is looked at between them. */
const WRITE_CHUNK = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

/** `work`, or the signal's reason as soon as it aborts (a read of a device that waits for input). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      settled = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) reject(error);
      },
    );
  });
}

function typeOfStats(stats: Stats | Dirent): FsFileType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** The local disk, for a node named `node` in messages. */
export class LocalFsBackend implements FsBackend {
  readonly node: string;

  constructor(node: string) {
    this.node = node;
  }

  async home(): Promise<string> {
    return process.cwd();
  }

  async #call<T>(request: FsRequest, path: string, work: () => Promise<T>): Promise<T> {
    request.signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      // given up on: the signal's reason, as an SshNode's fs rejects
      if (request.signal?.aborted) throw request.signal.reason;
      throw fromErrno(error, this.node, request.call, path);
    }
  }

  stat(request: FsRequest, path: string, follow: boolean): Promise<FsStat> {
    return this.#call(request, path, async () => {
      const stats = follow ? await stat(path) : await lstat(path);
      return {
        type: typeOfStats(stats),
        size: stats.size,
        mode: stats.mode & 0o7777,
        mtime: Math.floor(stats.mtimeMs / 1000),
      };
    });
  }

  entries(request: FsRequest, path: string): Promise<FsDirEntry[]> {
    return this.#call(request, path, async () => {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.map((entry) => ({ name: entry.name, type: typeOfStats(entry) }));
    });
  }

  readFile(request: FsRequest, path: string, maxBytes: number): Promise<Buffer> {
    return this.#call(request, path, async () => {
      const handle = await this.#openToRead(request, path);
      try {
        const stats = await handle.stat();
        if (stats.isDirectory())
          throw fsError(SshErrorCode.REMOTE_IS_DIRECTORY, this.node, request.call, path);
        if (stats.size > maxBytes) throw tooLarge(this.node, request.call, path, maxBytes);
        // read in pieces up to the bound: a size of 0 may be a device that never ends (/dev/zero)
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
          request.signal?.throwIfAborted();
          const chunk = Buffer.allocUnsafe(READ_CHUNK);
          const { bytesRead } = await unlessAborted(handle.read(chunk, 0, READ_CHUNK, null), request.signal);
          if (bytesRead === 0) return Buffer.concat(chunks, total);
          total += bytesRead;
          if (total > maxBytes) throw tooLarge(this.node, request.call, path, maxBytes);
          chunks.push(chunk.subarray(0, bytesRead));
        }
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * `path` opened to be read. The open of a fifo waits for a writer, in a thread of libuv's pool
   * that no signal can get back (and a process with such an open pending cannot exit): it is
   * opened without waiting first, and a fifo is refused.
   */
  async #openToRead(request: FsRequest, path: string) {
    const probe = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await probe.stat().catch(async (error: unknown) => {
      await probe.close();
      throw error;
    });
    if (stats.isFile() || stats.isDirectory()) return probe;
    await probe.close();
    if (stats.isFIFO()) {
      throw fsError(SshErrorCode.REMOTE_IO, this.node, request.call, path, {
        detail: 'a fifo: not read (it would wait for a writer)',
      });
    }
    // a device: read as it reads (its reads honour the signal)
    return open(path, constants.O_RDONLY);
  }

  writeNew(request: FsRequest, path: string, data: Buffer): Promise<void> {
    return this.#call(request, path, async () => {
      const handle = await open(path, 'wx', 0o600);
      try {
        for (let offset = 0; offset < data.length || offset === 0; offset += WRITE_CHUNK) {
          request.signal?.throwIfAborted();
          if (data.length === 0) break;
          await handle.write(data, offset, Math.min(WRITE_CHUNK, data.length - offset), offset);
        }
      } finally {
        await handle.close();
      }
    });
  }

  chmod(request: FsRequest, path: string, mode: number): Promise<void> {
    return this.#call(request, path, () => chmod(path, mode));
  }

  mkdir(request: FsRequest, path: string, mode: number): Promise<void> {
    return this.#call(request, path, async () => {
      await mkdir(path, { mode });
    });
  }

  rename(request: FsRequest, from: string, to: string): Promise<void> {
    return this.#call(request, from, () => rename(from, to));
  }

  unlink(request: FsRequest, path: string): Promise<void> {
    return this.#call(request, path, async () => {
      try {
        await unlink(path);
      } catch (error) {
        // Linux says EISDIR, macOS EPERM: a directory either way
        if (
          (error as { code?: unknown }).code === 'EPERM' &&
          (await lstat(path).catch(() => undefined))?.isDirectory()
        ) {
          throw fsError(SshErrorCode.REMOTE_IS_DIRECTORY, this.node, request.call, path);
        }
        throw error;
      }
    });
  }

  rmdir(request: FsRequest, path: string): Promise<void> {
    return this.#call(request, path, () => rmdir(path));
  }
}
