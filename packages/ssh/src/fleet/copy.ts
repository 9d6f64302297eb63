/**
 * `fleet.copyTo` and `fleet.copyFrom`: one copy per host, all at once, each over its node's one
 * SFTP session with the transfer code of Push and Pull (commands/transfer.ts: trees walked,
 * directories before their files, 4 files at a time), or on the local disk for a LocalNode.
 * Copies from many hosts land under names that never clash: `<name>_<host>`.
 */
import { cp, mkdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import {
  bounded,
  cancellable,
  pullPath,
  pushPath,
  removeTemporaries,
  sftpError,
} from '../commands/transfer.js';
import { SshError, SshErrorCode } from '../errors.js';
import { fromErrno } from '../fs/fs-errors.js';
import { LocalNode } from '../local-node.js';
import { SshNode } from '../ssh-node.js';
import { eachHost, type FleetValue } from './each.js';
import { checkConcurrency } from './host-gate.js';
import { type FleetHost, invalid } from './hosts.js';

/** A path for each host: one for all, or a function of the host. */
export type HostPath = string | ((host: FleetHost) => string);

/** Options of `fleet.copyTo()`. */
export interface FleetCopyOptions {
  /** Keep modes and modification times (as `scp -p`). @default false */
  preserve?: boolean;
  /** Aborting it stops every copy (an SshNode's SFTP session is closed; the next use opens another). */
  signal?: AbortSignal;
  /** Reject with a {@link FleetError} (`ERR_COMMAND_FAILED`) naming the hosts whose copy failed. @default false */
  throwOnError?: boolean;
  /** At most this many hosts copying at once; the others wait their turn. @default all at once */
  concurrency?: number;
}

/** Options of `fleet.copyFrom()`. */
export interface FleetCopyFromOptions extends FleetCopyOptions {
  /**
   * The local path of each host's copy, resolved against `localDir` (an absolute path is kept;
   * the paths are the caller's: they may lead out of `localDir`, but may not be empty). Two
   * hosts given one path, or one inside another's (case aside), are refused before anything is
   * copied.
   * @default `<name>_<host>`: the remote path's last name, `_`, and the host's name made safe
   * for a file name by {@link safeHostName} (`syslog_web1`, `syslog_web2_2222`)
   */
  name?: (host: FleetHost, remotePath: string) => string;
}

/** What one host's copy did: `source` copied to `destination` (the remote path on copyTo, the local one on copyFrom). */
export interface FleetCopyResult extends Omit<FleetValue<undefined>, 'value'> {
  readonly source: string;
  readonly destination: string;
}

const COPY_OPTIONS = ['preserve', 'signal', 'throwOnError', 'concurrency'];

/** @throws SshError `ERR_INVALID_OPTION` for an unknown option or a bad value */
export function checkCopyOptions(call: string, options: unknown, withName: boolean): void {
  if (typeof options !== 'object' || options === null) {
    throw invalid(`Invalid Fleet ${call} options: expected an object, got ${String(options)}`);
  }
  const known = withName ? [...COPY_OPTIONS, 'name'] : COPY_OPTIONS;
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalid(
        `Invalid Fleet ${call} option ${JSON.stringify(key)}: expected one of ${known.join(', ')}`,
      );
    }
  }
  const { preserve, name, concurrency } = options as FleetCopyFromOptions;
  checkConcurrency(concurrency);
  if (preserve !== undefined && typeof preserve !== 'boolean') {
    throw invalid(`Invalid Fleet ${call} option preserve: expected true or false, got ${String(preserve)}`);
  }
  if (name !== undefined && typeof name !== 'function') {
    throw invalid(`Invalid Fleet ${call} option name: expected a function (host, remotePath) => localPath`);
  }
}

/**
 * A host's name as a file name: brackets dropped, `:`, `%`, `/` and `\` turned to `_` —
 * `web2:2222` → `web2_2222`, `[fe80::1%eth0]:2222` → `fe80__1_eth0_2222`. (`:` is legal on
 * Linux, but read as a host by scp and rsync and refused by Windows and macOS' Finder; `/` and
 * `\` would make the name a path, in another directory; a name that becomes another host's is
 * caught before anything is copied.)
 */
export function safeHostName(name: string): string {
  return name.replace(/[[\]]/g, '').replace(/[:%/\\]/g, '_');
}

