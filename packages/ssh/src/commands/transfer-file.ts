/**
 * One file of a Push or a Pull, never left half-written under its final name: it is written
 * to a temporary dot name in the target's directory (same file system), then renamed over the
 * target. A Pull cut by a lost connection or a cancel keeps its partial file, under a name that
 * records the remote size and mtime, and the next Pull of that file into that place (a retry
 * of the job, or a later run) resumes from it if the remote file is unchanged.
 *
 * Names, `<name>` being the target's base name (or, when longer than 180 bytes, a hash of it):
 * - Push: `<dir>/.<name>.jobgraph-<12 hex>` on the remote, removed on failure or cancel.
 * - Pull: `<dir>/.<name>.jobgraph-pull-<size>-<mtime>` locally; other `.<name>.jobgraph-pull-*`
 *   files there (partials of a remote file since changed) are removed when a Pull of `<name>` starts.
 */
import type { Stats } from 'node:fs';
import { chmod, lstat, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { readBounded } from '@jobgraph/core';
import { SshError, SshErrorCode } from '../errors.js';
import { nameStem, temporaryName } from '../fs/temporary-name.js';
import type { SshNode } from '../ssh-node.js';
import { type SftpSession, SftpStatusError } from '../transport/transport.js';

/**
 * Bytes per SFTP read of a Pull, and reads in flight per file: 4 MiB. 16 rather than fastGet's 8: a
 * 200 MiB Pull on loopback then takes about 1.1× fastGet's time (each read gets a new buffer).
 */
const CHUNK = 254 * 1024;
const IN_FLIGHT = 16;
/** Bound on removing a Push's temporary after a failure (a dead link must not hold the job). */
const CLEANUP_MS = 5_000;

/** The remote temporary of a Push to `remote`. */
export function pushTemporary(remote: string): string {
  return posix.join(posix.dirname(remote), temporaryName(posix.basename(remote), 'jobgraph'));
}

/** The prefix of every partial of a Pull into `local`. */
function pullPrefix(local: string): string {
  return `.${nameStem(basename(local))}.jobgraph-pull-`;
}

/** The local partial of a Pull into `local` of a remote file of `size` bytes modified at `mtime`. */
export function pullPartial(local: string, size: number, mtime: number): string {
  return join(dirname(local), `${pullPrefix(local)}${size}-${mtime}`);
}

/**
 * What one transfer (one `jobs` list) keeps across its files: temporaries to remove, directory
 * listings, the bytes copied so far.
 */
interface TransferState {
  readonly temporaries: Set<string>;
  readonly listings: Map<string, Promise<string[]>>;
  /** File content sent or received (a resumed Pull counts only the rest it read). */
  bytes: number;
}

const states = new WeakMap<object, TransferState>();

export function stateOf(jobs: object): TransferState {
  let state = states.get(jobs);
  if (state === undefined) {
    state = { temporaries: new Set(), listings: new Map(), bytes: 0 };
    states.set(jobs, state);
  }
  return state;
}

/** `promise`, or undefined after `ms` (the promise's failure ignored). */
function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref?.();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Per SFTP session: whether it closed, and the calls of {@link whileOpen} waiting on it. */
const watches = new WeakMap<SftpSession, { closed: boolean; waiting: Set<() => void> }>();

function watchOf(sftp: SftpSession): { closed: boolean; waiting: Set<() => void> } {
  let watch = watches.get(sftp);
  if (watch === undefined) {
    const created = { closed: false, waiting: new Set<() => void>() };
    sftp.onClose(() => {
      created.closed = true;
      for (const fail of created.waiting) fail();
      created.waiting.clear();
    });
    watches.set(sftp, created);
    watch = created;
  }
  return watch;
}

const lost = () => new SftpStatusError('connection-lost', 'the SFTP session closed');

/**
 * `work`, or a `connection-lost` failure as soon as the session closes: ssh2's fastPut never
 * settles when the connection dies under it (its pending writes are never answered). Not a
 * Promise.race with one long-lived promise: each race would leave a reaction on it, holding the
 * value it settled with (a read's buffer) until the session closes.
 */
export function whileOpen<T>(sftp: SftpSession, work: Promise<T>): Promise<T> {
  const watch = watchOf(sftp);
  if (watch.closed) {
    work.catch(() => undefined);
    return Promise.reject(lost());
  }
  return new Promise<T>((resolve, reject) => {
    const fail = () => reject(lost());
    watch.waiting.add(fail);
    work.then(
      (value) => {
        watch.waiting.delete(fail);
        resolve(value);
      },
      (error: unknown) => {
        watch.waiting.delete(fail);
        reject(error);
      },
    );
  });
}

function statusOf(error: unknown): string | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'string' ? status : undefined;
}

