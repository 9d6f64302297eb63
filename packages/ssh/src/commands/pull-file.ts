/**
 * One file of a Pull, never left half-written under its final name: it is written to a partial
 * file in the target's directory, then renamed over the target. A Pull cut by a lost connection or
 * a cancel keeps its partial file, under a name that records the remote size and mtime, and the
 * next Pull of that file into that place (a retry of the job, or a later run) resumes from it if
 * the remote file is unchanged: `<dir>/.<name>.jobgraph-pull-<size>-<mtime>` (`<name>` the
 * target's base name, or a hash of it past 180 bytes); other `.<name>.jobgraph-pull-*` files there
 * (partials of a remote file since changed) are removed when a Pull of `<name>` starts.
 */
import { chmod, lstat, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SshError, SshErrorCode } from '../errors.js';
import { nameStem } from '../fs/temporary-name.js';
import type { SftpSession } from '../transport/transport.js';
import {
  CHUNK,
  CLEANUP_MS,
  MAX_SIZELESS_BYTES,
  stateOf,
  statusOf,
  whileOpen,
  within,
} from './transfer-file.js';

/**
 * Reads in flight per file: 4 MiB. 16 rather than fastGet's 8: a 200 MiB Pull on loopback then
 * takes about 1.1× fastGet's time (each read gets a new buffer).
 */
const IN_FLIGHT = 16;

/** The prefix of every partial of a Pull into `local`. */
function pullPrefix(local: string): string {
  return `.${nameStem(basename(local))}.jobgraph-pull-`;
}

/** The local partial of a Pull into `local` of a remote file of `size` bytes modified at `mtime`. */
export function pullPartial(local: string, size: number, mtime: number): string {
  return join(dirname(local), `${pullPrefix(local)}${size}-${mtime}`);
}

/** A failure after which a Pull's partial file is kept for the next attempt. */
function resumable(error: unknown, signal: AbortSignal | undefined): boolean {
  const status = statusOf(error);
  return signal?.aborted === true || status === 'connection-lost' || status === 'no-answer';
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
