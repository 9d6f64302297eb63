/**
 * Fleet: many hosts from one script (issue 11): one command on all at once, per-host
 * results, per-host settings and arguments, SshJobs for a Scheduler.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { JobOptions } from '@jobgraph/core';
import { SshJob } from '../ssh-job.js';
import type { SshNode } from '../ssh-node.js';
import { commandLines, type FleetCommand, type HostArgs } from './command.js';
import { configHost } from './config-hosts.js';
import {
  checkCopyOptions,
  checkLocalSource,
  copyAll,
  type FleetCopyFromOptions,
  type FleetCopyOptions,
  type FleetCopyResult,
  type HostPath,
  planCopyFrom,
  planCopyTo,
} from './copy.js';
import { eachHost, type FleetValue } from './each.js';
import { checkOutcomes, type FleetError } from './fleet-error.js';
import { type FleetFs, fleetFs } from './fleet-fs.js';
import { checkCommandOptions, type FleetCommandOptions, type FleetResult, FleetRun } from './fleet-run.js';
import { checkConcurrency } from './host-gate.js';
import {
  buildHosts,
  checkSettings,
  checkUnique,
  type FleetHost,
  type HostLike,
  type HostSettings,
  hostName,
  invalid,
  listHosts,
} from './hosts.js';
import { type FleetJSON, fleetToJSON, hostsFromJSON } from './serialize.js';

/** The members of a fleet made by `filter()`, given through the constructor. */
const MEMBERS = Symbol('members');
interface Members {
  [MEMBERS]?: { hosts: FleetHost[]; defaults: HostSettings; gateways: Map<string, SshNode> };
}

/** Options of {@link Fleet}. */
export interface FleetOptions {
  /** Settings of every host the fleet builds (not of nodes given as nodes). @default SshNode's defaults */
  defaults?: HostSettings;
  /** Settings of one host, keyed by its name (`host` or `host:port`), over the defaults. */
  hosts?: Readonly<Record<string, HostSettings>>;
}

/** Options of {@link Fleet.fromHosts}. */
export interface FleetFromHostsOptions extends FleetOptions {
  /** The ssh_config file the host names are looked up in. @default ~/.ssh/config */
  sshConfig?: string;
}

/** What a fleet is made of, once its options are checked. */
interface Checked {
  list: HostLike[];
  defaults: HostSettings;
  perHost: Readonly<Record<string, HostSettings>>;
}

/** Options of `fleet.run()`. */
export interface FleetRunOptions extends FleetCommandOptions {
  /** Arguments that fill the command template, per host (see {@link HostArgs}). */
  hostArgs?: HostArgs;
  /** Reject with an SshError `ERR_COMMAND_FAILED` naming the failed hosts (result `ok` false); its `results` has them all. @default false */
  throwOnError?: boolean;
}

/**
 * A set of hosts: `[user@]host[:port]` strings, option objects, SshNodes and LocalNodes, mixed.
 * A host's name is `host`, or `host:port` for a port other than 22 (the user is not part of
 * it). The same `[user@]host[:port]` string listed n times is one host with n connections
 * (`connections: n`, SshNode's pool: its commands spread over them; per-host settings may say
 * otherwise); two different hosts of one name (two users, a node and a string, one node twice)
 * are refused. Nodes the fleet builds connect at first use; `close()` closes them.
 *
 * @example
 * ```ts
 * const fleet = new Fleet(['web1', 'alice@web2:2222', localNode], {
 *   defaults: { username: 'deploy', keys: ['~/.ssh/deploy'], gateway: 'bastion.example.org' },
 *   hosts: { 'web2:2222': { password: process.env.WEB2_PASSWORD } },
 * })
 * for (const r of await fleet.run('uptime', { timeout: 10_000 })) console.log(r.host, r.exitCode ?? r.error?.message, r.stdout)
 * await fleet.run('systemctl restart {0}', { hostArgs: ['nginx', 'apache2', 'caddy'] })
 * await fleet.close()
 * new Fleet(['db1', 'db1', 'web1']).size   // 2: db1 with 2 connections
 * ```
 */
