/**
 * A fleet as JSON and back: each host's settings without secrets (keys by path, no
 * password, no passphrase), gateways nested; formatters and transports are not written.
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
  parseHost,
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
  connectTimeout?: number;
  keepaliveInterval?: number;
  maxSessions?: number;
  /** Connections to the host (a host listed n times: n). */
  connections?: number;
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
    if (typeof key === 'string' && !key.includes('\n') && !key.includes('-----BEGIN')) return key;
    if (typeof key === 'object' && key !== null && 'path' in key && typeof key.path === 'string')
      return key.path;
    throw invalid(
      `Fleet.toJSON: host ${JSON.stringify(name)} has a key given in memory (keys[${index}]): only key files are written, give the key's path`,
    );
  });
}

function fromNode(node: SshNode): FleetHostJSON {
  return {
    hostname: node.hostname,
    username: node.username,
    port: node.port,
    knownHosts: node.knownHosts,
    hostKeyPolicy: node.hostKeyPolicy,
    connectTimeout: node.connectTimeout,
    keepaliveInterval: node.keepaliveInterval,
    maxSessions: node.maxSessions,
    ...(node.connections === 1 ? {} : { connections: node.connections }),
    ...(node.shareConnection ? {} : { shareConnection: false }),
    verbose: node.verbose,
    ...(node.gateway === undefined ? {} : { gateway: fromNode(node.gateway) }),
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
    'connectTimeout',
    'keepaliveInterval',
    'maxSessions',
    'connections',
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
    out.gateway = fromNode(gateway);
  }
  return out;
}

/** The JSON of a fleet's members. */
export function fleetToJSON(hosts: readonly FleetHost[], defaults: HostSettings): FleetJSON {
  return {
    version: 1,
    hosts: hosts.map(({ name, node, settings }) => {
      if (node instanceof LocalNode) return name === node.hostname ? { local: true } : { local: true, name };
      if (settings !== undefined) return fromSettings(settings, defaults, name);
      const json = fromNode(node as SshNode);
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
