/**
 * The hosts of a Fleet: `[user@]host[:port]` strings, option objects and nodes, each with a
 * name (`host` or `host:port`, no user, or one given) and the settings it was built with: shown
 * without secrets, kept whole for toJSON.
 */
import { hostText } from '../endpoint-text.js';
import { SshError, SshErrorCode } from '../errors.js';
import { LocalNode } from '../local-node.js';
import type { CommandNode } from '../node.js';
import { SshNode, type SshNodeOptions } from '../ssh-node.js';

/** Settings of a host: any {@link SshNodeOptions} but `hostname`; `user` is an alias of `username`; `gateway` may be a `[user@]host[:port]` string (built with the fleet's defaults, one node per string), or null for none (over the defaults' gateway). */
export type HostSettings = Omit<SshNodeOptions, 'hostname' | 'gateway'> & {
  user?: string;
  gateway?: SshNode | string | null;
};

/** A host given as options: its `hostname`, its settings, and the name it takes in the fleet. */
export type HostOptions = HostSettings & {
  hostname: string;
  /** The host's name in the fleet. @default `host`, or `host:port` for a port other than 22 */
  name?: string;
};

/**
 * A node given under a name of one's choosing: two nodes of one host (two users, direct and
 * through a gateway) may then be in one fleet (parallel-ssh's `alias`).
 */
export interface NamedNode {
  readonly node: SshNode | LocalNode;
  /** The host's name in the fleet: non-empty, no spaces. */
  readonly name: string;
}

/** What a fleet accepts as a host. */
export type HostLike = string | SshNode | LocalNode | HostOptions | NamedNode;

/** Whether `host` is a {@link NamedNode}. */
export function isNamedNode(host: unknown): host is NamedNode {
  return typeof host === 'object' && host !== null && 'node' in host;
}

/**
 * A name given to a host (option `name`, `{ node, name }`, a fleet's JSON): it names the host's
 * files (copyFrom's `<name>_<host>`), so it must be one file name — no `/` or `\` (a JSON from
 * elsewhere naming a host `../../.ssh/authorized_keys` would steer a copy there), no control
 * character, not `.` or `..`.
 */
function checkedName(name: unknown, what: string): string {
  if (
    typeof name === 'string' &&
    /^\S+$/.test(name) &&
    !/[/\\\p{Cc}]/u.test(name) &&
    name !== '.' &&
    name !== '..'
  ) {
    return name;
  }
  throw invalid(
    `Invalid Fleet host ${what}: option name: expected a non-empty name without spaces, slashes, backslashes or control characters, other than . and .. (it names the host's files), got ${JSON.stringify(name)}`,
  );
}

/** One member of a fleet. */
export interface FleetHost {
  /** `host`, or `host:port` when a port other than 22 is written (the user is not part of it). */
  readonly name: string;
  readonly node: CommandNode;
  /**
   * What the fleet built the node from (undefined: the node was given), without its secrets:
   * no `password`, keys by path only (`{ path, passphrase }` shown as its path; key text, bytes
   * and loaded keys left out). The node was built with them all.
   */
  readonly settings: HostOptions | undefined;
}

/** Each member's settings as given, secrets included: what toJSON checks (keys in memory are refused). */
const givenSettings = new WeakMap<FleetHost, HostOptions>();

/** The path of a key given as a file (a path, `{ path, passphrase }`), undefined for a key given in memory. */
export function keyFilePath(key: unknown): string | undefined {
  if (typeof key === 'string') return key.includes('\n') || key.includes('-----BEGIN') ? undefined : key;
  if (typeof key === 'object' && key !== null && !Buffer.isBuffer(key) && !('key' in key) && 'path' in key) {
    return typeof key.path === 'string' ? key.path : undefined;
  }
  return undefined;
}

/** Settings without secrets: no password, keys by path only. */
function withoutSecrets(settings: HostOptions): HostOptions {
  const { password: _password, keys, ...rest } = settings;
  if (keys === undefined) return rest;
  return { ...rest, keys: keys.map(keyFilePath).filter((path) => path !== undefined) };
}