export class Fleet implements Iterable<FleetHost> {
  readonly #hosts: FleetHost[];
  readonly #defaults: HostSettings;
  /** Gateways named by a string, built by this fleet (shared with the fleets of `filter`). */
  readonly #gateways: Map<string, SshNode>;
  #fs: FleetFs | undefined;

  /** @throws SshError `ERR_INVALID_OPTION`: an empty list, an unknown option, a duplicate host, settings of no host */
  constructor(hosts: Iterable<HostLike>, options: FleetOptions = {}) {
    const members = (options as Members)[MEMBERS];
    if (members !== undefined) {
      this.#hosts = members.hosts;
      this.#defaults = members.defaults;
      this.#gateways = members.gateways;
      return;
    }
    if ((options as FleetFromHostsOptions).sshConfig !== undefined) {
      throw invalid(
        'Invalid Fleet option "sshConfig": host names are looked up in an ssh_config by await Fleet.fromHosts(hosts, options), not by new Fleet()',
      );
    }
    const { list, defaults, perHost } = Fleet.#check(hosts, options, ['defaults', 'hosts']);
    this.#defaults = defaults;
    this.#gateways = new Map<string, SshNode>();
    this.#hosts = Fleet.#members(buildHosts(listHosts(list), defaults, perHost, this.#gateways), perHost);
  }

