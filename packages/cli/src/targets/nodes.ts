/**
 * The SshNodes of resolved targets. Gateways are shared: forty targets behind one gateway make one
 * connection to it (each target is a tunnel on it), as apssh does.
 */
import {
  configNodeOptions,
  type Formatter,
  type HostKeyPolicy,
  type PrivateKey,
  type ResolvedHost,
  SshNode,
  type SshNodeOptions,
} from '@jobgraph/ssh';
import { type Hop, hopText, type Target } from './resolve.js';

/** What the command line says of every node; what is left undefined comes from the ssh config or the defaults. */
export interface NodeSettings {
  /** `-k`: exactly these keys (and not the agent's). */
  readonly keys?: readonly PrivateKey[] | undefined;
  readonly knownHosts?: string | undefined;
  readonly hostKeyPolicy?: HostKeyPolicy | undefined;
  /** In ms. */
  readonly connectTimeout?: number | undefined;
  readonly formatter: Formatter;
  readonly verbose: boolean;
}

/** Builds nodes, each gateway chain once. */
export class NodeFactory {
  readonly #settings: NodeSettings;
  readonly #nodes = new Map<string, SshNode>();
  /** Per resolved config host: its keys are read once, however many targets use it. */
  readonly #fromConfig = new Map<ResolvedHost, ReturnType<typeof configNodeOptions>>();

  constructor(settings: NodeSettings) {
    this.#settings = settings;
  }

  #configOptions(host: ResolvedHost, user: string): ReturnType<typeof configNodeOptions> {
    let options = this.#fromConfig.get(host);
    if (options === undefined) {
      options = configNodeOptions(host, user);
      this.#fromConfig.set(host, options);
    }
    return options;
  }

  async #options(hop: Hop): Promise<SshNodeOptions> {
    const settings = this.#settings;
    const options: SshNodeOptions = {
      ...(hop.config === undefined ? {} : await this.#configOptions(hop.config, hop.user)),
      hostname: hop.hostname,
      username: hop.user,
      port: hop.port,
      formatter: settings.formatter,
      verbose: settings.verbose,
    };
    if (settings.keys !== undefined) {
      options.keys = [...settings.keys];
      options.agent = false;
    }
    if (settings.knownHosts !== undefined) options.knownHosts = settings.knownHosts;
    if (settings.hostKeyPolicy !== undefined) options.hostKeyPolicy = settings.hostKeyPolicy;
    if (settings.connectTimeout !== undefined) options.connectTimeout = settings.connectTimeout;
    return options;
  }

  /** The node of a target, its gateways shared with the other targets that go through them. */
  async node(target: Target): Promise<SshNode> {
    let gateway: SshNode | undefined;
    let key = '';
    for (const hop of [...target.gateways, target.host]) {
      key = key === '' ? hopText(hop) : `${key}->${hopText(hop)}`;
      let node = this.#nodes.get(key);
      if (node === undefined) {
        node = new SshNode({ ...(await this.#options(hop)), ...(gateway === undefined ? {} : { gateway }) });
        this.#nodes.set(key, node);
      }
      gateway = node;
    }
    return gateway as SshNode;
  }

  /** Every node built, gateways included. */
  all(): SshNode[] {
    return [...this.#nodes.values()];
  }
}
