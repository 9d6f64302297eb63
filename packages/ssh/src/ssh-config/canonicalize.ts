/**
 * CanonicalizeHostName, as ssh's resolve_canonicalize does it between its two passes: a
 * name with few dots is tried with each CanonicalDomains suffix in DNS, and the first that
 * resolves replaces it (then the final pass matches `Host` lines against it).
 * CanonicalizePermittedCNAMEs is not followed: Node's lookup does not report CNAMEs.
 */
import { ConfigProblem, show } from './problem.js';
import type { Settings } from './settings.js';

/** Whether a name resolves (getaddrinfo, as ssh; the trailing dot keeps resolv.conf's search list out). */
async function resolves(name: string): Promise<boolean> {
  const { lookup } = await import('node:dns/promises');
  try {
    await lookup(`${name}.`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The host name after canonicalization: `host` unchanged when the config does not ask for
 * it, when the connection goes through a ProxyJump or ProxyCommand (unless `always`), for an
 * address, a name ending with a dot, or one with more dots than CanonicalizeMaxDots (1).
 * @throws ConfigProblem when no suffix resolves and CanonicalizeFallbackLocal is no
 */
export async function canonicalHostName(host: string, settings: Settings): Promise<string> {
  const mode = settings.canonicalize ?? 'no';
  if (mode === 'no') return host;
  const proxied =
    (settings.proxyJump !== undefined && settings.proxyJump.value !== 'none') ||
    (settings.proxyCommand !== undefined && settings.proxyCommand.value !== 'none');
  if (proxied && mode !== 'always') return host;
  // loaded here, as node:dns below: only a config asking for canonicalization pays for them
  const { isIP } = await import('node:net');
  if (isIP(host) !== 0 || host.endsWith('.')) return host;
  if ((host.match(/\./g)?.length ?? 0) > (settings.canonicalizeMaxDots ?? 1)) return host;
  const domains = settings.canonicalDomains ?? [];
  for (const domain of domains) {
    const name = `${host}.${domain}`;
    if (await resolves(name)) return name;
  }
  if (settings.canonicalizeFallbackLocal === false) {
    const tried = domains.length === 0 ? 'no CanonicalDomains' : `CanonicalDomains ${domains.join(' ')}`;
    throw new ConfigProblem(
      `cannot canonicalize host ${show(host)} (${tried}) and CanonicalizeFallbackLocal is no`,
    );
  }
  return host;
}
