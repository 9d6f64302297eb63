/**
 * Host-key verification against an OpenSSH `known_hosts` file: plain and hashed
 * (`|1|salt|hash`) host names, `[host]:port` for other ports, wildcards and negated
 * patterns, `@revoked` keys (`@cert-authority` lines are ignored: ssh2 has no
 * certificates). Three policies: `strict` (unknown hosts refused), `accept-new`
 * (unknown hosts accepted and recorded, changed keys refused), `off`.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { readBoundedSync } from '@jobgraph/core';
import { messageOf, SshError, SshErrorCode } from './errors.js';

/** What to do with the server's host key. */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

interface KnownHostLine {
  readonly patterns: readonly string[];
  readonly keyType: string;
  readonly key: Buffer;
  readonly revoked: boolean;
  readonly line: number;
}

const cache = new Map<string, { mtimeMs: number; size: number; lines: KnownHostLine[] }>();

function parseKnownHosts(text: string): KnownHostLine[] {
  const entries: KnownHostLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    if (marker === '@cert-authority') return;
    const [hosts, keyType, keyText] = fields;
    if (hosts === undefined || keyType === undefined || keyText === undefined) return;
    const key = Buffer.from(keyText, 'base64');
    // a line whose key is not one (bad base64, cut, or another type than it says) is skipped, as
    // OpenSSH skips it: read as a key, it made the host's real key look "changed"
    if (keyTypeOf(key) !== keyType) return;
    entries.push({
      patterns: hosts.split(','),
      keyType,
      key,
      revoked: marker === '@revoked',
      line: index + 1,
    });
  });
  return entries;
}

/** The largest known_hosts file read (a line is ~100 bytes: ~600,000 hosts). */
const MAX_KNOWN_HOSTS_BYTES = 64 * 1024 * 1024;

function readKnownHosts(path: string): KnownHostLine[] {
  let stats: { mtimeMs: number; size: number };
  try {
    stats = statSync(path);
  } catch {
    return [];
  }
  const cached = cache.get(path);
  if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached.lines;
  let text: string;
  try {
    text = readBoundedSync(path, MAX_KNOWN_HOSTS_BYTES).toString('utf8');
  } catch (error) {
    throw new SshError(
      SshErrorCode.HOST_KEY,
      `Cannot read the known_hosts file ${path}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  const lines = parseKnownHosts(text);
  cache.set(path, { mtimeMs: stats.mtimeMs, size: stats.size, lines });
  return lines;
}

/** The name OpenSSH records for a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  // plain names (most lines) need no regex: building one per line cost 4 ms per connection with 500 lines
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  const regex = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()|{}[\]]/g, '\\$&')))
      .join('')}$`,
    'i',
  );
  return regex.test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (salt === undefined || hash === undefined) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  return wildcardMatch(pattern, name);
}

function hostMatches(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), name)) return false;
    } else if (patternMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`…). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's `SHA256:…` fingerprint of a public key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** What the file says about a key: `known`, `unknown`, `changed` (another key of that type), `revoked`. */
export type HostKeyStatus =
  | { readonly status: 'known' | 'unknown' }
  | { readonly status: 'changed' | 'revoked'; readonly line: number };

/** Looks `key` up for `host:port` in the known_hosts file at `path`. */
export function checkHostKey(path: string, host: string, port: number, key: Buffer): HostKeyStatus {
  const name = knownHostName(host, port);
  const type = keyTypeOf(key);
  let changedLine: number | undefined;
  for (const entry of readKnownHosts(path)) {
    if (!hostMatches(entry.patterns, name)) continue;
    if (entry.revoked) {
      if (entry.key.equals(key)) return { status: 'revoked', line: entry.line };
      continue;
    }
    if (entry.keyType !== type) continue;
    if (entry.key.equals(key)) return { status: 'known' };
    changedLine ??= entry.line;
  }
  return changedLine === undefined ? { status: 'unknown' } : { status: 'changed', line: changedLine };
}

/** Appends `host:port key` to the known_hosts file, creating it (and its directory) if needed. */
export function recordHostKey(path: string, host: string, port: number, key: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, `${knownHostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, {
    mode: 0o600,
  });
}

/**
 * Applies a policy: returns undefined to accept the key, or an Error whose message says
 * why it is refused and how to fix it.
 */
export function verifyHostKey(
  policy: HostKeyPolicy,
  knownHostsPath: string,
  host: string,
  port: number,
  key: Buffer,
): Error | undefined {
  if (policy === 'off') return undefined;
  const found = checkHostKey(knownHostsPath, host, port, key);
  const name = knownHostName(host, port);
  const offered = `${keyTypeOf(key)} ${fingerprint(key)}`;
  switch (found.status) {
    case 'known':
      return undefined;
    case 'revoked':
      return new Error(
        `host key ${offered} of ${name} is marked @revoked in ${knownHostsPath}:${found.line}`,
      );
    case 'changed':
      return new Error(
        `host key of ${name} has changed: the server offers ${offered}, ${knownHostsPath}:${found.line} has another one (refused; if the change is expected, run: ssh-keygen -R '${name}' -f ${knownHostsPath})`,
      );
    case 'unknown':
      if (policy === 'strict') {
        return new Error(
          `host key of ${name} is not in ${knownHostsPath} (hostKeyPolicy 'strict'; server offers ${offered})`,
        );
      }
      try {
        recordHostKey(knownHostsPath, host, port, key);
      } catch (error) {
        return new Error(
          `cannot record the new host key of ${name} in ${knownHostsPath}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return undefined;
  }
}
