/**
 * Hosts of a fleet named by ssh_config aliases (`Fleet.fromHosts`): each `[user@]host[:port]`
 * string is looked up in the config, as `ssh host` would; a host the config says something
 * about is built by `SshNode.fromSshConfig`, the others are left to the plain path.
 */
import { stat } from 'node:fs/promises';
import { SshError, type SshErrorCode } from '../errors.js';
import { type ResolvedHost, resolveSshConfig } from '../ssh-config.js';
import { SshNode, type SshNodeOptions } from '../ssh-node.js';
import {
  type FleetHost,
  gatewayNode,
  type HostOptions,
  type HostSettings,
  hostName,
  type Listed,
  member,
  withUsername,
  writtenOf,
} from './hosts.js';
import { recordKeyFiles } from './serialize.js';

/** Whether the config says anything about the host (ssh would connect to it differently than to the bare name). */
function configGives(host: ResolvedHost, hostname: string): boolean {
  return (
    host.hostname !== hostname.toLowerCase() ||
    host.user !== undefined ||
    host.port !== undefined ||
    host.identityFiles.length > 0 ||
    host.identitiesOnly ||
    host.userKnownHostsFile !== undefined ||
    host.strictHostKeyChecking !== undefined ||
    host.connectTimeout !== undefined ||
    host.jump.length > 0
  );
}

/**
 * The fleet's defaults less what the config sets for the host: the config wins over the
 * defaults, the string and the per-host settings win over the config (as `ssh -l -p` do).
 */
function defaultsUnder(config: ResolvedHost, defaults: HostSettings): HostSettings {
  const base: Record<string, unknown> = { ...withUsername(defaults) };
  const set: [keyof HostSettings, boolean][] = [
    ['username', config.user !== undefined],
    ['port', config.port !== undefined],
    ['keys', config.identityFiles.length > 0],
    ['agent', config.identitiesOnly],
    ['knownHosts', config.userKnownHostsFile !== undefined],
    ['hostKeyPolicy', config.strictHostKeyChecking !== undefined],
    ['connectTimeout', config.connectTimeout !== undefined],
    ['gateway', config.jump.length > 0],
  ];
  for (const [key, fromConfig] of set) if (fromConfig) delete base[key];
  return base as HostSettings;
}

/** The config's IdentityFiles that exist (ssh skips the others), for toJSON. */
async function existingFiles(files: readonly string[]): Promise<string[]> {
  const found = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (info) => info.isFile(),
        () => false,
      ),
    ),
  );
  return files.filter((_file, index) => found[index]);
}

/**
 * The key files of the config's ProxyJump hops, for toJSON: `SshNode.fromSshConfig` gives the
 * gateways it builds their IdentityFiles loaded (keys in memory, which toJSON cannot write), so
 * each gateway that has keys is recorded with its files that exist, as the target's are.
 */
async function recordHopKeys(node: SshNode, jump: readonly ResolvedHost[]): Promise<void> {
  let gateway = node.gateway;
  for (let index = jump.length - 1; index >= 0 && gateway !== undefined; index--) {
    const hop = jump[index] as ResolvedHost;
    if (gateway.keysInMemory) recordKeyFiles(gateway, await existingFiles(hop.identityFiles));
    gateway = gateway.gateway;
  }
}

/**
 * A string host (listed `count` times: that many connections) through the config: a member built by `SshNode.fromSshConfig`, or undefined when
 * the config says nothing about it (the caller builds it as a plain host).
 * @throws SshError `ERR_SSH_CONFIG` naming the file and line; an option error naming the host
 */
export async function configHost(
  { host: text, count }: Listed,
  defaults: HostSettings,
  perHost: Readonly<Record<string, HostSettings>>,
  gateways: Map<string, SshNode>,
  file: string | undefined,
): Promise<FleetHost | undefined> {
  if (typeof text !== 'string') return undefined;
  const written = writtenOf(text, count);
  const name = hostName(text);
  const own = { ...withUsername(written), ...withUsername(perHost[name] ?? {}) };
  // the user, port and gateway given outside the config are ssh's -l, -p and -J: Match user, %r
  // and %p see them; a gateway given for the host replaces the config's route (its ProxyCommand ignored)
  const resolve = (login: string | undefined, port: number | undefined) =>
    resolveSshConfig(written.hostname, {
      ...(file === undefined ? {} : { file }),
      ...(login === undefined ? {} : { login }),
      ...(port === undefined ? {} : { port }),
      // null is "no gateway" (over the defaults'), not a gateway
      proxied: own.gateway !== undefined && own.gateway !== null,
    });
  let config = await resolve(own.username, own.port);
  // the defaults' user and port apply where the config gives none, and are then what its Match
  // user and %r, %p see (as fromSshConfig sees them, below)
  const login = own.username ?? (config.user === undefined ? withUsername(defaults).username : undefined);
  const port = own.port ?? (config.port === undefined ? defaults.port : undefined);
  if (login !== own.username || port !== own.port) config = await resolve(login, port);
  if (!configGives(config, written.hostname)) return undefined;
  const { hostname: _hostname, ...given } = written;
  const merged = { ...defaultsUnder(config, defaults), ...given, ...withUsername(perHost[name] ?? {}) };
  const { gateway, user: _user, ...rest } = merged;
  try {
    const via = gatewayNode(gateway, defaults, gateways);
    const options: { file?: string } & Omit<SshNodeOptions, 'hostname'> = { ...rest };
    if (file !== undefined) options.file = file;
    if (via !== undefined) options.gateway = via;
    // the user and port the config was resolved with (the defaults', where it gives none): so
    // that fromSshConfig resolves it the same way
    if (login !== undefined) options.username = login;
    if (port !== undefined) options.port = port;
    const node = await SshNode.fromSshConfig(written.hostname, options);
    const keys = rest.keys ?? (await existingFiles(config.identityFiles));
    // what toJSON writes: the host as resolved, so that fromJSON needs no config
    const settings: HostOptions = {
      ...rest,
      name,
      hostname: node.hostname,
      username: node.username,
      port: node.port,
      knownHosts: node.knownHosts,
      hostKeyPolicy: node.hostKeyPolicy,
      ...(node.hostKeyAlias === undefined ? {} : { hostKeyAlias: node.hostKeyAlias }),
      connectTimeout: node.connectTimeout,
      ...(keys.length === 0 ? {} : { keys }),
      ...(rest.agent === undefined && config.identitiesOnly ? { agent: false } : {}),
      ...(typeof gateway === 'string'
        ? { gateway }
        : node.gateway === undefined
          ? {}
          : { gateway: node.gateway }),
    };
    await recordHopKeys(node, via === undefined ? config.jump : []);
    return member(name, node, settings);
  } catch (error) {
    if (!(error instanceof SshError) || error.message.startsWith('Fleet host')) throw error;
    throw new SshError(error.code as SshErrorCode, `Fleet host ${JSON.stringify(name)}: ${error.message}`, {
      cause: error,
      node: name,
    });
  }
}