  /**
   * A fleet whose host names may be ssh_config aliases: each `[user@]host[:port]` string is
   * looked up in `sshConfig` (default `~/.ssh/config`) as `ssh host` would; a name the config
   * says something about (HostName, User, Port, IdentityFile, ProxyJump…, `Host *` blocks
   * included) is built with `SshNode.fromSshConfig`, a name it does not mention is a plain
   * host, as with `new Fleet()`. The host keeps the name it is written with (`web1`, not its
   * HostName). Precedence: per-host settings, then the string's user and port, then the config,
   * then `defaults` (a default gateway applies only to hosts without a ProxyJump). Resolving
   * reads the config files only (DNS only with CanonicalizeHostName; nothing is ever run); no
   * connection is opened. `toJSON()` writes such a host as resolved (host name, user, port, key
   * files, gateways), so `fromJSON()` needs no config.
   *
   * @throws SshError `ERR_SSH_CONFIG` (one line naming the file and line), `ERR_INVALID_OPTION` as the constructor
   * @example
   * ```ts
   * // ~/.ssh/config:  Host web1 web2 \n HostName %h.example.org \n User deploy \n ProxyJump bastion
   * const fleet = await Fleet.fromHosts(['web1', 'web2', 'db.internal'], { defaults: { connectTimeout: 5_000 } })
   * await fleet.run('uptime')
   * ```
   */
  static async fromHosts(hosts: Iterable<HostLike>, options: FleetFromHostsOptions = {}): Promise<Fleet> {
    const { list, defaults, perHost } = Fleet.#check(hosts, options, ['defaults', 'hosts', 'sshConfig']);
    const file = options.sshConfig;
    if (file !== undefined && (typeof file !== 'string' || file === '')) {
      throw invalid(
        `Invalid Fleet option sshConfig: expected the path of an ssh_config file, got ${String(file)}`,
      );
    }
    // a file given by name must be there (ssh -F says so too); only the default may be missing
    if (file !== undefined && !existsSync(file.startsWith('~/') ? join(homedir(), file.slice(2)) : file)) {
      throw invalid(`Invalid Fleet option sshConfig: no such ssh_config file: ${file}`);
    }
    const gateways = new Map<string, SshNode>();
    const built = await Promise.all(
      listHosts(list).map(async (entry) => {
        const fromConfig = await configHost(entry, defaults, perHost, gateways, file);
        return fromConfig ?? (buildHosts([entry], defaults, perHost, gateways)[0] as FleetHost);
      }),
    );
    const members = { hosts: Fleet.#members(built, perHost), defaults, gateways };
    return new Fleet([], { [MEMBERS]: members } as FleetOptions);
  }

  /** The host list and options, checked. */
  static #check(hosts: Iterable<HostLike>, options: FleetOptions, known: readonly string[]): Checked {
    const list = hosts === null || typeof hosts !== 'object' ? undefined : [...hosts];
    if (list === undefined || list.length === 0) {
      throw invalid(
        'Invalid Fleet hosts: expected at least one host ([user@]host[:port], an SshNode or a LocalNode)',
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw invalid(`Invalid Fleet options: expected an object with ${known.join(', ')}`);
    }
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        throw invalid(`Invalid Fleet option ${JSON.stringify(key)}: expected one of ${known.join(', ')}`);
      }
    }
    const defaults = options.defaults ?? {};
    checkSettings(defaults, 'defaults');
    const perHost = options.hosts ?? {};
    for (const [name, settings] of Object.entries(perHost))
      checkSettings(settings, `hosts[${JSON.stringify(name)}]`);
    return { list, defaults, perHost };
  }

  /** The members, checked: each name once, per-host settings only for hosts that are there. */
  static #members(hosts: FleetHost[], perHost: Readonly<Record<string, HostSettings>>): FleetHost[] {
    checkUnique(hosts);
    const unknown = Object.keys(perHost).find((name) => !hosts.some((host) => host.name === name));
    if (unknown !== undefined) {
      throw invalid(
        `Invalid Fleet option hosts[${JSON.stringify(unknown)}]: no host has that name (expected one of ${hosts.map((h) => h.name).join(', ')})`,
      );
    }
    return hosts;
  }

  get size(): number {
    return this.#hosts.length;
  }

  [Symbol.iterator](): Iterator<FleetHost> {
    return this.#hosts[Symbol.iterator]();
  }

  /** The names of the hosts, in order. */
  get names(): string[] {
    return this.#hosts.map((host) => host.name);
  }

  /** The hosts for which `pred` is true, as a fleet sharing their nodes (may be empty). */
  filter(pred: (host: FleetHost, index: number) => boolean): Fleet {
    const members = { hosts: this.#hosts.filter(pred), defaults: this.#defaults, gateways: this.#gateways };
    return new Fleet([], { [MEMBERS]: members } as FleetOptions);
  }

  /** Adds hosts (built with this fleet's defaults and `settings`). @throws SshError `ERR_INVALID_OPTION` for a name already there */
  add(host: HostLike, settings?: HostSettings): this {
    if (settings !== undefined) checkSettings(settings, 'add() settings');
    const perHost = settings === undefined ? {} : { [hostName(host)]: settings };
    const [built] = buildHosts([{ host, count: 1 }], this.#defaults, perHost, this.#gateways);
    checkUnique([...this.#hosts, built as FleetHost]);
    this.#hosts.push(built as FleetHost);
    return this;
  }

  /** Removes a host by name or node (its connection is closed). Returns whether it was there. */
  async remove(host: string | FleetHost['node']): Promise<boolean> {
    const index = this.#hosts.findIndex((h) => h.name === host || h.node === host);
    if (index < 0) return false;
    const [removed] = this.#hosts.splice(index, 1);
    await removed?.node.close();
    return true;
  }

  /**
   * Runs `command` on every host at once; resolves to one result per host, in host order.
   * A host that fails (unreachable, timeout…) has `error` set; the call itself never
   * rejects, unless `throwOnError` (a {@link FleetError} naming the failed hosts).
   * @throws SshError `ERR_INVALID_OPTION` (before anything runs): unknown option, `hostArgs` missing a host
   */
  async run(command: FleetCommand, options: FleetRunOptions = {}): Promise<FleetResult[]> {
    checkCommandOptions(options, ['hostArgs', 'throwOnError']);
    const { throwOnError, hostArgs, ...rest } = options;
    const results = await new FleetRun(
      this.#hosts,
      commandLines(this.#hosts, command, hostArgs),
      rest,
    ).results();
    return checkOutcomes(results, throwOnError, 'command');
  }

  /** Starts `command` on every host; see {@link FleetRun} for `join({ timeout })` and `stop()`. */
  start(command: FleetCommand, options: FleetCommandOptions & { hostArgs?: HostArgs } = {}): FleetRun {
    checkCommandOptions(options, ['hostArgs']);
    const { hostArgs, ...rest } = options;
    return new FleetRun(this.#hosts, commandLines(this.#hosts, command, hostArgs), rest);
  }

  /**
   * The file system of every host: the calls of `node.fs` (exists, stat, isFile, isDirectory,
   * readFile, readText, writeFile, mkdir, readdir, glob, rm, rename, chmod) with the same
   * arguments, made on every host at once, each resolving to one `{ host, node, ok, value?,
   * error?, durationMs }` per host, in host order (see {@link FleetFs}).
   * @example `for (const r of await fleet.fs.readText('/etc/hostname')) console.log(r.host, r.value ?? r.error?.message)`
   */
  get fs(): FleetFs {
    this.#fs ??= fleetFs(() => this.#hosts);
    return this.#fs;
  }

  /**
   * Runs `work` on every host at once (any asynchronous work: `host.node.fs` calls with per-host
   * arguments, several commands in a row…); resolves to one {@link FleetValue} per host, in host
   * order. A throw is that host's `error`, never a rejection of the call, unless `throwOnError`
   * (a {@link FleetError} naming the failed hosts). `concurrency`: at most that many hosts at
   * work at once (default: all).
   * @example
   * ```ts
   * const sizes = await fleet.each((host) => host.node.fs.stat(`/data/${host.name}.db`))
   * ```
   */
  async each<T>(
    work: (host: FleetHost, index: number) => Promise<T> | T,
    options: { throwOnError?: boolean; concurrency?: number } = {},
  ): Promise<FleetValue<T>[]> {
    if (typeof work !== 'function') throw invalid('Invalid Fleet each: expected a function of the host');
    checkKnownOptions('each', options, ['throwOnError', 'concurrency']);
    checkConcurrency(options.concurrency);
    return checkOutcomes(
      await eachHost(this.#hosts, work, options.concurrency),
      options.throwOnError,
      'call',
    );
  }

  /**
   * Copies a local file or directory to every host at once, over each node's SFTP session (a
   * LocalNode copies on the local disk). Directories are copied with everything in them (merged
   * into an existing directory of the same name); missing remote parents are made. `remote` is the
   * destination path itself, or, ending with `/`, the directory the source goes into under its
   * own name. Each path may be a function of the host. Relative remote paths start at the login
   * directory. Resolves to one {@link FleetCopyResult} per host, in host order; a host's failure is
   * its `error` (the call never rejects for it, unless `throwOnError`).
   * @throws SshError `ERR_LOCAL_FILE` when the local path (one for all) does not exist; `ERR_INVALID_OPTION` for a bad option or path — before anything is copied
   * @example
   * ```ts
   * await fleet.copyTo('dist/', '/opt/app/', { throwOnError: true })        // → /opt/app/dist on every host
   * await fleet.copyTo((host) => `conf/${host.name}.conf`, '/etc/app/app.conf')
   * ```
   */
  async copyTo(
    local: HostPath,
    remote: HostPath,
    options: FleetCopyOptions = {},
  ): Promise<FleetCopyResult[]> {
    checkCopyOptions('copyTo', options, false);
    const plan = planCopyTo(this.#hosts, local, remote);
    if (typeof local === 'string') await checkLocalSource(local);
    const results = await copyAll('to', this.#hosts, plan, options);
    return checkOutcomes(results, options.throwOnError, 'copyTo');
  }

  /**
   * Copies a remote file or directory of every host at once into `localDir` (made as needed),
   * each host's copy under its own name: `<name>_<host>` by default — the remote path's last name,
   * `_`, and the host's name with brackets dropped and `:` `%` `/` `\` turned to `_`
   * (`copyFrom('/var/log/syslog', 'out')` → `out/syslog_web1`, `out/syslog_web2_2222`), always
   * inside `localDir` — or the path `options.name(host, remotePath)` gives (relative to
   * `localDir`; the function's paths are the caller's, anywhere). Two hosts given one path, or one
   * inside another's, compared regardless of case (one file on macOS and Windows), are refused
   * before anything is copied. Directories are copied with everything in them. Resolves to one
   * {@link FleetCopyResult} per host; a missing remote path is that host's error
   * (`ERR_REMOTE_NOT_FOUND`, naming the host and the path).
   * @throws SshError `ERR_INVALID_OPTION` for a bad option, two hosts copying into one path or one inside the other's, a host name leading out of `localDir` — before anything is copied
   * @example
   * ```ts
   * await fleet.copyFrom('/var/log/app/', 'logs')                                     // logs/app_web1/…
   * await fleet.copyFrom('/etc/hosts', 'out', { name: (host) => `${host.name}/hosts` })  // out/web1/hosts
   * ```
   */
  async copyFrom(
    remote: HostPath,
    localDir: string,
    options: FleetCopyFromOptions = {},
  ): Promise<FleetCopyResult[]> {
    checkCopyOptions('copyFrom', options, true);
    const plan = planCopyFrom(this.#hosts, remote, localDir, options.name);
    const results = await copyAll('from', this.#hosts, plan, options);
    return checkOutcomes(results, options.throwOnError, 'copyFrom');
  }

  /**
   * One SshJob per host running `command` (a string, a function of the host, or a template
   * with `hostArgs`), for a Scheduler; not critical unless `jobOptions.critical`.
   * @example `scheduler.add(...fleet.jobs('apt-get update', { jobOptions: { required: check } }))`
   */
  jobs(command: FleetCommand, options: { hostArgs?: HostArgs; jobOptions?: JobOptions } = {}): SshJob[] {
    const lines = commandLines(this.#hosts, command, options.hostArgs);
    return this.#hosts.map(
      (host, index) =>
        new SshJob({
          critical: false,
          label: `${host.name}: ${lines[index]}`,
          ...options.jobOptions,
          node: host.node,
          command: lines[index] as string,
        }),
    );
  }

  /**
   * The hosts as JSON without secrets: see {@link FleetJSON}. A node given as a node (a host, a
   * gateway) is written with its key files and agent as given (`node.keyPaths`, `node.agent`).
   * @throws SshError `ERR_INVALID_OPTION` naming the host, for a key given in memory (in settings, or in a node given as a node)
   */
  toJSON(): FleetJSON {
    return fleetToJSON(this.#hosts, this.#defaults);
  }

  /** A fleet from `toJSON()`; `extra` gives what JSON does not hold (password, formatter, transport…), under each host's settings. */
  static fromJSON(json: FleetJSON | string, extra: HostSettings = {}): Fleet {
    let parsed: FleetJSON;
    try {
      parsed = typeof json === 'string' ? (JSON.parse(json) as FleetJSON) : json;
    } catch (error) {
      throw invalid(`Fleet.fromJSON: not JSON: ${(error as Error).message}`);
    }
    try {
      return new Fleet(hostsFromJSON(parsed, extra), { defaults: extra });
    } catch (error) {
      // the settings are fromJSON's second argument: say so, not the name Fleet gives them inside
      if (error instanceof Error && error.message.startsWith('Invalid Fleet option defaults:'))
        throw invalid(
          error.message.replace('Invalid Fleet option defaults:', 'Invalid Fleet.fromJSON settings:'),
        );
      throw error;
    }
  }

  /** Closes every host's connection, then those of the gateways the fleet built from strings. */
  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((host) => host.node.close()));
    await Promise.all([...this.#gateways.values()].map((gateway) => gateway.close()));
  }
}

/** Refuses an options value that is no object, or holds a key `method` does not know. */
function checkKnownOptions(method: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalid(
      `Invalid Fleet ${method} options: expected an object, got ${options === null ? 'null' : typeof options}`,
    );
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw invalid(
        `Invalid Fleet ${method} option ${JSON.stringify(key)}: expected one of ${known.join(', ')}`,
      );
}
