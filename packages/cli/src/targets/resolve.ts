/**
 * From targets as written to the hosts to reach: users, ports and gateways filled in from the
 * command line, the ssh config and the defaults; exclusions applied; duplicates dropped.
 *
 * Precedence, for the final host:   user@ > -l > config User > the local user
 *                                   :port > -p > config Port > 22
 *                                   written gateways (gw->, None->) > -g > config ProxyJump > none
 * Written gateways and -g take -l as apssh does; the config's ProxyJump hops take the config's
 * User, else the local user, as ssh does. A host behind a written gateway or -g is resolved as
 * `ssh -J` resolves it: its ProxyJump and ProxyCommand ignored, its name not canonicalized.
 */
import { endpointText, localUsername, type ResolvedHost, resolveSshConfig } from '@jobgraph/ssh';
import { TargetError } from './errors.js';
import { type EndpointSpec, parseTargets, type TargetSpec } from './grammar.js';

/** One host to connect to (a gateway or a final host). */
export interface Hop {
  /** The name as written (an ssh config alias, or the host name itself). */
  readonly alias: string;
  readonly hostname: string;
  readonly user: string;
  readonly port: number;
  /** What the ssh config says of this host (keys, known hosts…), when a config is used. */
  readonly config: ResolvedHost | undefined;
}

/** A target to run on: the gateways to go through (outermost first), then the host. */
export interface Target {
  /** The target as written. */
  readonly text: string;
  readonly gateways: readonly Hop[];
  readonly host: Hop;
}

/** What fills in the blanks of the targets. */
export interface ResolveOptions {
  /** `-l`: the user of hosts and written gateways that do not name one. @default the ssh config's, else the local user */
  readonly login?: string | undefined;
  /** `-g`: the gateway (or `a->b` chain) of targets that name none. */
  readonly gateway?: string | undefined;
  /** `-p`: the port of hosts that do not name one. */
  readonly port?: number | undefined;
  /** The ssh config file to read aliases from, or undefined for none. */
  readonly sshConfig?: string | undefined;
}

/** `user@host` or `user@host:port`, as SshNode prints it. */
export function hopText(hop: Hop): string {
  return endpointText(hop.user, hop.hostname, hop.port);
}

/** `gwuser@gw->user@host`: the same text as the node's toString(). */
export function targetText(target: Target): string {
  return [...target.gateways, target.host].map(hopText).join('->');
}

class Resolver {
  readonly #options: ResolveOptions;
  readonly #localUser = localUsername();
  readonly #configs = new Map<string, Promise<ResolvedHost | undefined>>();

  constructor(options: ResolveOptions) {
    this.#options = options;
  }

  /**
   * What the config says of a host; `proxied` when the command line puts a gateway in front of
   * it (as ssh -J: its ProxyJump and ProxyCommand ignored, its name not canonicalized).
   */
  #config(
    alias: string,
    proxied: boolean,
    login: string | undefined,
    port: number | undefined,
  ): Promise<ResolvedHost | undefined> {
    const file = this.#options.sshConfig;
    if (file === undefined) return Promise.resolve(undefined);
    const key = `${proxied ? 'proxied' : 'direct'} ${login ?? ''}@${alias}:${port ?? ''}`;
    let config = this.#configs.get(key);
    if (config === undefined) {
      // the user and port of the command line are ssh's -l and -p: Match user, %r and %p see them
      config = resolveSshConfig(alias, {
        file,
        proxied,
        ...(login === undefined ? {} : { login }),
        ...(port === undefined ? {} : { port }),
      });
      this.#configs.set(key, config);
    }
    return config;
  }

  /** A host or a written gateway (`proxied` when a written gateway comes before it): -l applies. */
  async #hop(spec: EndpointSpec, port: number | undefined, proxied: boolean): Promise<Hop> {
    const login = spec.user ?? this.#options.login;
    const config = await this.#config(spec.host, proxied, login, spec.port ?? port);
    return {
      alias: spec.host,
      hostname: config?.hostname ?? spec.host,
      user: spec.user ?? this.#options.login ?? config?.user ?? this.#localUser,
      port: spec.port ?? port ?? config?.port ?? 22,
      config,
    };
  }

  /** A ProxyJump hop of the config: its own User, else the local user (ssh's -l does not reach it). */
  #jumpHop(host: ResolvedHost): Hop {
    return {
      alias: host.alias,
      hostname: host.hostname,
      user: host.user ?? this.#localUser,
      port: host.port ?? 22,
      config: host,
    };
  }

  async target(spec: TargetSpec, gateway: readonly EndpointSpec[] | undefined): Promise<Target> {
    const written = spec.gateways ?? gateway;
    // each written gateway but the first, and the host behind them, are reached through a gateway
    const host = await this.#hop(spec.endpoint, this.#options.port, (written?.length ?? 0) > 0);
    const gateways =
      written !== undefined
        ? await Promise.all(written.map((hop, index) => this.#hop(hop, undefined, index > 0)))
        : (host.config?.jump ?? []).map((hop) => this.#jumpHop(hop));
    return { text: spec.text, gateways, host };
  }
}

/** The gateway chain of `-g` (`user@gw`, or `a->b`). */
function parseGatewayOption(text: string): EndpointSpec[] {
  const specs = parseTargets(text);
  const spec = specs[0];
  if (specs.length !== 1 || spec === undefined) {
    throw new TargetError(text, '-g expects one gateway, [user@]host[:port] (or a chain a->b)');
  }
  if (spec.gateways !== undefined && spec.gateways.length === 0) {
    throw new TargetError(text, '-g does not take None->: leave -g out for direct connections');
  }
  return [...(spec.gateways ?? []), spec.endpoint];
}

/** Whether an exclusion names this target: its host (as written or resolved), and its user and port if written. */
function excludes(exclusion: TargetSpec, target: Target): boolean {
  const { host, user, port } = exclusion.endpoint;
  if (host !== target.host.alias && host !== target.host.hostname) return false;
  if (user !== undefined && user !== target.host.user) return false;
  return port === undefined || port === target.host.port;
}

/** The outcome of {@link resolveTargets}. */
export interface ResolvedTargets {
  /** The targets to run on, in the order given, each once. */
  readonly selected: Target[];
  /** The targets that an exclusion removed. */
  readonly excluded: Target[];
}

/**
 * Resolves targets and applies exclusions. Exclusions match on what they name: `fit03` excludes
 * fit03 whoever logs in, `bob@fit03` only bob's, `fit03:2222` only that port; gateways do not matter.
 * @throws TargetError for a bad -g; SshError for an ssh config that cannot be resolved
 */
export async function resolveTargets(
  targets: readonly TargetSpec[],
  exclusions: readonly TargetSpec[],
  options: ResolveOptions = {},
): Promise<ResolvedTargets> {
  const resolver = new Resolver(options);
  const gateway = options.gateway === undefined ? undefined : parseGatewayOption(options.gateway);
  const all = await Promise.all(targets.map((spec) => resolver.target(spec, gateway)));
  const seen = new Set<string>();
  const selected: Target[] = [];
  const excluded: Target[] = [];
  for (const target of all) {
    const key = targetText(target);
    if (seen.has(key)) continue;
    seen.add(key);
    if (exclusions.some((exclusion) => excludes(exclusion, target))) excluded.push(target);
    else selected.push(target);
  }
  return { selected, excluded };
}