/** The path a host's function (or the one string) gives, checked. */
function pathOf(path: HostPath, host: FleetHost, what: string): string {
  const value = typeof path === 'function' ? path(host) : path;
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw invalid(
      `Invalid Fleet ${what} for host ${JSON.stringify(host.name)}: expected a non-empty path, got ${value === '' ? "''" : String(value)}`,
    );
  }
  return value;
}

/** Source and destination of each host's copyTo: a remote path ending with `/` is a directory the source goes into. */
export function planCopyTo(hosts: readonly FleetHost[], local: HostPath, remote: HostPath) {
  return hosts.map((host) => {
    const source = pathOf(local, host, 'copyTo local path');
    const target = pathOf(remote, host, 'copyTo remote path');
    const destination = target.endsWith('/') ? posix.join(target, basename(source)) : target;
    return { source, destination };
  });
}

/** Source and destination of each host's copyFrom; two hosts into one local path are refused. */
export function planCopyFrom(
  hosts: readonly FleetHost[],
  remote: HostPath,
  localDir: string,
  name: FleetCopyFromOptions['name'],
) {
  if (typeof localDir !== 'string' || localDir === '') {
    throw invalid(
      `Invalid Fleet copyFrom local directory: expected a non-empty path, got ${String(localDir)}`,
    );
  }
  const plan = hosts.map((host) => {
    const source = pathOf(remote, host, 'copyFrom remote path');
    if (name !== undefined) {
      // the user's function: its paths are the user's, anywhere
      const given = pathOf(() => name(host, source), host, 'copyFrom option name');
      return { source, destination: isAbsolute(given) ? given : join(localDir, given) };
    }
    const last = posix.basename(posix.normalize(source));
    const file = last === '' || last === '.' || last === '..' || last === '/' ? '' : `${last}_`;
    const destination = join(localDir, `${file}${safeHostName(host.name)}`);
    // a host's name (an SshNode's host name `..`) and a remote path ending nowhere must not lead out
    const inside = relative(resolve(localDir), resolve(destination));
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw invalid(
        `Invalid Fleet copyFrom: host ${JSON.stringify(host.name)} would copy into ${destination}, outside ${localDir} (expected a host name that is a file name; give a name function to choose the paths)`,
      );
    }
    return { source, destination };
  });
  checkApart(hosts, plan);
  return plan;
}

/**
 * The key two destinations are compared by: the absolute path, case-folded — the file systems
 * of macOS (APFS, HFS+) and Windows (NTFS) ignore case by default, so `syslog_Web1` and
 * `syslog_web1` are one file there — and in Unicode's composed form (APFS ignores that too).
 */
function pathKey(path: string): string {
  return resolve(path).normalize('NFC').toLowerCase();
}

/**
 * Refuses two hosts whose copies would meet: one path for both (case aside), or one inside the
 * other's (a tree copied into another host's tree: `a` and `a/b`).
 * @throws SshError `ERR_INVALID_OPTION` naming both hosts and both paths, before anything is copied
 */
function checkApart(hosts: readonly FleetHost[], plan: readonly { destination: string }[]): void {
  const owners = new Map<string, { host: string; destination: string }>();
  const apart = "(expected a name function giving each host a path of its own, outside the others')";
  for (const [index, { destination }] of plan.entries()) {
    const host = (hosts[index] as FleetHost).name;
    const key = pathKey(destination);
    const other = owners.get(key);
    if (other === undefined) {
      owners.set(key, { host, destination });
      continue;
    }
    const both = `hosts ${JSON.stringify(other.host)} and ${JSON.stringify(host)}`;
    if (resolve(other.destination) === resolve(destination)) {
      throw invalid(`Invalid Fleet copyFrom: ${both} would both copy into ${destination} ${apart}`);
    }
    throw invalid(
      `Invalid Fleet copyFrom: ${both} would copy into ${other.destination} and ${destination}, one path on a case-insensitive file system (macOS, Windows) ${apart}`,
    );
  }
  for (const [key, { host, destination }] of owners) {
    // every directory above it, up to the root
    for (let child = key, parent = dirname(key); parent !== child; child = parent, parent = dirname(parent)) {
      const outer = owners.get(parent);
      if (outer !== undefined) {
        throw invalid(
          `Invalid Fleet copyFrom: host ${JSON.stringify(host)} would copy into ${destination}, inside host ${JSON.stringify(outer.host)}'s copy ${outer.destination} ${apart}`,
        );
      }
    }
  }
}