/** A member: its `settings` shown without secrets, kept whole for {@link settingsOf}. */
export function member(name: string, node: CommandNode, settings: HostOptions | undefined): FleetHost {
  if (settings === undefined) return { name, node, settings };
  const host: FleetHost = { name, node, settings: withoutSecrets(settings) };
  givenSettings.set(host, settings);
  return host;
}

/** The settings a member was built from, secrets included (undefined: the node was given). */
export function settingsOf(host: FleetHost): HostOptions | undefined {
  return givenSettings.get(host) ?? host.settings;
}

export function invalid(message: string): SshError {
  return new SshError(SshErrorCode.INVALID_OPTION, message);
}

const ENDPOINT =
  /^(?:([A-Za-z0-9._][A-Za-z0-9._$-]*)@)?([A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.%]+\])(?::(\d{1,5}))?$/;

/**
 * Parses `[user@]host[:port]` (IPv6 in brackets), the CLI's endpoint grammar without gateways.
 * @throws SshError `ERR_INVALID_OPTION` naming the text
 */
export function parseHost(text: string): { username?: string; hostname: string; port?: number } {
  const match = ENDPOINT.exec(text.trim());
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (match === null || (port !== undefined && !(port >= 1 && port <= 65535))) {
    throw invalid(`Invalid Fleet host ${JSON.stringify(text)}: expected [user@]host[:port]`);
  }
  const host = match[2] as string;
  return {
    ...(match[1] === undefined ? {} : { username: match[1] }),
    hostname: host.startsWith('[') ? host.slice(1, -1) : host,
    ...(port === undefined ? {} : { port }),
  };
}

function nameOf(hostname: string, port: number | undefined): string {
  return port === undefined || port === 22 ? hostText(hostname) : `${hostText(hostname)}:${port}`;
}

/** The name a host will have, before settings are applied. */
export function hostName(host: HostLike): string {
  if (host instanceof LocalNode) return host.hostname;
  if (host instanceof SshNode) return nameOf(host.hostname, host.port);
  if (typeof host === 'string') {
    const { hostname, port } = parseHost(host);
    return nameOf(hostname, port);
  }
  if (isNamedNode(host)) {
    if (!(host.node instanceof SshNode || host.node instanceof LocalNode)) {
      throw invalid(
        `Invalid Fleet host { node, name }: expected an SshNode or a LocalNode as node, got ${typeof host.node}`,
      );
    }
    return checkedName(host.name, host.node.toString());
  }
  if (typeof host === 'object' && host !== null && typeof host.hostname === 'string') {
    if (host.name === undefined) return nameOf(host.hostname, host.port);
    return checkedName(host.name, JSON.stringify(host.hostname));
  }
  throw invalid(
    `Invalid Fleet host ${typeof host}: expected a [user@]host[:port] string, an SshNode, a LocalNode, { node, name } or options with a hostname`,
  );
}

/** One entry of a host list: a host, and how many times it is listed. */
export interface Listed {
  readonly host: HostLike;
  /** A `[user@]host[:port]` string listed n times is one host with `connections: n`. */
  readonly count: number;
}

/**
 * The host list with repeated strings folded: the same host (same name, same user) written n
 * times is one entry counted n times (ssh_utilities' pool: n connections). Anything else that
 * repeats a name stays, for {@link checkUnique} to refuse.
 */
export function listHosts(hosts: readonly HostLike[]): Listed[] {
  const entries: { host: HostLike; count: number }[] = [];
  const strings = new Map<string, { host: HostLike; count: number }>();
  for (const host of hosts) {
    if (typeof host !== 'string') {
      entries.push({ host, count: 1 });
      continue;
    }
    const key = `${parseHost(host).username ?? ''}@${hostName(host)}`;
    const seen = strings.get(key);
    if (seen !== undefined) {
      seen.count++;
      continue;
    }
    const entry = { host, count: 1 };
    strings.set(key, entry);
    entries.push(entry);
  }
  return entries;
}

/** What a string says: its user, host and port, and its connections when listed more than once. */
export function writtenOf(text: string, count: number): HostOptions {
  return { ...parseHost(text), ...(count > 1 ? { connections: count } : {}) };
}

