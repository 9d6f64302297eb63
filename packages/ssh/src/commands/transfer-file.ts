/**
 * One file of a Push, never left half-written under its final name: it is written to a
 * temporary dot name in the target's directory (same file system), then renamed over the target:
 * `<dir>/.<name>.jobgraph-<12 hex>` on the remote (`<name>` the target's base name, or a hash of
 * it past 180 bytes), removed on failure or cancel. And what a Push and a Pull share: the state
 * of one transfer, the bound on a request when the session dies under it. (A Pull: pull-file.ts.)
 */
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { readBounded } from '@jobgraph/core';
import { temporaryName } from '../fs/temporary-name.js';
import type { SshNode } from '../ssh-node.js';
import { type SftpSession, SftpStatusError } from '../transport/transport.js';

/** Bytes per SFTP request of a file's content (the largest ssh2 sends to OpenSSH in one). */
export const CHUNK = 254 * 1024;
/** Bound on removing a Push's temporary after a failure (a dead link must not hold the job). */
export const CLEANUP_MS = 5_000;

/** The remote temporary of a Push to `remote`. */
export function pushTemporary(remote: string): string {
  return posix.join(posix.dirname(remote), temporaryName(posix.basename(remote), 'jobgraph'));
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
export function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
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

export function statusOf(error: unknown): string | undefined {
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
export const MAX_SIZELESS_BYTES = 64 * 1024 * 1024;

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