/** Whether a local path exists; the error a copyTo reports when it does not. */
export async function checkLocalSource(source: string): Promise<void> {
  await stat(source).catch((error: unknown) => {
    throw new SshError(SshErrorCode.LOCAL_FILE, `Fleet copyTo: no local file or directory ${source}`, {
      cause: error,
    });
  });
}

/** Runs `work` with the node's SFTP session, under the node's hold, stopped by `signal`. */
async function overSftp(
  node: SshNode,
  signal: AbortSignal,
  what: string,
  work: (sftp: Awaited<ReturnType<SshNode['sftp']>>, jobs: Array<() => Promise<void>>) => Promise<void>,
): Promise<void> {
  await cancellable(node, signal, async () => {
    const sftp = await node.sftp(signal);
    const jobs: Array<() => Promise<void>> = [];
    try {
      await work(sftp, jobs);
      await bounded(jobs, signal);
    } catch (error) {
      await removeTemporaries(node, jobs);
      if (signal.aborted) throw error;
      throw sftpError(what, node.toString(), error);
    }
  });
}

/** Copies `source` (a file or a tree) to `destination` on one host, parents made as needed. */
async function copyToHost(host: FleetHost, source: string, destination: string, options: FleetCopyOptions) {
  const signal = options.signal ?? new AbortController().signal;
  signal.throwIfAborted();
  await checkLocalSource(source);
  const { node } = host;
  const parent = posix.dirname(destination);
  if (node instanceof LocalNode) {
    await node.fs.mkdir(parent, { recursive: true, signal });
    await cp(source, destination, { recursive: true, preserveTimestamps: options.preserve === true }).catch(
      (error: unknown) => {
        throw fromErrno(error, node.toString(), 'copyTo', destination);
      },
    );
    return;
  }
  if (!(node instanceof SshNode)) throw invalid(`Fleet copyTo: cannot copy to ${String(node)}`);
  await node.using(async () => {
    await node.fs.mkdir(parent, { recursive: true, signal });
    const transfer = { recurse: true, preserve: options.preserve === true };
    await overSftp(node, signal, `Copy of ${source} to ${destination}`, (sftp, jobs) =>
      pushPath(sftp, source, destination, transfer, jobs),
    );
  });
}

/** Copies `source` (a file or a tree) of one host to the local `destination`, parents made as needed. */
async function copyFromHost(host: FleetHost, source: string, destination: string, options: FleetCopyOptions) {
  const signal = options.signal ?? new AbortController().signal;
  signal.throwIfAborted();
  const { node } = host;
  const makeParent = () =>
    mkdir(dirname(destination), { recursive: true }).catch((error: unknown) => {
      throw new SshError(
        SshErrorCode.LOCAL_FILE,
        `Fleet copyFrom: cannot make the local directory ${dirname(destination)}: ${(error as Error).message}`,
        { cause: error },
      );
    });
  if (node instanceof LocalNode) {
    await node.fs.stat(source, { signal }); // a missing source: ERR_REMOTE_NOT_FOUND naming the host and path
    await makeParent();
    await cp(source, destination, { recursive: true, preserveTimestamps: options.preserve === true }).catch(
      (error: unknown) => {
        throw fromErrno(error, node.toString(), 'copyFrom', source);
      },
    );
    return;
  }
  if (!(node instanceof SshNode)) throw invalid(`Fleet copyFrom: cannot copy from ${String(node)}`);
  await node.using(async () => {
    await node.fs.stat(source, { signal });
    await makeParent();
    const transfer = { recurse: true, preserve: options.preserve === true };
    await overSftp(node, signal, `Copy of ${source} into ${destination}`, (sftp, jobs) =>
      pullPath(sftp, source, destination, transfer, jobs, { signal }),
    );
  });
}

/** Every host's copy, at once, as planned. */
export async function copyAll(
  direction: 'to' | 'from',
  hosts: readonly FleetHost[],
  plan: readonly { source: string; destination: string }[],
  options: FleetCopyOptions,
): Promise<FleetCopyResult[]> {
  const copy = direction === 'to' ? copyToHost : copyFromHost;
  const values = await eachHost(
    hosts,
    (host, index) => {
      const { source, destination } = plan[index] as { source: string; destination: string };
      return copy(host, source, destination, options);
    },
    options.concurrency,
  );
  return values.map(({ value: _value, ...result }, index) => ({
    ...result,
    ...(plan[index] as { source: string; destination: string }),
  }));
}
