/**
 * {@link RemoteFs} over a {@link FsBackend}: the arguments checked, then each call built of the
 * backend's primitives — the same code for an SshNode and a LocalNode, hence the same results
 * and errors on both.
 */
import { posix } from 'node:path';
import { SshError, SshErrorCode } from '../errors.js';
import { checkData, checkMode, checkPath, checkPositive, checkRemovable, decoderFor } from './arguments.js';
import type { FsBackend, FsRequest } from './backend.js';
import { fsError, hasCode } from './fs-errors.js';
import { compileGlob, walkGlob } from './glob.js';
import {
  DEFAULT_MAX_READ,
  type FsCallOptions,
  type FsDirEntry,
  type FsGlobOptions,
  type FsMkdirOptions,
  type FsReadOptions,
  type FsReadTextOptions,
  type FsRmOptions,
  type FsStat,
  type FsWriteOptions,
  type RemoteFs,
} from './remote-fs.js';
import { temporaryName } from './temporary-name.js';

/** Mode of a new file written without `mode`: fixed, not the umask, so every node agrees. */
const NEW_FILE_MODE = 0o644;
const NEW_DIR_MODE = 0o755;
const GLOB_CONCURRENCY = 16;

/** The file system of one node. */
export class NodeFs implements RemoteFs {
  readonly #backend: FsBackend;

  constructor(backend: FsBackend) {
    this.#backend = backend;
  }