/** Builds the members, with per-host settings over the defaults; gateways named by a string are shared. */
export function buildHosts(
  entries: readonly Listed[],
  defaults: HostSettings,
  perHost: Readonly<Record<string, HostSettings>>,
  gateways: Map<string, SshNode>,
): FleetHost[] {
  return entries.map(({ host, count }) => {
    const name = hostName(host);
    if (host instanceof SshNode || host instanceof LocalNode || isNamedNode(host)) {
      if (perHost[name] !== undefined) {
        throw invalid(
          `Invalid Fleet option hosts[${JSON.stringify(name)}]: the host is given as a node, so its settings go to the node`,
        );
      }
      return member(name, isNamedNode(host) ? host.node : host, undefined);
    }
    const written = typeof host === 'string' ? writtenOf(host, count) : host;
    checkSettings(written, `host ${JSON.stringify(name)}`, true);
    const settings = {
      ...withUsername(defaults),
      ...withUsername(written),
      ...withUsername(perHost[name] ?? {}),
    } as HostOptions;
    try {
      return member(name, makeNode(settings, defaults, gateways), settings);
    } catch (error) {
      if (!(error instanceof SshError)) throw error;
      throw new SshError(error.code as SshErrorCode, `Fleet host ${JSON.stringify(name)}: ${error.message}`, {
        cause: error,
        node: name,
      });
    }
  });
}

/**
 * Refuses two members of one name: two users of one host, a node and a string, one node given
 * twice (a node's connections are its own option).
 * @throws SshError `ERR_INVALID_OPTION` naming the host
 */
export function checkUnique(hosts: readonly FleetHost[]): void {
  const seen = new Set<string>();
  for (const { name } of hosts) {
    if (seen.has(name))
      throw invalid(
        `Invalid Fleet hosts: ${JSON.stringify(name)} is given twice, as different hosts or as a node (expected each host once; the same [user@]host[:port] string listed n times is one host with n connections; give { node, name } or a name option to tell two hosts apart)`,
      );
    seen.add(name);
  }
}

/** `user` folded into `username` (`username` wins when both are given). */
export function withUsername<T extends HostSettings>(settings: T): T {
  if (settings.user === undefined) return settings;
  const { user, ...rest } = settings;
  return { ...rest, username: rest.username ?? user } as T;
}

const SETTINGS = new Set([
  'user',
  'username',
  'port',
  'keys',
  'agent',
  'password',
  'gateway',
  'knownHosts',
  'hostKeyPolicy',
  'hostKeyAlias',
  'connectTimeout',
  'keepaliveInterval',
  'maxSessions',
  'connections',
  'maxConnections',
  'idleClose',
  'tunnelNoDelay',
  'shareConnection',
  'formatter',
  'verbose',
  'transport',
]);

/**
 * Refuses an option SshNode does not know (the values are checked by SshNode).
 * @throws SshError `ERR_INVALID_OPTION` naming the option and where it was
 */
export function checkSettings(settings: unknown, where: string, withHostname = false): void {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw invalid(`Invalid Fleet option ${where}: expected an object of SshNode options`);
  }
  for (const key of Object.keys(settings)) {
    if (!SETTINGS.has(key) && !(withHostname && (key === 'hostname' || key === 'name'))) {
      throw invalid(
        `Invalid Fleet option ${where}: unknown option ${JSON.stringify(key)} (expected SshNode options: ${[...SETTINGS].join(', ')})`,
      );
    }
  }
}

function makeNode(settings: HostOptions, defaults: HostSettings, gateways: Map<string, SshNode>): SshNode {
  const { user: _user, name: _name, gateway, ...rest } = withUsername(settings);
  const options: SshNodeOptions = { ...rest };
  const node = gatewayNode(gateway, defaults, gateways);
  if (node !== undefined) options.gateway = node;
  return new SshNode(options);
}

/** The node of a `gateway` setting: a string is built once with the defaults (and shared), null is none. */
export function gatewayNode(
  gateway: HostSettings['gateway'],
  defaults: HostSettings,
  gateways: Map<string, SshNode>,
): SshNode | undefined {
  if (typeof gateway !== 'string') return gateway ?? undefined;
  let node = gateways.get(gateway);
  if (node === undefined) {
    const { gateway: _ignored, ...base } = withUsername(defaults);
    node = makeNode({ ...base, ...parseHost(gateway) }, {}, gateways);
    gateways.set(gateway, node);
  }
  return node;
}
