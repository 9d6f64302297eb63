/**
 * OpenSSH client configuration (`~/.ssh/config`, ssh_config(5)): what `ssh ALIAS` would
 * use for the host name, user, port, identity files, known-hosts file, host-key policy,
 * connect timeout and ProxyJump chain — resolved the way OpenSSH resolves it, and
 * without ever running anything the file asks to run.
 *
 * The public face; the work is in ssh-config/, each module importing only those below it:
 * problem, lexer, patterns, services, values at the bottom; proxy-jump syntax and
 * settings; session and tokens; include, match and canonicalize; walk (the passes over
 * the files); route (one host and its ProxyJump chain).
 *
 * Why our own resolver, neither the `ssh-config` package nor `ssh -G` (see ARCHITECTURE.md):
 * `ssh -G` is exact but spawns a process per host and hop (200 hosts behind a gateway:
 * 2.2 s on 2 cores, against 45 ms here), runs `Match exec` commands, needs the ssh
 * client, cannot take another local user, and prints defaults where the config says
 * nothing (which the precedence of -l, -p and SshNode's options needs to know); the
 * `ssh-config` package answers differently from
 * OpenSSH on `?` patterns, quotes and escapes, negated and repeated Match criteria,
 * `Match host` case, and does not follow Include, expand tokens, resolve ProxyJump, or
 * report lines — and runs `Match exec` and nslookup unless told not to. `ssh -G` is
 * instead the judge, in test/ssh-config-openssh.test.ts.
 *
 * This module must not import ssh-node.ts (which imports this one).
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MAX_DURATION } from '@jobgraph/core';
import { SshError, SshErrorCode } from './errors.js';
import { importPrivateKey } from './keys.js';
import { ConfigProblem, show } from './ssh-config/problem.js';
import { pendingKey, resolveHost } from './ssh-config/route.js';
import { currentLogin, type Session } from './ssh-config/session.js';
import type { ResolvedHost } from './ssh-config/types.js';
import { isSsh2LoadFailure } from './transport/lazy-ssh2.js';
import type { PrivateKey, Transport } from './transport/transport.js';

export type { ResolvedHost } from './ssh-config/types.js';

/** Options of {@link resolveSshConfig}. */
export interface ResolveSshConfigOptions {
  /** The config file; relative `Include`s still live in `~/.ssh`, as with `ssh -F`. @default ~/.ssh/config */
  file?: string;
  /** The local login, for `%u`, `%r` (when no User is set), `~user` and `Match user`/`localuser`. @default the current user */
  user?: string;
  /**
   * The remote user given outside the config (`ssh -l bob`, `bob@host`): it wins over User, and
   * `Match user`, `%r` (in IdentityFile, ProxyJump…) see it, as ssh's do. @default the config's User
   */
  login?: string;
  /** The port given outside the config (`ssh -p`, `host:port`): it wins over Port, and `%p` sees it. @default the config's Port */
  port?: number;
  /**
   * The host is reached through a gateway given outside the config (`ssh -J`, the `jobgraph`
   * command's `-g` or `gw->host`, `SshNode.fromSshConfig`'s `gateway`). As with `ssh -J`, the
   * host's own ProxyJump and ProxyCommand are then ignored (`jump` is empty: the route is the
   * caller's), and its name is not canonicalized unless CanonicalizeHostName is `always` (the
   * gateway resolves it).
   * @default false
   */
  proxied?: boolean;
}

/**
 * Resolves a host alias through an OpenSSH client config, as `ssh ALIAS` would.
 *
 * Supported: `Host` (several patterns, `*`, `?`, `!negation`), `Match all | host |
 * originalhost | user | localuser | canonical | final` (negatable, ANDed; `final` and
 * CanonicalizeHostName make ssh's final pass), CanonicalizeHostName (with CanonicalDomains,
 * CanonicalizeMaxDots, CanonicalizeFallbackLocal), `Include` (relative to ~/.ssh, `~`,
 * globs, 16 deep), first value wins, `key value` and `key=value`, quotes; HostName (`%h`;
 * default the alias), User, Port (or a service name, read from /etc/services),
 * IdentityFile (accumulating; `~`, `${VAR}`, `%C %d %h %i %k %L %l %n %p %r %u %%`),
 * IdentitiesOnly, UserKnownHostsFile (same expansions), StrictHostKeyChecking,
 * ConnectTimeout, HostKeyAlias (the host key's name in known_hosts, and `%k`), ProxyJump (chains, `user@host:port`, `ssh://`,
 * `none`, `%h %k %n %p %r`; each hop through its own Host blocks). Other keywords are
 * ignored. A missing config file is an empty one.
 *
 * Resolving reads the config files, and /etc/services for a Port given by name; it queries
 * DNS only when the config sets CanonicalizeHostName (each lookup bounded by 5 s, after which
 * the name counts as not resolving).
 *
 * Rejected with `ERR_SSH_CONFIG`: `ProxyCommand` (use ProxyJump), `Match exec` and the
 * other Match criteria that need more than names (nothing is ever executed), ProxyJump
 * loops, bad values and syntax.
 *
 * @throws SshError `ERR_SSH_CONFIG`, one line naming the file and line.
 * @example
 * ```ts
 * // ~/.ssh/config:
 * //   Host lab
 * //     HostName faraday.inria.fr
 * //     User inria_r2lab
 * //   Host fit*
 * //     User root
 * //     ProxyJump lab
 * const fit01 = await resolveSshConfig('fit01')
 * fit01.hostname                 // 'fit01'
 * fit01.jump.map((h) => h.hostname)  // ['faraday.inria.fr']
 * ```
 */
