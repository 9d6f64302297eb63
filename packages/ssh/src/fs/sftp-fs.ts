/**
 * The backend of an SshNode's `fs`: the node's one SFTP session, each request bounded (the
 * node's connectTimeout) and abortable, and SFTP statuses mapped to the codes a LocalNode gives.
 * OpenSSH's sftp-server reports only "no such file" and "permission denied" precisely; for its
 * generic "failure" the path is looked at (is it there? a directory? a file on the way?).
 */
import { posix } from 'node:path';
import { SshError, SshErrorCode } from '../errors.js';
import { type SftpSession, SftpStatusError } from '../transport/transport.js';
import type { FsBackend, FsRequest } from './backend.js';
import { within } from './deadline.js';
import { codeOfStatus, type FsErrorCode, fsError, tooLarge } from './fs-errors.js';
import type { FsDirEntry, FsStat } from './remote-fs.js';

/** Bytes per read or write request: the largest ssh2 sends to OpenSSH in one. */
const CHUNK = 254 * 1024;
/** Write requests of one file in flight at once (2 MiB, as Push's transfers). */
const WRITES_IN_FLIGHT = 8;

/** What the backend needs of its SshNode (no import of the class: ssh-node.ts imports this). */
export interface SftpNodeAccess {
  /** `user@host`, for messages. */
  readonly name: string;
  /** Bounds each SFTP request, and getting the session, in ms. */
  readonly timeout: number;
  /** The node's shared SFTP session (connecting first if needed). */
  session(signal: AbortSignal | undefined): Promise<SftpSession>;
  /** Closes `session` and forgets it at once, if it is still the node's (the next call opens another). */
  drop(session: SftpSession): void;
  /** Runs `work` while the node's connection counts as busy. */
  using<T>(work: () => Promise<T>): Promise<T>;
}

/** The errors of requests that got no answer in time (made by `#timedOut`). */
const unanswered = new WeakSet<object>();

/** What a generic SFTP failure turns out to be, by operation. */
type Operation = 'stat' | 'entries' | 'open' | 'mkdir' | 'rename' | 'unlink' | 'rmdir' | 'chmod';

export class SftpFsBackend implements FsBackend {
  readonly #access: SftpNodeAccess;
  #home: string | undefined;

  constructor(access: SftpNodeAccess) {
    this.#access = access;
  }

  get node(): string {
    return this.#access.name;
  }

  async home(request: FsRequest): Promise<string> {
    this.#home ??= await this.#run(request, '.', 'stat', (session) => session.realpath('.'));
    return this.#home;
  }

  async stat(request: FsRequest, path: string, follow: boolean): Promise<FsStat> {
    const attributes = await this.#run(request, path, 'stat', (session) => session.attributes(path, follow));
    return { type: attributes.type, size: attributes.size, mode: attributes.mode, mtime: attributes.mtime };
  }

