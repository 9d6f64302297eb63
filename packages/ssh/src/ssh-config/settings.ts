/**
 * Settings: what the lines that apply say about one host, the first value of each keyword
 * winning (ssh_config(5)), every value checked even where it does not apply (as ssh does).
 */
import { checkKeyword } from './keywords.js';
import type { ConfigLine } from './lexer.js';
import { ConfigProblem, show, type Where } from './problem.js';
import { type JumpItem, parseProxyJump } from './proxy-jump.js';
import type { ResolvedHost } from './types.js';
import { parseFlag, parsePort, parseSeconds, parseStrictHostKeyChecking, single } from './values.js';

/** A value with the line it came from, for later expansion errors. */
export interface Placed<T> {
  readonly value: T;
  readonly where: Where | undefined;
}

/** What the applicable lines have set so far for one host. */
export interface Settings {
  hostname?: Placed<string>;
  user?: string;
  port?: number;
  identityFiles: Placed<string>[];
  identitiesOnly?: boolean;
  knownHosts?: Placed<string>;
  strictHostKeyChecking?: ResolvedHost['strictHostKeyChecking'];
  connectTimeout?: number;
  /** `HostKeyAlias`: the `%k` token, and the host key's name in known_hosts. */
  hostKeyAlias?: string;
  /** `CanonicalizeHostName`: other than no, ssh canonicalizes the host name, then makes a final pass. */
  canonicalize?: 'no' | 'yes' | 'always';
  /** `CanonicalDomains`: the suffixes tried. */
  canonicalDomains?: readonly string[];
  /** `CanonicalizeMaxDots`: names with more dots are left alone. */
  canonicalizeMaxDots?: number;
  /** `CanonicalizeFallbackLocal`: whether a name no suffix resolves is used as it is (else refused). */
  canonicalizeFallbackLocal?: boolean;
  /** ProxyJump's slot: a chain, 'none', or 'given' when the route was fixed by the caller (ssh -J). */
  proxyJump?: Placed<readonly JumpItem[] | 'none' | 'given'>;
  /** ProxyCommand's slot; ProxyJump fills it with 'none' (the two compete: the first one written wins). */
  proxyCommand?: Placed<string>;
  /** `IgnoreUnknown`: the pattern list of unknown keywords to skip rather than refuse (the first one set). */
  ignoreUnknown?: string;
}

/**
 * Applies one setting line. Its value is checked even when the line does not apply or
 * comes too late (ssh rejects a bad value anywhere), and kept only if the line applies
 * and nothing set it before. Keywords that mean nothing to a node are ignored; a keyword
 * ssh does not know is refused unless `IgnoreUnknown` lists it.
 * @throws ConfigProblem for a bad value or an unknown keyword
 */
export function applySetting(line: ConfigLine, settings: Settings, active: boolean): void {
  switch (line.keyword) {
    case 'hostname': {
      const value = single(line);
      if (active) settings.hostname ??= { value, where: line };
      return;
    }
    case 'user': {
      const value = single(line);
      if (active) settings.user ??= value;
      return;
    }
    case 'port': {
      const value = parsePort(single(line), line, 'Port');
      if (active) settings.port ??= value;
      return;
    }
    case 'identityfile': {
      // the one keyword here that accumulates: every IdentityFile that applies is tried
      const value = single(line);
      if (active) settings.identityFiles.push({ value, where: line });
      return;
    }
    case 'identitiesonly': {
      const value = parseFlag(line);
      if (active) settings.identitiesOnly ??= value;
      return;
    }
    case 'userknownhostsfile': {
      if (line.args.includes('')) {
        throw new ConfigProblem(`empty argument after keyword ${show(line.keyword)}`, line);
      }
      // several files may be listed; a node checks one, the first
      const value = line.args[0] as string;
      if (active) settings.knownHosts ??= { value, where: line };
      return;
    }
    case 'stricthostkeychecking': {
      const value = parseStrictHostKeyChecking(line);
      if (active) settings.strictHostKeyChecking ??= value;
      return;
    }
    case 'connecttimeout': {
      const value = parseSeconds(line);
      if (active) settings.connectTimeout ??= value;
      return;
    }
    case 'hostkeyalias': {
      const value = single(line);
      if (active) settings.hostKeyAlias ??= value;
      return;
    }
    case 'canonicalizehostname': {
      const value = single(line).toLowerCase();
      if (value !== 'yes' && value !== 'no' && value !== 'always' && value !== 'true' && value !== 'false') {
        throw new ConfigProblem(`CanonicalizeHostName must be yes, no or always, not ${show(value)}`, line);
      }
      if (active) settings.canonicalize ??= value === 'false' ? 'no' : value === 'true' ? 'yes' : value;
      return;
    }
    case 'canonicaldomains': {
      const domains = line.args.map((domain) => {
        if (!/^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/i.test(domain)) {
          throw new ConfigProblem(`bad domain ${show(domain)} in CanonicalDomains`, line);
        }
        return domain;
      });
      if (active) settings.canonicalDomains ??= domains;
      return;
    }
    case 'canonicalizemaxdots': {
      const value = single(line);
      if (!/^\d+$/.test(value)) {
        throw new ConfigProblem(`CanonicalizeMaxDots must be a number, not ${show(value)}`, line);
      }
      if (active) settings.canonicalizeMaxDots ??= Number(value);
      return;
    }
    case 'canonicalizefallbacklocal': {
      const value = parseFlag(line);
      if (active) settings.canonicalizeFallbackLocal ??= value;
      return;
    }
    case 'proxyjump': {
      const value = parseProxyJump(line);
      if (!active || settings.proxyJump !== undefined) return;
      if (value === 'none') {
        settings.proxyJump = { value, where: line };
      } else if (settings.proxyCommand === undefined) {
        // a jump also takes ProxyCommand's place, so a later ProxyCommand is ignored
        settings.proxyJump = { value, where: line };
        settings.proxyCommand = { value: 'none', where: line };
      }
      return;
    }
    case 'proxycommand': {
      if (active) settings.proxyCommand ??= { value: line.rest, where: line };
      return;
    }
    case 'ignoreunknown': {
      const value = single(line);
      if (active) settings.ignoreUnknown ??= value;
      return;
    }
    default:
      // every other keyword ssh knows means nothing to a node: ignored; one it does not know is refused, as ssh does
      checkKeyword(line.keyword, settings.ignoreUnknown, line);
      return;
  }
}
