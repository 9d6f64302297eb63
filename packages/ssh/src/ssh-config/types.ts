/**
 * The answer of resolveSshConfig, in a module of its own so that the modules computing it
 * and the public entry point (../ssh-config.ts, which re-exports it) import it downwards.
 */

/** What OpenSSH would use to reach one host, according to the config. */
export interface ResolvedHost {
  /** The name looked up in the config (the `Host` patterns are matched against it). */
  alias: string;
  /** `HostName` with `%h` expanded, else the alias; lower-cased as ssh does (IP addresses included). */
  hostname: string;
  /** `User`, or the user of a `user@host` ProxyJump item; undefined when the config says nothing. */
  user: string | undefined;
  /** `Port`, or the port of a `host:port` ProxyJump item. */
  port: number | undefined;
  /** Every applicable `IdentityFile`, in order, `~`, `${VAR}` and `%` tokens expanded, duplicates removed. */
  identityFiles: string[];
  /** `IdentitiesOnly yes`: offer only these files, not every key of the agent. */
  identitiesOnly: boolean;
  /** The first file of `UserKnownHostsFile`, expanded (`none` gives `/dev/null`). */
  userKnownHostsFile: string | undefined;
  /** `StrictHostKeyChecking`: yes and ask → strict, accept-new → accept-new, no and off → off. */
  strictHostKeyChecking: 'strict' | 'accept-new' | 'off' | undefined;
  /** `ConnectTimeout`, converted to ms (0 in the config gives undefined: ssh's "no limit" is not ours). */
  connectTimeout: number | undefined;
  /** `HostKeyAlias`: the host key's name in known_hosts, instead of the host and port. */
  hostKeyAlias?: string | undefined;
  /**
   * The ProxyJump route, outermost (first) hop first, each hop resolved through its own
   * Host blocks, as ssh does with `-J`. Each hop's own `jump` is the route to that hop
   * (the hops before it). Empty for a direct connection.
   */
  jump: ResolvedHost[];
}