  entries(request: FsRequest, path: string): Promise<FsDirEntry[]> {
    return this.#run(request, path, 'entries', async (session) =>
      (await session.entries(path)).filter((entry) => entry.name !== '.' && entry.name !== '..'),
    );
  }

  // readFile and writeNew hold the connection across their requests (the end of a run must not
  // close it between two of them)
  readFile(request: FsRequest, path: string, maxBytes: number): Promise<Buffer> {
    return this.#access.using(() => this.#readFile(request, path, maxBytes));
  }

  async #readFile(request: FsRequest, path: string, maxBytes: number): Promise<Buffer> {
    let used: SftpSession | undefined;
    const file = await this.#run(request, path, 'open', (session) => {
      used = session;
      return session.open(path, 'r');
    });
    const session = used as SftpSession;
    try {
      const attributes = await this.#step(request, path, file.attributes(), session);
      if (attributes.type === 'directory')
        throw fsError(SshErrorCode.REMOTE_IS_DIRECTORY, this.node, request.call, path);
      if (attributes.size > maxBytes) throw tooLarge(this.node, request.call, path, maxBytes);
      const chunks: Buffer[] = [];
      let position = 0;
      // up to the size fstat gave (no extra round trip for end-of-file), or to end-of-file when
      // it gave 0 (/proc files and the like)
      while (attributes.size === 0 || position < attributes.size) {
        const chunk = await this.#step(request, path, file.read(CHUNK, position), session);
        if (chunk.length === 0) break;
        chunks.push(chunk);
        position += chunk.length;
        if (position > maxBytes) throw tooLarge(this.node, request.call, path, maxBytes);
      }
      return Buffer.concat(chunks, position);
    } finally {
      // not waited for: the content does not depend on it, and it saves a round trip per read
      file.close().catch(() => undefined);
    }
  }

  writeNew(request: FsRequest, path: string, data: Buffer): Promise<void> {
    return this.#access.using(() => this.#writeNew(request, path, data));
  }

  async #writeNew(request: FsRequest, path: string, data: Buffer): Promise<void> {
    let used: SftpSession | undefined;
    const file = await this.#run(request, path, 'open', (session) => {
      used = session;
      return session.open(path, 'wx', 0o600);
    });
    const session = used as SftpSession;
    let closed = false;
    try {
      // WRITES_IN_FLIGHT requests at once, as fastPut does: one at a time, a large file would
      // wait a round trip per chunk
      const inFlight = new Set<Promise<void>>();
      for (let offset = 0; offset < data.length; offset += CHUNK) {
        request.signal?.throwIfAborted();
        const write = this.#step(
          request,
          path,
          file.write(data.subarray(offset, offset + CHUNK), offset),
          session,
        );
        inFlight.add(write);
        write.then(
          () => inFlight.delete(write),
          () => undefined,
        );
        if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      closed = true;
      // waited for: a server may report a failed write (quota, disk full) only at close
      await this.#step(request, path, file.close(), session);
    } finally {
      if (!closed) file.close().catch(() => undefined);
    }
  }

  chmod(request: FsRequest, path: string, mode: number): Promise<void> {
    return this.#run(request, path, 'chmod', (session) => session.chmod(path, mode));
  }

  mkdir(request: FsRequest, path: string, mode: number): Promise<void> {
    return this.#run(request, path, 'mkdir', (session) => session.createDirectory(path, mode));
  }

  rename(request: FsRequest, from: string, to: string): Promise<void> {
    return this.#run(request, from, 'rename', (session) => session.rename(from, to), to);
  }

  unlink(request: FsRequest, path: string): Promise<void> {
    return this.#run(request, path, 'unlink', (session) => session.unlink(path));
  }

  rmdir(request: FsRequest, path: string): Promise<void> {
    return this.#run(request, path, 'rmdir', (session) => session.rmdir(path));
  }

  /** One request on the session: bounded, abortable, its failure mapped. */
  #run<T>(
    request: FsRequest,
    path: string,
    operation: Operation,
    work: (session: SftpSession) => Promise<T>,
    other?: string,
  ): Promise<T> {
    const { timeout } = this.#access;
    return this.#access.using(async () => {
      const session = await within(this.#access.session(request.signal), timeout, request.signal, () =>
        this.#timedOut(request, path),
      );
      try {
        return await within(work(session), timeout, request.signal, () => this.#timedOut(request, path));
      } catch (caught) {
        this.#afterGivingUp(session, request, caught);
        if (caught instanceof SshError || request.signal?.aborted) throw caught;
        const error = asStatusError(caught);
        let code = codeOfStatus(error) ?? (await this.#diagnose(session, error, operation, path, other));
        // OpenSSH answers ENOENT for a path under a file, where the local disk says ENOTDIR
        // (and "no such file" when listing a file)
        if (
          code === SshErrorCode.REMOTE_NOT_FOUND &&
          ((operation === 'entries' && (await this.#typeOf(session, path)) !== 'none') ||
            (await this.#fileOnTheWay(session, [path, other])))
        ) {
          code = SshErrorCode.REMOTE_NOT_DIRECTORY;
        }
        const detail = error.status === 'connection-lost' ? 'the connection was lost' : undefined;
        throw fsError(code, this.node, request.call, path, {
          cause: error,
          ...(code === SshErrorCode.REMOTE_IO
            ? { detail: detail ?? error.message.replace(`${path}: `, '') }
            : {}),
        });
      }
    });
  }

  /** A request on an open file of `session`: bounded and abortable, failures as ERR_REMOTE_IO. */
  async #step<T>(request: FsRequest, path: string, work: Promise<T>, session: SftpSession): Promise<T> {
    try {
      return await within(work, this.#access.timeout, request.signal, () => this.#timedOut(request, path));
    } catch (caught) {
      this.#afterGivingUp(session, request, caught);
      if (caught instanceof SshError || request.signal?.aborted) throw caught;
      const error = asStatusError(caught);
      const code = codeOfStatus(error) ?? SshErrorCode.REMOTE_IO;
      const detail =
        error.status === 'connection-lost'
          ? 'the connection was lost'
          : error.message.replace(`${path}: `, '');
      throw fsError(code, this.node, request.call, path, { cause: error, detail });
    }
  }

  #timedOut(request: FsRequest, path: string) {
    const error = fsError(SshErrorCode.REMOTE_IO, this.node, request.call, path, {
      detail: `no answer from the SFTP server within ${this.#access.timeout} ms`,
    });
    unanswered.add(error);
    return error;
  }

  /**
   * A request given up on (no answer in time, or its signal aborted) may have left the server
   * stuck in it: OpenSSH's sftp-server answers one request at a time, and one that blocks (an open
   * of a fifo no one writes to) blocks every later request of the session, for good. A session
   * whose request got no answer in time is dropped, and one given up on by its caller is dropped
   * unless it answers a cheap request in time: the next call opens a new session — unless the
   * server answered anything else meanwhile. (Dropped, not just closed: sshd confirms the close only
   * once the stuck sftp-server exits.)
   */
  #afterGivingUp(session: SftpSession, request: FsRequest, caught: unknown): void {
    const { timeout } = this.#access;
    // a server that answered anything meanwhile (a large Push's writes, queued before this
    // request) is busy, not stuck: dropping it would fail the transfers sharing the session
    const silent = () => session.lastAnswer === undefined || Date.now() - session.lastAnswer >= timeout;
    if (typeof caught === 'object' && caught !== null && unanswered.has(caught)) {
      if (silent()) this.#access.drop(session);
      return;
    }
    if (request.signal?.aborted !== true) return;
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      timer = setTimeout(() => resolve('stuck'), timeout);
      // the check keeps no process alive
      timer.unref();
    });
    void Promise.race([session.realpath('.').catch(() => 'closed'), stuck])
      .then((answer) => {
        if (answer === 'stuck' && silent()) this.#access.drop(session);
      })
      .finally(() => clearTimeout(timer));
  }

  /** The precise code behind SFTP's generic "failure", from a look at the paths (best effort). */
  async #diagnose(
    session: SftpSession,
    error: SftpStatusError,
    operation: Operation,
    path: string,
    other: string | undefined,
  ): Promise<FsErrorCode> {
    if (error.status !== 'failure') return SshErrorCode.REMOTE_IO;
    // unlink and rmdir act on a link itself, the others on what it points to
    const follow = operation !== 'unlink' && operation !== 'rmdir';
    const typeOf = (target: string) => this.#typeOf(session, target, follow);
    const type = await typeOf(path);
    if (operation === 'mkdir' && type !== 'none') return SshErrorCode.REMOTE_EXISTS;
    if (operation === 'open' && type === 'directory') return SshErrorCode.REMOTE_IS_DIRECTORY;
    if (operation === 'open' && type !== 'none') return SshErrorCode.REMOTE_EXISTS;
    if (operation === 'entries' && type !== 'none' && type !== 'directory')
      return SshErrorCode.REMOTE_NOT_DIRECTORY;
    if (operation === 'unlink' && type === 'directory') return SshErrorCode.REMOTE_IS_DIRECTORY;
    if (operation === 'rmdir' && type === 'directory') return SshErrorCode.REMOTE_EXISTS; // not empty
    if (operation === 'rmdir' && type !== 'none') return SshErrorCode.REMOTE_NOT_DIRECTORY;
    if (operation === 'rename' && other !== undefined) {
      const target = await typeOf(other);
      if (target === 'directory')
        return type === 'directory' ? SshErrorCode.REMOTE_EXISTS : SshErrorCode.REMOTE_IS_DIRECTORY;
      if (type === 'directory' && target !== 'none') return SshErrorCode.REMOTE_NOT_DIRECTORY;
    }
    return (await this.#fileOnTheWay(session, [path, other]))
      ? SshErrorCode.REMOTE_NOT_DIRECTORY
      : SshErrorCode.REMOTE_IO;
  }

  /** What `path` is (symlinks followed unless `follow` is false), `none` when it cannot be told; bounded. */
  #typeOf(session: SftpSession, path: string, follow = true): Promise<string> {
    return within(
      session.attributes(path, follow).then(
        (attributes) => attributes.type as string,
        () => 'none',
      ),
      this.#access.timeout,
      undefined,
      () => new Error('timed out'),
    ).catch(() => 'none');
  }

  /** Whether a parent directory of one of `paths` is something else (ENOTDIR): looked up from the nearest. */
  async #fileOnTheWay(session: SftpSession, paths: Array<string | undefined>): Promise<boolean> {
    const typeOf = (target: string) => this.#typeOf(session, target);
    for (const target of paths) {
      if (target === undefined) continue;
      for (let dir = posix.dirname(target); dir !== posix.dirname(dir); dir = posix.dirname(dir)) {
        const kind = await typeOf(dir);
        if (kind === 'directory') break;
        if (kind !== 'none') return true;
      }
    }
    return false;
  }
}

/** SFTP status numbers (draft-ietf-secsh-filexfer-02), for the older primitives that reject with them. */
const STATUS_NUMBERS: Record<number, SftpStatusError['status']> = {
  2: 'no-such-file',
  3: 'permission-denied',
  4: 'failure',
};

/** Any failure of the session as an {@link SftpStatusError} (chmod and realpath keep ssh2's errors). */
function asStatusError(error: unknown): SftpStatusError {
  if (error instanceof SftpStatusError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const number = (error as { code?: unknown }).code;
  const status =
    typeof number === 'number'
      ? (STATUS_NUMBERS[number] ?? 'failure')
      : /no response|not open|closed/i.test(message)
        ? 'connection-lost'
        : 'failure';
  return new SftpStatusError(status, message);
}
