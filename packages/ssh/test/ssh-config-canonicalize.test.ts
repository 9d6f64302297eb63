/**
 * CanonicalizeHostName's lookups, with a lookup function standing for DNS (no real DNS
 * here; ssh-config-openssh.test.ts compares the answers that need none with ssh -G): a
 * name ending with a dot, and the bound on each lookup, under fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CANONICAL_LOOKUP_TIMEOUT,
  canonicalHostName,
  type NameLookup,
} from '../src/ssh-config/canonicalize.js';
import { ConfigProblem } from '../src/ssh-config/problem.js';
import type { Settings } from '../src/ssh-config/settings.js';

/** Settings asking for canonicalization with these domains. */
function canonicalizing(domains: string[], fallback = true): Settings {
  return {
    identityFiles: [],
    canonicalize: 'yes',
    canonicalDomains: domains,
    canonicalizeFallbackLocal: fallback,
  };
}

/** A lookup that resolves the names given and refuses the others, recording what it was asked. */
function knownNames(...names: string[]): NameLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    timeout: CANONICAL_LOOKUP_TIMEOUT,
    lookup: async (name) => {
      asked.push(name);
      if (!names.includes(name)) throw Object.assign(new Error(`${name}: not found`), { code: 'ENOTFOUND' });
      return { address: '192.0.2.1', family: 4 };
    },
  };
}

describe('canonicalHostName: a name ending with a dot', () => {
  it('is looked up as it is, without suffixes, and loses its dot when it resolves', async () => {
    const dns = knownNames('web.lab.');
    expect(await canonicalHostName('web.lab.', canonicalizing(['example.org']), dns)).toBe('web.lab');
    expect(dns.asked).toEqual(['web.lab.']);
  });

  it('is kept as written when it does not resolve, or refused without fallback', async () => {
    const dns = knownNames();
    expect(await canonicalHostName('gone.lab.', canonicalizing(['example.org']), dns)).toBe('gone.lab.');
    await expect(canonicalHostName('gone.lab.', canonicalizing(['example.org'], false), dns)).rejects.toThrow(
      ConfigProblem,
    );
    expect(dns.asked).toEqual(['gone.lab.', 'gone.lab.']);
  });

  it('tries the suffixes of a short name, fully qualified', async () => {
    const dns = knownNames('web.b.example.');
    const settings = canonicalizing(['a.example', 'b.example']);
    expect(await canonicalHostName('web', settings, dns)).toBe('web.b.example');
    expect(dns.asked).toEqual(['web.a.example.', 'web.b.example.']);
  });
});

describe('canonicalHostName: each lookup is bounded', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A lookup that never answers, telling each time it is asked. */
  function silentResolver() {
    const asked: string[] = [];
    let notify: (() => void) | undefined;
    const dns: NameLookup = {
      timeout: CANONICAL_LOOKUP_TIMEOUT,
      lookup: (name) => {
        asked.push(name);
        notify?.();
        return new Promise(() => undefined);
      },
    };
    /** Resolves once the lookup has been asked `count` times in all. */
    const askedTimes = (count: number) =>
      new Promise<void>((resolve) => {
        notify = () => {
          if (asked.length >= count) resolve();
        };
        notify();
      });
    return { dns, asked, askedTimes };
  }

  it('counts a lookup that does not answer within the bound as not resolved, domain after domain', async () => {
    vi.useFakeTimers();
    const { dns, asked, askedTimes } = silentResolver();
    let outcome: string | undefined;
    const canonical = canonicalHostName('web', canonicalizing(['a.example', 'b.example']), dns).then(
      (name) => {
        outcome = name;
      },
    );
    await askedTimes(1);
    await vi.advanceTimersByTimeAsync(CANONICAL_LOOKUP_TIMEOUT - 1);
    expect(asked).toEqual(['web.a.example.']);
    await vi.advanceTimersByTimeAsync(1);
    await askedTimes(2);
    expect(asked).toEqual(['web.a.example.', 'web.b.example.']);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(CANONICAL_LOOKUP_TIMEOUT);
    await canonical;
    // neither resolved: the name as it is (CanonicalizeFallbackLocal yes)
    expect(outcome).toBe('web');
  });

  it('refuses the name after the bound without fallback, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { dns, askedTimes } = silentResolver();
    const canonical = canonicalHostName('web.', canonicalizing([], false), dns);
    const refused = expect(canonical).rejects.toThrow(
      /cannot canonicalize host "web\." .*CanonicalizeFallbackLocal is no/,
    );
    await askedTimes(1);
    await vi.advanceTimersByTimeAsync(CANONICAL_LOOKUP_TIMEOUT);
    await refused;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer when the lookup answers first', async () => {
    vi.useFakeTimers();
    const dns = knownNames('web.a.example.');
    expect(await canonicalHostName('web', canonicalizing(['a.example']), dns)).toBe('web.a.example');
    expect(vi.getTimerCount()).toBe(0);
  });
});
