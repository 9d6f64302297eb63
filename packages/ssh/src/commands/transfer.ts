/**
 * What Push and Pull share: walking trees, creating directories before their files,
 * copying several files at once (bounded), preserving modes and times on request.
 */
import {
  chmod,
  cp,
  lstat,
  mkdir,
  readdir,
  readlink,
  rename,
  stat,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { temporaryName } from '../fs/temporary-name.js';
import type { SshNode } from '../ssh-node.js';
import type { SftpSession } from '../transport/transport.js';
import type { CommandOptions } from './command.js';
import { type PullFileOptions, pullFile } from './pull-file.js';
import { pushFile, stateOf } from './transfer-file.js';

export { removeTemporaries } from './transfer-file.js';

/** The bytes of file content the transfer of `jobs` copied (its files done so far). */
export function transferredBytes(jobs: object): number {
  return stateOf(jobs).bytes;
}

/** Options of {@link Push} and {@link Pull}. */
export interface TransferOptions extends Pick<CommandOptions, 'label' | 'verbose'> {
  /** Copy directories with their content. @default false */
  recurse?: boolean;
  /** Keep modes and modification times. @default false */
  preserve?: boolean;
}

/** The options {@link Push} and {@link Pull} take. */
export const TRANSFER_OPTION_KEYS = ['label', 'verbose', 'recurse', 'preserve'];

/**
 * The paths of a Push or Pull: non-empty strings (a Pull to `undefined` failed when it ran, with
 * "Cannot read properties of undefined").
 * @throws SshError `ERR_INVALID_OPTION`
 */
export function checkPaths(where: string, sources: readonly unknown[], destination: unknown): void {
  for (const path of [...sources, destination]) {
    if (typeof path !== 'string' || path === '')
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Expected the paths of ${where} to be non-empty strings, got ${path === '' ? 'an empty one' : path === null ? 'null' : typeof path}`,
      );
  }
}

/** Files copied at the same time on one SFTP channel (each file itself keeps 8 requests of 254 KiB in flight). */
const PARALLEL_FILES = 4;

/**
 * Tasks that {@link bounded} runs only once the others are done, in order: the times of
 * a directory (creating a file in it, by a task still running, changes its mtime).
 */
const afterContent = new WeakSet<() => Promise<void>>();

function whenContentDone(task: () => Promise<void>): () => Promise<void> {
  afterContent.add(task);
  return task;
}

/** Runs `tasks` with at most `limit` at a time; rejects with the first failure. */
export async function bounded(
  tasks: ReadonlyArray<() => Promise<void>>,
  signal?: AbortSignal,
  limit = PARALLEL_FILES,
): Promise<void> {
  const first = tasks.filter((task) => !afterContent.has(task));
  let next = 0;
  const worker = async () => {
    while (next < first.length) {
      signal?.throwIfAborted();
      const task = first[next++] as () => Promise<void>;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, first.length) }, worker));
  for (const task of tasks) if (afterContent.has(task)) await task();
}

/** `a`, or `a ... (3 total)`, for labels. */
export function firstOf(paths: readonly string[]): string {
  const first = paths[0] ?? '';
  return paths.length > 1 ? `${first} ... (${paths.length} total)` : first;
}

/** SFTP's status codes of our SftpStatusError's statuses. */
const STATUS_CODES: Record<string, number> = { 'no-such-file': 2, 'permission-denied': 3, failure: 4 };

export function sftpError(what: string, node: string, error: unknown): SshError {
  if (error instanceof SshError) return error;
  const status = (error as { status?: unknown }).status;
  const code = (error as { code?: unknown }).code ?? STATUS_CODES[String(status)];
  const why =
    status === 'connection-lost'
      ? `the connection was lost (sshd gone, or the network cut?): ${messageOf(error)}`
      : status === 'no-answer'
        ? `${messageOf(error)} (a hung file system on the host, or a stopped server?): the session was given up`
        : code === 2
          ? 'no such file or directory'
          : code === 3
            ? 'permission denied'
            : code === 4
              ? // SSH_FX_FAILURE, OpenSSH's answer for most refusals: say what it usually means
                'refused by the server (a missing directory, a file where a directory is expected, a full disk?)'
              : undefined;
  // the file deep in a tree it was about, when it is not the top of the copy (at() records it)
  const path = (error as { path?: unknown }).path;
  const where =
    typeof path === 'string' && why !== undefined && !what.includes(` ${path} `) && !what.endsWith(` ${path}`)
      ? `${path}: `
      : '';
  return new SshError(SshErrorCode.SFTP, `${what} on ${node} failed: ${where}${why ?? messageOf(error)}`, {
    cause: error,
    node,
  });
}

/**
 * `work`, its failure naming `path` (a file deep in a tree, where the message would name only
 * the top of the copy).
 */
async function at<T>(path: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error !== null && typeof error === 'object' && !('path' in error)) Object.assign(error, { path });
    throw error;
  }
}

/**
 * Local → remote. `remote` is the destination path (not its parent). What is copied is followed
 * when it is a symbolic link; inside a directory, symbolic links are copied as links (as
 * `rsync -a` and the LocalNode do): a dangling one is no failure, and a loop is not walked.
 */
export async function pushPath(
  sftp: SftpSession,
  local: string,
  remote: string,
  options: TransferOptions,
  jobs: Array<() => Promise<void>>,
  inTree = false,
): Promise<void> {
  const info = await at(local, inTree ? lstat(local) : stat(local));
  if (info.isSymbolicLink()) {
    jobs.push(() => at(local, pushLink(sftp, local, remote)));
    return;
  }
  if (info.isDirectory()) {
    if (!options.recurse) {
      throw new SshError(
        SshErrorCode.LOCAL_FILE,
        `${local} is a directory: it is copied only with recurse: true (jobgraph push -r)`,
      );
    }
    if (inTree) await at(remote, replaceRemoteLink(sftp, remote));
    await at(remote, sftp.mkdir(remote, info.mode & 0o7777));
    for (const entry of await at(local, readdir(local))) {
      await pushPath(sftp, join(local, entry), posix.join(remote, entry), options, jobs, true);
    }
    if (options.preserve) {
      jobs.push(whenContentDone(() => sftp.setTimes(remote, info.atimeMs / 1000, info.mtimeMs / 1000)));
    }
    return;
  }
  // (an SFTP failure names no path: the remote one; a local failure names its own)
  jobs.push(() => at(remote, pushFile(sftp, local, remote, info, options.preserve === true, jobs, inTree)));
}

/**
 * Inside a copied tree, a symbolic link where a directory or a file goes is replaced, never
 * followed: one that an earlier copy made (links are copied as links) would lead this copy
 * outside its destination.
 */
async function replaceRemoteLink(sftp: SftpSession, remote: string): Promise<void> {
  const existing = await sftp.attributes(remote, false).catch(() => undefined);
  if (existing?.type === 'symlink') await sftp.unlink(remote);
}

/** The same on this machine. */
async function replaceLocalLink(local: string): Promise<void> {
  const existing = await lstat(local).catch(() => undefined);
  if (existing?.isSymbolicLink()) await unlink(local);
}

/**
 * Remote → local. `local` is the destination path (not its parent). As {@link pushPath}: what is
 * copied is followed, symbolic links inside a directory are copied as links.
 */
export async function pullPath(
  sftp: SftpSession,
  remote: string,
  local: string,
  options: TransferOptions,
  jobs: Array<() => Promise<void>>,
  extra: Pick<PullFileOptions, 'signal' | 'onResume'> = {},
  inTree = false,
): Promise<void> {
  const entry = await at(remote, sftp.stat(remote));
  if (inTree) await at(local, replaceLocalLink(local));
  if (entry === undefined) throw Object.assign(new Error(`no such file: ${remote}`), { code: 2 });
  if (entry.isDirectory) {
    if (!options.recurse) {
      throw new SshError(
        SshErrorCode.SFTP,
        `${remote} is a directory: it is copied only with recurse: true (jobgraph pull -r)`,
      );
    }
    // as scp: the remote mode, less the umask, kept writable by us while the copy fills it
    await at(local, mkdir(local, { recursive: true, mode: (entry.mode & 0o777) | 0o700 }));
    for (const child of await at(remote, sftp.list(remote))) {
      if (child.name === '.' || child.name === '..') continue;
      // names come from the server: one with a slash would write outside the destination
      if (child.name === '' || child.name.includes('/') || child.name.includes('\\')) {
        throw new SshError(
          SshErrorCode.SFTP,
          `Refusing the remote file name ${JSON.stringify(child.name)} in ${remote}`,
        );
      }
      const [from, to] = [posix.join(remote, child.name), join(local, child.name)];
      if (child.isSymlink) jobs.push(() => at(from, pullLink(sftp, from, to)));
      else await pullPath(sftp, from, to, options, jobs, extra, true);
    }
    if (options.preserve) {
      jobs.push(
        whenContentDone(async () => {
          await chmod(local, entry.mode);
          await utimes(local, entry.atime, entry.mtime);
        }),
      );
    }
    return;
  }
  jobs.push(() =>
    at(
      remote,
      pullFile(
        sftp,
        remote,
        local,
        {
          preserve: options.preserve === true,
          umask: localUmask(),
          signal: extra.signal,
          onResume: extra.onResume,
        },
        jobs,
      ),
    ),
  );
}

/** The local symbolic link `local` made again at `remote`, replacing what is there. */
async function pushLink(sftp: SftpSession, local: string, remote: string): Promise<void> {
  const target = await readlink(local);
  const temporary = posix.join(posix.dirname(remote), temporaryName(posix.basename(remote), 'jobgraph-link'));
  await sftp.symlink(target, temporary);
  try {
    await sftp.rename(temporary, remote);
  } catch (error) {
    await sftp.unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** The remote symbolic link `remote` made again at `local`, replacing what is there. */
async function pullLink(sftp: SftpSession, remote: string, local: string): Promise<void> {
  const target = await sftp.readlink(remote);
  const temporary = join(dirname(local), temporaryName(basename(local), 'jobgraph-link'));
  await symlink(target, temporary);
  try {
    await rename(temporary, local);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

let umask: number | undefined;

/** The process's umask, read once (reading it sets it twice: not something to do per file). */
function localUmask(): number {
  if (umask === undefined) {
    try {
      umask = process.umask();
    } catch {
      umask = 0o022; // worker threads cannot read it
    }
  }
  return umask;
}

/** A local copy, for Push and Pull on the LocalNode. */
export async function copyLocal(sources: readonly string[], destination: string, options: TransferOptions) {
  const intoDirectory = await stat(destination).then(
    (info) => info.isDirectory(),
    () => false,
  );
  for (const source of sources) {
    const target = intoDirectory ? join(destination, basename(source)) : destination;
    await cp(source, target, {
      recursive: options.recurse ?? false,
      preserveTimestamps: options.preserve ?? false,
    });
  }
}

/**
 * Runs a transfer that stops when `signal` aborts: ssh2 cannot abort a file copy, so the
 * node's SFTP session is closed (the next file command opens another), and the copy
 * fails at once; the transfer then rejects with the signal's reason.
 */
export async function cancellable<T>(node: SshNode, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const onAbort = () => node.resetSftp();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await work();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
