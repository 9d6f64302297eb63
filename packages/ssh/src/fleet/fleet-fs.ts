/**
 * `fleet.fs`: every call of `node.fs` ({@link RemoteFs}), made on every host at once, with
 * one result per host (errors as values). One wrapper over the list of calls, typed from
 * RemoteFs itself, so a call added there is a compile error here until it is listed.
 */
import { SshErrorCode } from '../errors.js';
import type { FsCallOptions, FsDirEntry, RemoteFs } from '../fs/remote-fs.js';
import { eachHost, type FleetValue } from './each.js';
import type { FleetHost } from './hosts.js';

/** A call of RemoteFs, returning one result per host. */
type PerHost<F> = F extends (...args: infer A) => Promise<infer R>
  ? (...args: A) => Promise<FleetValue<R>[]>
  : never;

/**
 * The file system of every host of a fleet: the calls of `node.fs` ({@link RemoteFs}) with the
 * same arguments, made on every host at once, resolving to one {@link FleetValue} per host, in
 * host order: `{ host, node, ok, value?, error?, durationMs }`. A host's failure (a missing
 * file, a lost connection) is its `error`, an SshError with the code node.fs gives
 * (`ERR_REMOTE_NOT_FOUND`…) naming the host and the path; the call never rejects for it. Bad
 * arguments, refused alike on every host before anything is done, reject the call once
 * (`ERR_INVALID_OPTION`). For per-host arguments, use `fleet.each((host) => host.node.fs…)`.
 *
 * @example
 * ```ts
 * for (const { host, value, error } of await fleet.fs.readText('/etc/os-release')) console.log(host, value ?? error?.message)
 * await fleet.fs.mkdir('/opt/app', { recursive: true })
 * const logs = await fleet.fs.glob('**\/*.log', { cwd: '/var/log/app' })   // one list per host
 * ```
 */
export type FleetFs = { readonly [K in Exclude<keyof RemoteFs, 'readdir'>]: PerHost<RemoteFs[K]> } & {
  /** The names in a directory on every host (sorted), or entries with their types. */
  readdir(path: string, options?: FsCallOptions & { withTypes?: false }): Promise<FleetValue<string[]>[]>;
  readdir(path: string, options: FsCallOptions & { withTypes: true }): Promise<FleetValue<FsDirEntry[]>[]>;
};

/** Every call of RemoteFs; the check below fails to compile when one is missing. */
const CALLS = [
  'exists',
  'stat',
  'isFile',
  'isDirectory',
  'readFile',
  'readText',
  'writeFile',
  'mkdir',
  'readdir',
  'glob',
  'rm',
  'rename',
  'chmod',
] as const satisfies readonly (keyof RemoteFs)[];
type Unlisted = Exclude<keyof RemoteFs, (typeof CALLS)[number]>;
const everyCallListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyCallListed;

/**
 * The same call on every host. When every host refused the arguments (ERR_INVALID_OPTION: they
 * are the same for all, and checked before anything is sent), the call rejects once with that
 * error instead of returning it per host.
 */
async function onEveryHost(hosts: readonly FleetHost[], call: keyof RemoteFs, args: unknown[]) {
  const results = await eachHost(hosts, (host) =>
    (host.node.fs[call] as (...given: unknown[]) => Promise<unknown>)(...args),
  );
  const refused = results.every(
    (result) => (result.error as { code?: unknown } | undefined)?.code === SshErrorCode.INVALID_OPTION,
  );
  if (results.length > 0 && refused) throw results[0]?.error;
  return results;
}

/** The `fs` of a fleet; `hosts` gives the current members at each call (add and remove count). */
export function fleetFs(hosts: () => readonly FleetHost[]): FleetFs {
  const fs: Record<string, unknown> = {};
  for (const call of CALLS) fs[call] = (...args: unknown[]) => onEveryHost(hosts(), call, args);
  return Object.freeze(fs) as FleetFs;
}