export async function resolveSshConfig(
  alias: string,
  options: ResolveSshConfigOptions = {},
): Promise<ResolvedHost> {
  if (typeof alias !== 'string' || alias === '' || /\s/.test(alias)) {
    throw new SshError(
      SshErrorCode.SSH_CONFIG,
      `Cannot resolve the ssh config host ${show(String(alias))}: not a host name`,
    );
  }
  if (options.proxied !== undefined && typeof options.proxied !== 'boolean') {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Cannot resolve the ssh config host ${show(alias)}: option proxied must be true or false, not ${show(String(options.proxied))}`,
    );
  }
  if (
    options.login !== undefined &&
    (typeof options.login !== 'string' || !/^[^\s@]+$/.test(options.login))
  ) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Cannot resolve the ssh config host ${show(alias)}: option login must be a user name, not ${show(String(options.login))}`,
    );
  }
  if (
    options.port !== undefined &&
    !(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)
  ) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Cannot resolve the ssh config host ${show(alias)}: option port must be an integer from 1 to 65535, not ${show(String(options.port))}`,
    );
  }
  const home = homedir();
  const file = options.file ?? join(home, '.ssh', 'config');
  const session: Session = {
    file: file === '~' || file.startsWith('~/') ? join(home, file.slice(1)) : file,
    home,
    localUser: options.user ?? currentLogin(),
    files: new Map(),
  };
  try {
    // a route given outside the config: the same marker as a hop reached with ssh -J
    const seed = {
      ...(options.proxied === true ? { route: [] } : {}),
      ...(options.login === undefined ? {} : { user: options.login }),
      ...(options.port === undefined ? {} : { port: options.port }),
    };
    return await resolveHost(alias, seed, session, [
      { key: pendingKey(alias, undefined, undefined), label: alias },
    ]);
  } catch (error) {
    if (!(error instanceof ConfigProblem)) throw error;
    const hop = error.hop === undefined ? '' : ` (jump host ${show(error.hop)})`;
    const where = error.where === undefined ? '' : `${error.where.file} line ${error.where.line}: `;
    throw new SshError(
      SshErrorCode.SSH_CONFIG,
      `Cannot resolve the ssh config host ${show(alias)}${hop}: ${where}${error.message}`,
      { cause: error },
    );
  }
}

// ---------------------------------------------------------------------------------------
// From a resolved host to the options of a node (used by SshNode.fromSshConfig).

/** The SshNode options one resolved host gives (see {@link configNodeOptions}). */
export interface ConfigNodeOptions {
  hostname: string;
  username: string;
  port?: number;
  keys?: PrivateKey[];
  agent?: false;
  knownHosts?: string;
  hostKeyPolicy?: 'strict' | 'accept-new' | 'off';
  hostKeyAlias?: string;
  connectTimeout?: number;
}

/**
 * The node options of a resolved host (what {@link SshNode.fromSshConfig} uses for each hop).
 * IdentityFiles are loaded now and, as ssh does, the missing or unusable ones (encrypted: the
 * agent may hold them) are skipped; with none left, the node keeps its default key policy.
 * `IdentitiesOnly` turns the agent off, unless an encrypted IdentityFile was skipped (ssh would
 * then use the agent's copy).
 * @param fallbackUsername - the login when the config names no User (else root)
 * @throws SshError `ERR_SSH2_LOAD` when the ssh2 module (which parses keys) cannot be loaded
 * @example
 * ```ts
 * const host = await resolveSshConfig('fit01')
 * const node = new SshNode({ ...(await configNodeOptions(host, 'root')), verbose: true })
 * ```
 */
export async function configNodeOptions(
  host: ResolvedHost,
  fallbackUsername: string | undefined,
  transport?: Transport,
): Promise<ConfigNodeOptions> {
  const keys: PrivateKey[] = [];
  let unusable = 0;
  for (const file of host.identityFiles) {
    try {
      if (!(await stat(file)).isFile()) continue;
    } catch {
      continue; // a missing IdentityFile is skipped by ssh too
    }
    try {
      keys.push(await importPrivateKey(file, undefined, transport));
    } catch (error) {
      // without ssh2 no key is usable: that is the failure to report, not an unusable file
      if (isSsh2LoadFailure(error)) throw error;
      unusable++;
    }
  }
  const options: ConfigNodeOptions = {
    hostname: host.hostname,
    username: host.user ?? fallbackUsername ?? 'root',
  };
  if (host.port !== undefined) options.port = host.port;
  if (keys.length > 0) options.keys = keys;
  if (host.identitiesOnly && unusable === 0) options.agent = false;
  if (host.userKnownHostsFile !== undefined) options.knownHosts = host.userKnownHostsFile;
  if (host.strictHostKeyChecking !== undefined) options.hostKeyPolicy = host.strictHostKeyChecking;
  if (host.hostKeyAlias !== undefined) options.hostKeyAlias = host.hostKeyAlias;
  // ssh takes any ConnectTimeout (`4w`); Node's timers hold at most ~24.8 days: as good as none
  if (host.connectTimeout !== undefined) options.connectTimeout = Math.min(host.connectTimeout, MAX_DURATION);
  return options;
}