/**
 * Replaces `remote` by `temporary` in one step with OpenSSH's posix-rename extension (plain
 * SFTP v3 rename refuses an existing target). A server without it is refused, the temporary
 * removed: removing the target first would leave no file at all if the connection broke between.
 */
async function replace(sftp: SftpSession, temporary: string, remote: string): Promise<void> {
  try {
    await sftp.rename(temporary, remote);
  } catch (error) {
    if (statusOf(error) !== 'unsupported') throw error;
    throw new Error(
      `the server lacks the posix-rename@openssh.com extension, needed to replace ${remote} in one step`,
      { cause: error },
    );
  }
}

/** Pushes one local file (`info`: its stat) to `remote`, through a temporary. */
export async function pushFile(
  sftp: SftpSession,
  local: string,
  remote: string,
  info: Stats,
  preserve: boolean,
  jobs: object,
  inTree = false,
): Promise<void> {
  const mode = info.mode & 0o7777;
  const existing = await sftp.attributes(remote, false).catch((error: unknown) => {
    if (statusOf(error) === 'no-such-file') return undefined;
    throw error;
  });
  const finish = async (path: string) => {
    if (preserve) {
      await sftp.chmod(path, mode);
      await sftp.setTimes(path, info.atimeMs / 1000, info.mtimeMs / 1000);
    }
  };
  // (inside a copied tree, a link is replaced by the rename below, not written through: transfer.ts)
  if (existing !== undefined && existing.type !== 'file' && !(inTree && existing.type === 'symlink')) {
    // a symlink, a device, a fifo: written through, in place, as before (never replaced)
    const bytes = await putFile(sftp, local, remote, info, true);
    await finish(remote);
    stateOf(jobs).bytes += bytes;
    return;
  }
  const state = stateOf(jobs);
  const { temporaries } = state;
  const temporary = pushTemporary(remote);
  temporaries.add(temporary);
  try {
    const bytes = await putFile(sftp, local, temporary, info);
    await finish(temporary);
    await replace(sftp, temporary, remote);
    temporaries.delete(temporary);
    state.bytes += bytes;
  } catch (error) {
    // on the same channel when it still works (a full disk); else removeTemporaries() does it
    await within(
      whileOpen(sftp, sftp.unlink(temporary)).then(() => temporaries.delete(temporary)),
      CLEANUP_MS,
    );
    throw error;
  }
}

/**
 * The most a local file whose size reads as 0 may hold: such files (/proc, /sys) are read whole
 * into memory before they are sent, and they are small.
 */
const MAX_SIZELESS_BYTES = 64 * 1024 * 1024;

/**
 * Copies `local` (`info`: its stat) to `remote`. @returns the bytes sent. A regular file whose size
 * reads as 0 (/proc, /sys) is read to its end first: ssh2's fastPut trusts the size, and sent
 * nothing (an empty copy, and a success).
 */
async function putFile(
  sftp: SftpSession,
  local: string,
  remote: string,
  info: Stats,
  inPlace = false,
): Promise<number> {
  const mode = info.mode & 0o7777;
  const content = info.size === 0 && info.isFile() ? await readBounded(local, MAX_SIZELESS_BYTES) : undefined;
  if (content === undefined || content.length === 0) {
    await whileOpen(sftp, sftp.put(local, remote, { mode }));
    return info.size;
  }
  if (inPlace) {
    // written through what is there (a link, a device): opened for writing, not made anew
    await whileOpen(sftp, sftp.writeFile(remote, content, mode));
    return content.length;
  }
  const file = await whileOpen(sftp, sftp.open(remote, 'wx', mode));
  try {
    for (let offset = 0; offset < content.length; offset += CHUNK) {
      await whileOpen(sftp, file.write(content.subarray(offset, offset + CHUNK), offset));
    }
  } finally {
    // waited for: a server may report a failed write (quota, disk full) only at close
    await whileOpen(sftp, file.close());
  }
  return content.length;
}

/**
 * Removes the temporaries a failed or cancelled Push left (its SFTP channel closed or its
 * connection lost), on a new channel: best effort, bounded by 5 s.
 */
