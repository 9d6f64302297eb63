/**
 * Fleet: many hosts from one script (issue 11): one command on all at once, per-host
 * results, per-host settings and arguments, SshJobs for a Scheduler.
 */
import type { JobOptions } from '@jobgraph/core';
import { SshError, SshErrorCode } from '../errors.js';
import { SshJob } from '../ssh-job.js';
import type { SshNode } from '../ssh-node.js';
import { commandLines, type FleetCommand, type HostArgs } from './command.js';
import { checkCommandOptions, type FleetCommandOptions, type FleetResult, FleetRun } from './fleet-run.js';
import {
  buildHosts,
  checkSettings,
  type FleetHost,
  type HostLike,
  type HostSettings,
  hostName,
  invalid,
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

/** Options of `fleet.run()`. */
export interface FleetRunOptions extends FleetCommandOptions {
  /** Arguments that fill the command template, per host (see {@link HostArgs}). */
  hostArgs?: HostArgs;
  /** Reject with an SshError `ERR_COMMAND_FAILED` naming the failed hosts (result `ok` false); its `results` has them all. @default false */
  throwOnError?: boolean;
}

/** The error of `run(…, { throwOnError: true })`: `results` holds every host's result, `failed` the failed ones'. */
export class FleetError extends SshError {
  override name = 'FleetError';
  /** Every host's result, in host order. */
  readonly results: FleetResult[];
  /** The results that are not `ok`. */
  readonly failed: FleetResult[];
  constructor(results: FleetResult[], failed: FleetResult[]) {
    const what = failed.map((r) => `${r.host} (${r.error?.message ?? `exit ${r.signal ?? r.exitCode}`})`);
    super(
      SshErrorCode.COMMAND_FAILED,
      `Fleet command failed on ${failed.length} of ${results.length} hosts: ${what.join('; ')}`,
    );
    this.results = results;
    this.failed = failed;
  }
}

/**
 * A set of hosts: `[user@]host[:port]` strings, option objects, SshNodes and LocalNodes, mixed.
 * A host's name is `host`, or `host:port` for a port other than 22 (the user is not part of
 * it); two hosts with one name are refused (several connections to one host are to come).
 * Nodes the fleet builds connect at first use; `close()` closes them.
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
 * ```
 */
export class Fleet implements Iterable<FleetHost> {
  readonly #hosts: FleetHost[];
  readonly #defaults: HostSettings;
  /** Gateways named by a string, built by this fleet (shared with the fleets of `filter`). */
  readonly #gateways: Map<string, SshNode>;

  /** @throws SshError `ERR_INVALID_OPTION`: an empty list, an unknown option, a duplicate host, settings of no host */
  constructor(hosts: Iterable<HostLike>, options: FleetOptions = {}) {
    const members = (options as Members)[MEMBERS];
    if (members !== undefined) {
      this.#hosts = members.hosts;
      this.#defaults = members.defaults;
      this.#gateways = members.gateways;
      return;
    }
    const list = hosts === null || typeof hosts !== 'object' ? undefined : [...hosts];
    if (list === undefined || list.length === 0) {
      throw invalid(
        'Invalid Fleet hosts: expected at least one host ([user@]host[:port], an SshNode or a LocalNode)',
      );
    }
    for (const key of Object.keys(options)) {
      if (key !== 'defaults' && key !== 'hosts') {
        throw invalid(`Invalid Fleet option ${JSON.stringify(key)}: expected defaults or hosts`);
      }
    }
    this.#defaults = options.defaults ?? {};
    checkSettings(this.#defaults, 'defaults');
    const perHost = options.hosts ?? {};
    for (const [name, settings] of Object.entries(perHost))
      checkSettings(settings, `hosts[${JSON.stringify(name)}]`);
    this.#gateways = new Map<string, SshNode>();
    this.#hosts = buildHosts(list, this.#defaults, perHost, this.#gateways);
    Fleet.#checkUnique(this.#hosts);
    const unknown = Object.keys(perHost).find((name) => !this.#hosts.some((host) => host.name === name));
    if (unknown !== undefined) {
      throw invalid(
        `Invalid Fleet option hosts[${JSON.stringify(unknown)}]: no host has that name (expected one of ${this.#hosts.map((h) => h.name).join(', ')})`,
      );
    }
  }

  static #checkUnique(hosts: readonly FleetHost[]): void {
    const seen = new Set<string>();
    for (const { name } of hosts) {
      if (seen.has(name))
        throw invalid(
          `Invalid Fleet hosts: ${JSON.stringify(name)} is given twice (expected each host once)`,
        );
      seen.add(name);
    }
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
    const [built] = buildHosts([host], this.#defaults, perHost, this.#gateways);
    Fleet.#checkUnique([...this.#hosts, built as FleetHost]);
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
    const failed = results.filter((result) => !result.ok);
    if (throwOnError === true && failed.length > 0) throw new FleetError(results, failed);
    return results;
  }

  /** Starts `command` on every host; see {@link FleetRun} for `join({ timeout })` and `stop()`. */
  start(command: FleetCommand, options: FleetCommandOptions & { hostArgs?: HostArgs } = {}): FleetRun {
    checkCommandOptions(options, ['hostArgs']);
    const { hostArgs, ...rest } = options;
    return new FleetRun(this.#hosts, commandLines(this.#hosts, command, hostArgs), rest);
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

  /** The hosts as JSON without secrets: see {@link FleetJSON}. @throws SshError `ERR_INVALID_OPTION` for a key given in memory */
  toJSON(): FleetJSON {
    return fleetToJSON(this.#hosts, this.#defaults);
  }

  /** A fleet from `toJSON()`; `extra` gives what JSON does not hold (password, formatter, transport…), under each host's settings. */
  static fromJSON(json: FleetJSON | string, extra: HostSettings = {}): Fleet {
    const parsed = typeof json === 'string' ? (JSON.parse(json) as FleetJSON) : json;
    return new Fleet(hostsFromJSON(parsed, extra), { defaults: extra });
  }

  /** Closes every host's connection, then those of the gateways the fleet built from strings. */
  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((host) => host.node.close()));
    await Promise.all([...this.#gateways.values()].map((gateway) => gateway.close()));
  }
}
