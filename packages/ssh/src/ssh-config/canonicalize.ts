/**
 * CanonicalizeHostName, as ssh's resolve_canonicalize does it between its two passes: a
 * name with few dots is tried with each CanonicalDomains suffix in DNS, and the first that
 * resolves replaces it (then the final pass matches `Host` lines against it); a name
 * ending with a dot is looked up as it is.
 *
 * Each lookup is bounded (5 s): a resolver that never answers would otherwise hold the
 * resolution ~20 s per domain, and a command over many targets unboundedly. A lookup that
 * times out counts as "does not resolve" (Node cannot cancel getaddrinfo: the lookup goes on
 * in libuv's thread pool until the resolver gives up, but nobody waits for it).
 *
 * Differences kept: CanonicalizePermittedCNAMEs is not followed (Node's lookup does not
 * report CNAMEs), and an address is left as written, where ssh rewrites it in its
 * canonical form (`127.1` → `127.0.0.1`).
 */
import { ConfigProblem, show } from './problem.js';
import type { Settings } from './settings.js';

/** How long one lookup may take before it counts as "does not resolve", in ms. */
export const CANONICAL_LOOKUP_TIMEOUT = 5_000;

/** How canonicalization looks names up (tests substitute their own). */
export interface NameLookup {
  /** Fulfils when the fully qualified `name` (ending with a dot) resolves; rejects when it does not. */
  readonly lookup: (name: string) => Promise<unknown>;
  /** The bound on one lookup, in ms: one that takes longer counts as "does not resolve". */
  readonly timeout: number;
}

/** getaddrinfo, as ssh (node:dns is loaded here: only a config asking for canonicalization pays for it). */
const systemLookup: NameLookup = {
  lookup: async (name) => (await import('node:dns/promises')).lookup(name),
  timeout: CANONICAL_LOOKUP_TIMEOUT,
};

/**
 * Whether a fully qualified name resolves (its trailing dot keeps resolv.conf's search list
 * out), within `dns.timeout`; the timer does not keep the process alive.
 */
async function resolves(fqdn: string, dns: NameLookup): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, dns.timeout, false);
    timer.unref?.();
  });
  const looked = (async () => dns.lookup(fqdn))().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([looked, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The host name after canonicalization: `host` unchanged when the config does not ask for
 * it, when the connection goes through a ProxyJump or ProxyCommand — the config's or one the
 * caller gives (unless `always`) — for an address, or a name with more dots than
 * CanonicalizeMaxDots (1). A name ending with a dot is looked up as it is, and loses its dot
 * when it resolves.
 * @param host - lower-cased, as ssh lower-cases it before canonicalizing
 * @param dns - how names are looked up @default getaddrinfo, 5 s per lookup
 * @throws ConfigProblem when nothing resolves and CanonicalizeFallbackLocal is no
 */
export async function canonicalHostName(
  host: string,
  settings: Settings,
  dns: NameLookup = systemLookup,
): Promise<string> {
  const mode = settings.canonicalize ?? 'no';
  if (mode === 'no') return host;
  const proxied =
    (settings.proxyJump !== undefined && settings.proxyJump.value !== 'none') ||
    (settings.proxyCommand !== undefined && settings.proxyCommand.value !== 'none');
  if (proxied && mode !== 'always') return host;
  // loaded here: only a config asking for canonicalization pays for it
  const { isIP } = await import('node:net');
  if (isIP(host) !== 0) return host;
  let tried: string;
  if (host.endsWith('.')) {
    // fully qualified: no suffix is tried, and ssh uses it without its dot
    if (await resolves(host, dns)) return host.slice(0, -1);
    tried = 'a fully qualified name, looked up as it is';
  } else {
    if ((host.match(/\./g)?.length ?? 0) > (settings.canonicalizeMaxDots ?? 1)) return host;
    const domains = settings.canonicalDomains ?? [];
    for (const domain of domains) {
      const name = `${host}.${domain}`;
      if (await resolves(`${name}.`, dns)) return name;
    }
    tried = domains.length === 0 ? 'no CanonicalDomains' : `CanonicalDomains ${domains.join(' ')}`;
  }
  if (settings.canonicalizeFallbackLocal === false) {
    throw new ConfigProblem(
      `cannot canonicalize host ${show(host)} (${tried}) and CanonicalizeFallbackLocal is no`,
    );
  }
  return host;
}