export async function removeTemporaries(node: SshNode, jobs: object): Promise<void> {
  const { temporaries } = stateOf(jobs);
  const deadline = Date.now() + CLEANUP_MS;
  // the node may not have seen its connection close yet: its first channel can fail, try again
  while (temporaries.size > 0 && Date.now() < deadline) {
    await within(
      (async () => {
        const sftp = await node.sftp(AbortSignal.timeout(Math.max(1, deadline - Date.now())));
        await Promise.all(
          [...temporaries].map((path) =>
            whileOpen(sftp, sftp.unlink(path)).then(
              () => temporaries.delete(path),
              (error: unknown) => {
                if (statusOf(error) === 'no-such-file') temporaries.delete(path);
              },
            ),
          ),
        );
      })(),
      Math.max(1, deadline - Date.now()),
    );
    if (temporaries.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A failure after which a Pull's partial file is kept for the next attempt. */
function resumable(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || statusOf(error) === 'connection-lost';
}

/** Removes partials of earlier Pulls into `local` other than `keep` (listing each directory once per transfer). */
async function removeStale(local: string, keep: string, jobs: object): Promise<void> {
  const { listings } = stateOf(jobs);
  const dir = dirname(local);
  let listing = listings.get(dir);
  if (listing === undefined) {
    listing = readdir(dir).then(
      (names) => names.filter((name) => name.includes('.jobgraph-pull-')),
      () => [],
    );
    listings.set(dir, listing);
  }
  const prefix = pullPrefix(local);
  for (const name of await listing) {
    if (name.startsWith(prefix) && join(dir, name) !== keep)
      await unlink(join(dir, name)).catch(() => undefined);
  }
}

export interface PullFileOptions {
  preserve: boolean;
  /** The local umask, applied to the remote mode of a new file. */
  umask: number;
  signal?: AbortSignal | undefined;
  /** Told when a partial file is resumed: bytes already there, of `size`. */
  onResume?: ((remote: string, offset: number, size: number) => void) | undefined;
}

/** The Pulls of this process running now, by local path: the last one's end. */
const pulling = new Map<string, Promise<void>>();

/**
 * Pulls one remote file into `local`, through a partial file that a later Pull can resume. Two
 * Pulls of this process into one local path run one after the other: they would share the
 * partial file, and the first to finish renamed it away from under the other (ENOENT).
 */
export async function pullFile(
  sftp: SftpSession,
  remote: string,
  local: string,
  options: PullFileOptions,
  jobs: object,
): Promise<void> {
  const key = resolve(local);
  const before = pulling.get(key);
  const mine = (async () => {
    if (before !== undefined) await untilSettledOrAborted(before, options.signal);
    options.signal?.throwIfAborted();
    await pullFileNow(sftp, remote, local, options, jobs);
  })();
  const settled = mine.catch(() => undefined);
  pulling.set(key, settled);
  try {
    await mine;
  } finally {
    if (pulling.get(key) === settled) pulling.delete(key);
  }
}

/** Waits for `promise` to settle, or for `signal` to abort (a cancelled Pull does not wait its turn). */
function untilSettledOrAborted(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal?.removeEventListener('abort', done);
      resolve();
    };
    if (signal?.aborted) done();
    signal?.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}

async function pullFileNow(
  sftp: SftpSession,
  remote: string,
  local: string,
  options: PullFileOptions,
  jobs: object,
): Promise<void> {
  const target = await lstat(local).catch(() => undefined);
  if (target !== undefined && !target.isFile()) {
    // a symlink, a device, a fifo (or a directory, which fails as before): written in place
    stateOf(jobs).bytes += await getInPlace(sftp, remote, local);
    return;
  }
  const file = await whileOpen(sftp, sftp.open(remote, 'r'));
  try {
    const attrs = await whileOpen(sftp, file.attributes());
    const partial = pullPartial(local, attrs.size, attrs.mtime);
    await removeStale(local, partial, jobs);
    const have = await lstat(partial).then(
      (info) => (info.isFile() && info.size <= attrs.size ? info.size : 0),
      () => 0,
    );
    if (have > 0) options.onResume?.(remote, have, attrs.size);
    const out = await open(partial, have > 0 ? 'r+' : 'w', 0o600).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot write ${local}: ${error.code ?? error.message}`, { cause: error });
    });
    const progress = { prefix: have }; // bytes on disk without a hole: what a resume may keep
    let size = attrs.size;
    try {
      // a regular file whose size reads as 0 (/proc, /sys): read to its end (it was copied empty)
      if (attrs.size === 0 && attrs.type === 'file') size = await readToEnd(sftp, file, out, remote);
      else await readInto(sftp, file, out, progress, attrs.size, remote);
    } catch (error) {
      await out
        .truncate(progress.prefix)
        .catch(() => undefined)
        .finally(() => out.close().catch(() => undefined));
      if (!resumable(error, options.signal)) await unlink(partial).catch(() => undefined);
      throw error;
    }
    await out.close();
    // as scp: an existing file keeps its mode, a new one gets the remote mode less the umask;
    // preserve copies the mode (set-id bits included) and the times
    const mode = options.preserve
      ? attrs.mode
      : target !== undefined
        ? target.mode & 0o7777
        : attrs.mode & 0o777 & ~options.umask;
    try {
      await chmod(partial, mode);
      if (options.preserve) await utimes(partial, attrs.atime, attrs.mtime);
      await rename(partial, local);
    } catch (error) {
      await unlink(partial).catch(() => undefined);
      throw error;
    }
    stateOf(jobs).bytes += size - have;
  } finally {
    await within(whileOpen(sftp, file.close()), CLEANUP_MS);
  }
}

/**
 * Copies `remote` through what is at `local` (a link, a device: opened for writing, not made
 * anew). @returns the bytes copied. A file whose size reads as 0 (/proc) is read to its end:
 * ssh2's fastGet trusts the size.
 */
async function getInPlace(sftp: SftpSession, remote: string, local: string): Promise<number> {
  const attrs = await whileOpen(sftp, sftp.attributes(remote, true));
  if (attrs.size === 0 && attrs.type === 'file') {
    const file = await whileOpen(sftp, sftp.open(remote, 'r'));
    try {
      const out = await open(local, 'w');
      try {
        return await readToEnd(sftp, file, out, remote);
      } finally {
        await out.close();
      }
    } finally {
      await within(whileOpen(sftp, file.close()), CLEANUP_MS);
    }
  }
  await whileOpen(sftp, sftp.get(remote, local, {}));
  return stat(local).then(
    (info) => info.size,
    () => 0,
  );
}

/** Copies `file` into `out` one read after the other until end of file. @returns the bytes copied */
async function readToEnd(
  sftp: SftpSession,
  file: Awaited<ReturnType<SftpSession['open']>>,
  out: Awaited<ReturnType<typeof open>>,
  remote: string,
): Promise<number> {
  let position = 0;
  for (;;) {
    const data = await whileOpen(sftp, file.read(CHUNK, position));
    if (data.length === 0) return position;
    await out.write(data, 0, data.length, position);
    position += data.length;
    if (position > MAX_SIZELESS_BYTES) {
      throw new SshError(
        SshErrorCode.SFTP,
        `${remote} reads as empty but goes on past ${MAX_SIZELESS_BYTES / 1024 / 1024} MiB: not copied`,
      );
    }
  }
}

/**
 * Copies bytes `progress.prefix`..`size` of `file` into `out`, IN_FLIGHT reads at a time,
 * keeping `progress.prefix` at the end of the bytes written without a hole. On failure, the
 * other reads stop, and it rejects once all have settled (nothing writes after).
 */
async function readInto(
  sftp: SftpSession,
  file: Awaited<ReturnType<SftpSession['open']>>,
  out: Awaited<ReturnType<typeof open>>,
  progress: { prefix: number },
  size: number,
  remote: string,
): Promise<void> {
  let next = progress.prefix;
  let failed = false;
  let first: { error: unknown } | undefined;
  const done = new Map<number, number>();
  const worker = async () => {
    while (!failed && next < size) {
      const position = next;
      const length = Math.min(CHUNK, size - position);
      next += length;
      let got = 0;
      while (got < length) {
        const data = await whileOpen(sftp, file.read(length - got, position + got));
        if (data.length === 0) {
          throw new SshError(SshErrorCode.SFTP, `${remote} became shorter during the copy`);
        }
        await out.write(data, 0, data.length, position + got);
        got += data.length;
      }
      done.set(position, position + length);
      for (let end = done.get(progress.prefix); end !== undefined; end = done.get(progress.prefix)) {
        done.delete(progress.prefix);
        progress.prefix = end;
      }
    }
  };
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, () =>
      worker().catch((error: unknown) => {
        failed = true;
        first ??= { error };
      }),
    ),
  );
  if (first !== undefined) throw first.error;
}