  async exists(path: string, options: FsCallOptions = {}): Promise<boolean> {
    return (
      (await this.#statOrNone(this.#request('exists', options), checkPath('exists', 'path', path))) !==
      undefined
    );
  }

  async stat(path: string, options: FsCallOptions = {}): Promise<FsStat> {
    const request = this.#request('stat', options);
    return this.#backend.stat(request, checkPath('stat', 'path', path), true);
  }

  async isFile(path: string, options: FsCallOptions = {}): Promise<boolean> {
    const stat = await this.#statOrNone(this.#request('isFile', options), checkPath('isFile', 'path', path));
    return stat?.type === 'file';
  }

  async isDirectory(path: string, options: FsCallOptions = {}): Promise<boolean> {
    const request = this.#request('isDirectory', options);
    const stat = await this.#statOrNone(request, checkPath('isDirectory', 'path', path));
    return stat?.type === 'directory';
  }

  async readFile(path: string, options: FsReadOptions = {}): Promise<Buffer> {
    return this.#read('readFile', path, options);
  }

  async readText(path: string, options: FsReadTextOptions = {}): Promise<string> {
    const decoder = decoderFor('readText', options.encoding);
    return decoder.decode(await this.#read('readText', path, options));
  }

  async writeFile(path: string, data: string | Buffer, options: FsWriteOptions = {}): Promise<void> {
    const target = checkPath('writeFile', 'path', path);
    const bytes = checkData(data);
    const given = options.mode === undefined ? undefined : checkMode('writeFile', options.mode);
    const request = this.#request('writeFile', options);
    const existing = await this.#statOrNone(request, target);
    if (existing?.type === 'directory')
      throw fsError(SshErrorCode.REMOTE_IS_DIRECTORY, this.#backend.node, 'writeFile', target);
    const mode = given ?? existing?.mode ?? NEW_FILE_MODE;
    // same directory, so the rename is atomic (one file system); a dot name, hidden from globs
    const temporary = posix.join(
      posix.dirname(target),
      `${temporaryName(posix.basename(target), 'jobgraph')}.tmp`,
    );
    try {
      await this.#backend.writeNew(request, temporary, bytes);
      request.signal?.throwIfAborted();
      await this.#backend.chmod(request, temporary, mode);
      request.signal?.throwIfAborted();
      await this.#backend.rename(request, temporary, target);
    } catch (error) {
      // removed whatever happened (the request's own signal may be what failed: not used here)
      await this.#backend.unlink({ call: 'writeFile', signal: undefined }, temporary).catch(() => undefined);
      // the caller knows the target, not our temporary name
      if (error instanceof SshError && error.message.includes(temporary)) {
        throw new SshError(error.code as SshErrorCode, error.message.replace(temporary, target), {
          cause: error.cause,
          node: this.#backend.node,
        });
      }
      throw error;
    }
  }

  async mkdir(path: string, options: FsMkdirOptions = {}): Promise<void> {
    const target = checkPath('mkdir', 'path', path);
    const mode = options.mode === undefined ? NEW_DIR_MODE : checkMode('mkdir', options.mode);
    const request = this.#request('mkdir', options);
    if (!options.recursive) return this.#backend.mkdir(request, target, mode);
    await this.#mkdirs(request, posix.normalize(target), mode);
  }

  /** Makes `path` and its missing parents, trying the deepest first (usually only its parent is missing). */
  async #mkdirs(request: FsRequest, path: string, mode: number): Promise<void> {
    try {
      await this.#backend.mkdir(request, path, mode);
    } catch (error) {
      if (hasCode(error, SshErrorCode.REMOTE_EXISTS)) {
        const stat = await this.#backend.stat(request, path, true);
        if (stat.type === 'directory') return;
        throw fsError(SshErrorCode.REMOTE_NOT_DIRECTORY, this.#backend.node, request.call, path);
      }
      const parent = posix.dirname(path);
      if (!hasCode(error, SshErrorCode.REMOTE_NOT_FOUND) || parent === path) throw error;
      await this.#mkdirs(request, parent, mode);
      await this.#mkdirs(request, path, mode);
    }
  }

  readdir(path: string, options?: FsCallOptions & { withTypes?: false }): Promise<string[]>;
  readdir(path: string, options: FsCallOptions & { withTypes: true }): Promise<FsDirEntry[]>;
  async readdir(
    path: string,
    options: FsCallOptions & { withTypes?: boolean } = {},
  ): Promise<string[] | FsDirEntry[]> {
    const request = this.#request('readdir', options);
    const entries = await this.#backend.entries(request, checkPath('readdir', 'path', path));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return options.withTypes === true ? entries : entries.map((entry) => entry.name);
  }

  async glob(pattern: string, options: FsGlobOptions = {}): Promise<string[]> {
    const concurrency = checkPositive('glob', 'concurrency', options.concurrency, GLOB_CONCURRENCY);
    const request = this.#request('glob', options);
    const cwd = options.cwd === undefined ? '.' : checkPath('glob', 'cwd', options.cwd);
    const base = posix.resolve(await this.#backend.home(request), cwd);
    const compiled = compileGlob(pattern, base, options.dot === true);
    return walkGlob(this.#backend, request, base, compiled, concurrency);
  }

  async rm(path: string, options: FsRmOptions = {}): Promise<void> {
    const target = checkRemovable(path);
    const request = this.#request('rm', options);
    let stat: FsStat;
    try {
      stat = await this.#backend.stat(request, target, false);
    } catch (error) {
      if (options.force === true && hasCode(error, SshErrorCode.REMOTE_NOT_FOUND)) return;
      throw error;
    }
    if (stat.type !== 'directory') return this.#backend.unlink(request, target);
    if (options.recursive !== true)
      throw fsError(SshErrorCode.REMOTE_IS_DIRECTORY, this.#backend.node, 'rm', target);
    await this.#removeTree(request, target);
  }

  /** Removes a directory's contents (several entries at once), then the directory. */
  async #removeTree(request: FsRequest, dir: string): Promise<void> {
    request.signal?.throwIfAborted();
    const entries = await this.#backend.entries(request, dir);
    for (let i = 0; i < entries.length; i += GLOB_CONCURRENCY) {
      await Promise.all(
        entries.slice(i, i + GLOB_CONCURRENCY).map((entry) => {
          const path = posix.join(dir, entry.name);
          return entry.type === 'directory'
            ? this.#removeTree(request, path)
            : this.#backend.unlink(request, path);
        }),
      );
    }
    await this.#backend.rmdir(request, dir);
  }

  async rename(from: string, to: string, options: FsCallOptions = {}): Promise<void> {
    const source = checkPath('rename', 'from', from);
    const target = checkPath('rename', 'to', to);
    return this.#backend.rename(this.#request('rename', options), source, target);
  }

  async chmod(path: string, mode: number, options: FsCallOptions = {}): Promise<void> {
    const target = checkPath('chmod', 'path', path);
    return this.#backend.chmod(this.#request('chmod', options), target, checkMode('chmod', mode));
  }

  #request(call: string, options: FsCallOptions): FsRequest {
    options.signal?.throwIfAborted();
    return { call, signal: options.signal };
  }

  async #read(call: string, path: string, options: FsReadOptions): Promise<Buffer> {
    const target = checkPath(call, 'path', path);
    const maxBytes = checkPositive(call, 'maxBytes', options.maxBytes, DEFAULT_MAX_READ);
    return this.#backend.readFile(this.#request(call, options), target, maxBytes);
  }

  /** stat, or undefined when the path (or a directory on the way) is not there. */
  async #statOrNone(request: FsRequest, path: string): Promise<FsStat | undefined> {
    try {
      return await this.#backend.stat(request, path, true);
    } catch (error) {
      if (hasCode(error, SshErrorCode.REMOTE_NOT_FOUND, SshErrorCode.REMOTE_NOT_DIRECTORY)) return undefined;
      throw error;
    }
  }
}
