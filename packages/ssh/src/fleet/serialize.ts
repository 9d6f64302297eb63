/**
 * A fleet as JSON and back: each host's settings without secrets (keys by path, no
 * password, no passphrase), gateways nested; formatters and transports are not written. A node
 * given as a node is written from what it shows, its key files and agent included.
 */
import type { HostKeyPolicy } from '../known-hosts.js';
import { LocalNode } from '../local-node.js';
import { SshNode } from '../ssh-node.js';
import {
  type FleetHost,
  type HostLike,
  type HostOptions,
  type HostSettings,
  hostName,
  invalid,
  keyFilePath,
  parseHost,
  settingsOf,
} from './hosts.js';

/** One host as written by `toJSON()`. */
export interface FleetHostJSON {
  /** The fleet's LocalNode. */
  local?: true;
  /** The host's name in the fleet, when it is not `host[:port]` (an ssh_config alias). */
  name?: string;
  hostname?: string;
  username?: string;
  port?: number;
  /** Key files, by path (passphrases are not written). */
  keys?: string[];
  agent?: string | false;
  knownHosts?: string;
  hostKeyPolicy?: HostKeyPolicy;
  hostKeyAlias?: string;
  connectTimeout?: number;
  keepaliveInterval?: number;
  maxSessions?: number;
  /** Connections to the host (a host listed n times: n). */
  connections?: number;
  maxConnections?: number;
  idleClose?: number;
  tunnelNoDelay?: boolean;
  shareConnection?: boolean;
  verbose?: boolean;
  gateway?: FleetHostJSON;
}

/** What `fleet.toJSON()` writes and `Fleet.fromJSON()` reads. */
export interface FleetJSON {
  version: 1;
  hosts: FleetHostJSON[];
}

function keyPaths(keys: HostSettings['keys'], name: string): string[] {
  return (keys ?? []).map((key, index) => {
    const path = keyFilePath(key);
    if (path !== undefined) return path;
    throw invalid(
      `Fleet.toJSON: host ${JSON.stringify(name)} has a key given in memory (keys[${index}]): only key files are written, give the key's path`,
    );
  });
}

/**
 * The key files of gateways that `Fleet.fromHosts` built from an ssh_config ProxyJump: their
 * nodes hold the IdentityFiles loaded (keys in memory), the files are written in their place.
 */
const configKeyFiles = new WeakMap<SshNode, readonly string[]>();

/** Records the key files `node` was built from (a ProxyJump hop of an ssh_config), for toJSON. */
export function recordKeyFiles(node: SshNode, files: readonly string[]): void {
  configKeyFiles.set(node, [...files]);
}

/**
 * A node given as a node (a host, or a gateway): what it shows, its credentials included —
 * key files by path and the `agent` as given (passwords and passphrases are never written).
 * @param host - the name of the fleet's host it is, or is a gateway of
 * @throws SshError `ERR_INVALID_OPTION` naming the host, for a node whose keys were given in memory
 */
function fromNode(node: SshNode, host: string, gateway = false): FleetHostJSON {
  const keys = configKeyFiles.get(node) ?? node.keyPaths;
  if (keys === undefined && node.keysInMemory) {
    const what = gateway ? `has a gateway (${node.toString()})` : 'is a node';
    throw invalid(
      `Fleet.toJSON: host ${JSON.stringify(host)} ${what} whose keys were given in memory (key text, bytes or loaded keys): only key files are written, give the node its keys by path`,
    );
  }
  return {
    hostname: node.hostname,
    username: node.username,
    port: node.port,
    ...(keys === undefined || keys.length === 0 ? {} : { keys: [...keys] }),
    ...(node.agent === undefined ? {} : { agent: node.agent }),
    knownHosts: node.knownHosts,
    hostKeyPolicy: node.hostKeyPolicy,
    ...(node.hostKeyAlias === undefined ? {} : { hostKeyAlias: node.hostKeyAlias }),
    connectTimeout: node.connectTimeout,
    keepaliveInterval: node.keepaliveInterval,
    maxSessions: node.maxSessions,
    ...(node.connections === 1 ? {} : { connections: node.connections }),
    maxConnections: node.maxConnections,
    idleClose: node.idleClose,
    ...(node.tunnelNoDelay ? {} : { tunnelNoDelay: false }),
    ...(node.shareConnection ? {} : { shareConnection: false }),
    verbose: node.verbose,
    ...(node.gateway === undefined ? {} : { gateway: fromNode(node.gateway, host, true) }),
  };
}

