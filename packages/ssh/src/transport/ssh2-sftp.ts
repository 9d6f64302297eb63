/**
 * The SFTP session over ssh2 (its types only: `ssh2.ts` imports ssh2 and hands the session
 * here). Each primitive is one request, or a few for a transfer; the failures of the new
 * primitives carry an {@link SftpStatusError} rather than ssh2's numeric codes, so the layers
 * above never see ssh2.
 */
import type ssh2 from 'ssh2';
import type {
  RemoteAttributes,
  RemoteDirEntry,
  RemoteEntry,
  RemoteFileType,
  SftpFile,
  SftpSession,
} from './transport.js';
import { SftpStatusError } from './transport.js';

type SFTPWrapper = ssh2.SFTPWrapper;

/** The rejections of a session's requests in progress: a session given up on fails them all at once. */
type Pending = Set<(error: Error) => void>;

function sftpCall<T>(
  pending: Pending,
  run: (callback: (error: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return tracked(pending, (resolve, reject) => {
    run((error, value) => {
      if (error) reject(error);
      else resolve(value as T);
    });
  });
}

/** A promise of `executor` that {@link Ssh2Sftp.abandon} can reject while it is pending. */
function tracked<T>(
  pending: Pending,
  executor: (resolve: (value: T) => void, reject: (error: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (error: Error) => reject(error);
    pending.add(fail);
    executor(
      (value) => {
        pending.delete(fail);
        resolve(value);
      },
      (error) => {
        pending.delete(fail);
        reject(error);
      },
    );
  });
}

/** SFTP status code for "no such file". */
const NO_SUCH_FILE = 2;

function entryOf(name: string, attrs: ssh2.Stats | ssh2.Attributes): RemoteEntry {
  const mode = attrs.mode;
  return {
    name,
    // S_IFMT / S_IFDIR of the POSIX file mode
    isDirectory: (mode & 0o170000) === 0o040000,
    isSymlink: (mode & 0o170000) === 0o120000,
    mode: mode & 0o7777,
    mtime: attrs.mtime,
    atime: attrs.atime,
  };
}

/**
 * Requests in flight per file, and their size: 2 MiB in flight as with ssh2's defaults
 * (64 × 32 KiB), but in 254 KiB requests, the largest ssh2 sends to OpenSSH in one
 * (servers with lower limits get them split by ssh2). 8 times fewer requests: a
 * 200 MiB push + pull on loopback took 0.9 s instead of 1.4 s.
 */
const SFTP_PIPELINE = { concurrency: 8, chunkSize: 254 * 1024 } as const;

export class Ssh2Sftp implements SftpSession {
  readonly #sftp: SFTPWrapper;
  #lastAnswer = Date.now();
  /** Our requests in progress, failed at once when the session is given up on ({@link Ssh2Sftp.watchStalls}). */
  readonly #pending: Pending = new Set();
  #watch: NodeJS.Timeout | undefined;

  constructor(sftp: SFTPWrapper) {
    this.#sftp = sftp;
    // every packet of the server comes through push(), for every request (fastPut's included)
    const handler = sftp as unknown as { push(data: Buffer | null): unknown };
    const push = handler.push.bind(sftp);
    handler.push = (data) => {
      this.#lastAnswer = Date.now();
      return push(data);
    };
  }

  get lastAnswer(): number {
    return this.#lastAnswer;
  }

  /**
   * Gives the session up when the server answers nothing for `ms` while requests wait for it (an
   * sftp-server stuck in a hung file system, or stopped): every request in progress fails with
   * `no-answer`, then `onStall` drops the session. A slow server is not stalled: any answer, to
   * any request, restarts the count; an idle one neither (nothing waits). Checked 4 times per `ms`.
   */
  watchStalls(ms: number, onStall: (error: SftpStatusError) => void): void {
    clearInterval(this.#watch);
    let since: number | undefined;
    let answer = this.#lastAnswer;
    this.#watch = setInterval(
      () => {
        if (!this.#waitingForServer()) {
          since = undefined;
          return;
        }
        const now = Date.now();
        if (since === undefined || this.#lastAnswer !== answer) {
          since = now;
          answer = this.#lastAnswer;
          return;
        }
        if (now - since < ms) return;
        clearInterval(this.#watch);
        const error = new SftpStatusError('no-answer', `the SFTP server answered nothing for ${ms} ms`);
        for (const fail of [...this.#pending]) fail(error);
        this.#pending.clear();
        onStall(error);
      },
      Math.max(50, Math.floor(ms / 4)),
    );
    // the watch keeps no process alive
    this.#watch.unref();
    this.#sftp.once('close', () => clearInterval(this.#watch));
  }

  /** Whether requests of this session wait for the server (ssh2's table of requests sent and not answered). */
  #waitingForServer(): boolean {
    const requests = (this.#sftp as unknown as { _requests?: Record<string, unknown> })._requests;
    return requests === undefined ? this.#pending.size > 0 : Object.keys(requests).length > 0;
  }

  put(
    local: string,
    remote: string,
    options: { mode?: number; onProgress?: (done: number, total: number) => void },
  ) {
    const transfer = transferOptions(options);
    return sftpCall<void>(this.#pending, (callback) =>
      this.#sftp.fastPut(local, remote, transfer, (error) => callback(error)),
    );
  }

  get(
    remote: string,
    local: string,
    options: { mode?: number; onProgress?: (done: number, total: number) => void },
  ) {
    const transfer = transferOptions(options);
    return sftpCall<void>(this.#pending, (callback) =>
      this.#sftp.fastGet(remote, local, transfer, (error) => callback(error)),
    );
  }

  writeFile(remote: string, content: string | Buffer, mode: number) {
    return sftpCall<void>(this.#pending, (callback) =>
      this.#sftp.writeFile(remote, content, { mode }, (error) => callback(error)),
    );
  }

  async mkdir(remote: string, mode: number): Promise<void> {
    try {
      await sftpCall<void>(this.#pending, (callback) =>
        this.#sftp.mkdir(remote, { mode }, (error) => callback(error)),
      );
    } catch (error) {
      // SFTP has no "exists" status: check what is there before reporting the failure
      const entry = await this.stat(remote);
      if (entry?.isDirectory) return;
      throw error;
    }
  }

  chmod(remote: string, mode: number) {
    return sftpCall<void>(this.#pending, (callback) =>
      this.#sftp.chmod(remote, mode, (error) => callback(error)),
    );
  }

  async stat(remote: string): Promise<RemoteEntry | undefined> {
    try {
      const stats = await sftpCall<ssh2.Stats>(this.#pending, (callback) =>
        this.#sftp.stat(remote, callback),
      );
      return entryOf(remote, stats);
    } catch (error) {
      if ((error as { code?: unknown }).code === NO_SUCH_FILE) return undefined;
      throw error;
    }
  }

  async list(remote: string): Promise<RemoteEntry[]> {
    const entries = await sftpCall<ssh2.FileEntryWithStats[]>(this.#pending, (callback) =>
      this.#sftp.readdir(remote, callback),
    );
    return entries.map((entry) => entryOf(entry.filename, entry.attrs));
  }

  setTimes(remote: string, atime: number, mtime: number) {
    return sftpCall<void>(this.#pending, (callback) =>
      this.#sftp.utimes(remote, atime, mtime, (error) => callback(error)),
    );
  }

  realpath(remote: string) {
    return sftpCall<string>(this.#pending, (callback) => this.#sftp.realpath(remote, callback));
  }

  attributes(remote: string, follow: boolean): Promise<RemoteAttributes> {
    return statusCall<ssh2.Stats>(this.#pending, remote, (callback) =>
      follow ? this.#sftp.stat(remote, callback) : this.#sftp.lstat(remote, callback),
    ).then(attributesOf);
  }

  async entries(remote: string): Promise<RemoteDirEntry[]> {
    const entries = await statusCall<ssh2.FileEntryWithStats[]>(this.#pending, remote, (callback) =>
      this.#sftp.readdir(remote, callback),
    );
    return entries.map((entry) => ({ name: entry.filename, type: typeOf(entry.attrs.mode) }));
  }

  async open(remote: string, flags: 'r' | 'wx', mode?: number): Promise<SftpFile> {
    const attrs: ssh2.InputAttributes = mode === undefined ? {} : { mode };
    const handle = await statusCall<Buffer>(this.#pending, remote, (callback) =>
      this.#sftp.open(remote, flags, attrs, callback),
    );
    const sftp = this.#sftp;
    return {
      read: (length, position) =>
        statusCall<Buffer>(this.#pending, remote, (callback) => {
          const buffer = Buffer.allocUnsafe(length);
          sftp.read(handle, buffer, 0, length, position, (error, bytes) =>
            callback(error, buffer.subarray(0, bytes ?? 0)),
          );
        }),
      write: (data, position) =>
        statusCall<void>(this.#pending, remote, (callback) =>
          sftp.write(handle, data, 0, data.length, position, (error) => callback(error)),
        ),
      attributes: () =>
        statusCall<ssh2.Stats>(this.#pending, remote, (callback) => sftp.fstat(handle, callback)).then(
          attributesOf,
        ),
      close: () =>
        statusCall<void>(this.#pending, remote, (callback) => sftp.close(handle, (error) => callback(error))),
    };
  }

  createDirectory(remote: string, mode: number): Promise<void> {
    return statusCall<void>(this.#pending, remote, (callback) =>
      this.#sftp.mkdir(remote, { mode }, (error) => callback(error)),
    );
  }

  rename(from: string, to: string): Promise<void> {
    // plain SFTP rename refuses an existing target (OpenSSH links then unlinks): the
    // posix-rename extension replaces it in one step, which an atomic writeFile needs
    return statusCall<void>(this.#pending, from, (callback) =>
      this.#sftp.ext_openssh_rename(from, to, (error) => callback(error)),
    );
  }

  unlink(remote: string): Promise<void> {
    return statusCall<void>(this.#pending, remote, (callback) =>
      this.#sftp.unlink(remote, (error) => callback(error)),
    );
  }

  readlink(remote: string): Promise<string> {
    return statusCall<string>(this.#pending, remote, (callback) => this.#sftp.readlink(remote, callback));
  }

  /** (ssh2 swaps the two paths for OpenSSH's server, which reads them in the reverse order.) */
  symlink(target: string, link: string): Promise<void> {
    return statusCall<void>(this.#pending, link, (callback) =>
      this.#sftp.symlink(target, link, (error) => callback(error)),
    );
  }

  rmdir(remote: string): Promise<void> {
    return statusCall<void>(this.#pending, remote, (callback) =>
      this.#sftp.rmdir(remote, (error) => callback(error)),
    );
  }

  close(): void {
    clearInterval(this.#watch);
    this.#sftp.end();
  }

  onClose(listener: () => void): void {
    this.#sftp.once('close', listener);
  }
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) as our names. */
const STATUS: Record<number, SftpStatusError['status']> = {
  2: 'no-such-file',
  3: 'permission-denied',
  4: 'failure',
  5: 'bad-message',
  6: 'connection-lost',
  7: 'connection-lost',
  8: 'unsupported',
};

/**
 * One request whose failure becomes an {@link SftpStatusError}. A request pending when the
 * channel closes is failed by ssh2 with "No response from server" (no code): the connection
 * was lost. A call that throws at once (an extension the server lacks) is `unsupported`.
 */
function statusCall<T>(
  pending: Pending,
  path: string,
  run: (callback: (error: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return tracked<T>(pending, (resolve, reject) => {
    const fail = (error: Error) => {
      const code = (error as { code?: unknown }).code;
      const status =
        typeof code === 'number'
          ? (STATUS[code] ?? 'failure')
          : /no response|not open|closed/i.test(error.message)
            ? 'connection-lost'
            : /not support/i.test(error.message)
              ? 'unsupported'
              : 'failure';
      reject(new SftpStatusError(status, `${path}: ${error.message}`));
    };
    try {
      run((error, value) => {
        if (error) fail(error);
        else resolve(value as T);
      });
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

function typeOf(mode: number): RemoteFileType {
  // S_IFMT of the POSIX file mode
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

function attributesOf(stats: ssh2.Stats): RemoteAttributes {
  return {
    type: typeOf(stats.mode),
    size: stats.size,
    mode: stats.mode & 0o7777,
    mtime: stats.mtime,
    atime: stats.atime,
  };
}

/** ssh2's options of a fastPut/fastGet: our pipeline settings, the mode, and progress as (done, total). */
function transferOptions(options: {
  mode?: number;
  onProgress?: (done: number, total: number) => void;
}): ssh2.TransferOptions {
  const transfer: ssh2.TransferOptions = { ...SFTP_PIPELINE };
  if (options.mode !== undefined) transfer.mode = options.mode;
  const progress = options.onProgress;
  if (progress) transfer.step = (done, _chunk, total) => progress(done, total);
  return transfer;
}