function fromSettings(settings: HostOptions, defaults: HostSettings, name: string): FleetHostJSON {
  const out: FleetHostJSON = {
    ...(settings.name === undefined ? {} : { name: settings.name }),
    hostname: settings.hostname,
  };
  const username = settings.username ?? settings.user;
  if (username !== undefined) out.username = username;
  if (settings.keys !== undefined) out.keys = keyPaths(settings.keys, name);
  for (const key of [
    'port',
    'agent',
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
    'verbose',
  ] as const) {
    if (settings[key] !== undefined) (out as Record<string, unknown>)[key] = settings[key];
  }
  const { gateway } = settings;
  if (typeof gateway === 'string') {
    const { gateway: _none, ...base } = defaults;
    out.gateway = fromSettings({ ...base, ...parseHost(gateway) }, {}, gateway);
  } else if (gateway !== undefined && gateway !== null) {
    out.gateway = fromNode(gateway, name, true);
  }
  return out;
}

/** The JSON of a fleet's members. */
export function fleetToJSON(hosts: readonly FleetHost[], defaults: HostSettings): FleetJSON {
  return {
    version: 1,
    hosts: hosts.map((host) => {
      const { name, node } = host;
      if (node instanceof LocalNode) return name === node.hostname ? { local: true } : { local: true, name };
      // the settings as given: a key given in memory is refused (the public ones leave it out)
      const settings = settingsOf(host);
      if (settings !== undefined) return fromSettings(settings, defaults, name);
      const json = fromNode(node as SshNode, name);
      // a node given under a name of its own ({ node, name }) keeps it
      return name === hostName(node as SshNode) ? json : { ...json, name };
    }),
  };
}

/**
 * The hosts of a fleet's JSON, to give to `new Fleet()`; gateways written alike are one node.
 * @throws SshError `ERR_INVALID_OPTION` when the JSON is not a fleet's
 */
export function hostsFromJSON(json: FleetJSON, extra: HostSettings): HostLike[] {
  if (typeof json !== 'object' || json === null || json.version !== 1 || !Array.isArray(json.hosts)) {
    throw invalid('Fleet.fromJSON: expected what fleet.toJSON() writes: { version: 1, hosts: [...] }');
  }
  const gateways = new Map<string, SshNode>();
  const build = (host: FleetHostJSON): HostLike => {
    if (typeof host !== 'object' || host === null) throw invalid('Fleet.fromJSON: a host is not an object');
    // a chain no network has (a file made by hand): an error, not a stack overflow (counted
    // without recursion, before anything walks it)
    let depth = 0;
    for (let hop = host.gateway; hop !== undefined && hop !== null; hop = hop.gateway)
      if (++depth > MAX_GATEWAY_CHAIN)
        throw invalid(`Fleet.fromJSON: gateways nested more than ${MAX_GATEWAY_CHAIN} deep`);
    if (host.local === true) {
      const node =
        extra.formatter === undefined ? new LocalNode() : new LocalNode({ formatter: extra.formatter });
      return host.name === undefined ? node : { node, name: host.name };
    }
    const { gateway, local: _local, ...rest } = host;
    if (typeof rest.hostname !== 'string') throw invalid('Fleet.fromJSON: a host has no hostname');
    if (gateway === undefined) return rest as HostOptions;
    const key = JSON.stringify(gateway);
    let node = gateways.get(key);
    if (node === undefined) {
      const built = build(gateway);
      const { gateway: _g, ...base } = extra;
      node = built instanceof SshNode ? built : new SshNode({ ...base, ...(built as HostOptions) } as never);
      gateways.set(key, node);
    }
    return { ...rest, gateway: node } as HostOptions;
  };
  return json.hosts.map(build);
}

/** The longest chain of gateways fromJSON rebuilds. */
const MAX_GATEWAY_CHAIN = 64;
