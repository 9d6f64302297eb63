/**
 * Reading known_hosts (known-hosts.ts) without a server: a line whose key is not one (bad base64,
 * cut, another type than it says) is skipped as OpenSSH skips it — read as a key, it made the
 * host's real key look "changed", which reads as an attack; a file that never ends is an error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHostKey } from '../src/known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'jobgraph-known-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An SSH public key blob: the type, then bytes standing for the key. */
function blob(type: string, fill: number): Buffer {
  const name = Buffer.from(type, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, fill)]);
}

describe('checkHostKey', () => {
  const key = blob('ssh-ed25519', 1);
  const other = blob('ssh-ed25519', 2);

  it('skips lines whose key is not one; a real other key of the type is still "changed"', () => {
    const path = join(dir, 'known_hosts');
    writeFileSync(
      path,
      [
        '[127.0.0.1]:2222 ssh-ed25519 notbase64!!!',
        `[127.0.0.1]:2222 ssh-ed25519 ${blob('ssh-rsa', 3).toString('base64')}`,
        '[127.0.0.1]:2222 ssh-ed25519 AAAA',
        '',
      ].join('\n'),
    );
    expect(checkHostKey(path, '127.0.0.1', 2222, key)).toEqual({ status: 'unknown' });
    writeFileSync(
      path,
      `[127.0.0.1]:2222 ssh-ed25519 notbase64!!!\n[127.0.0.1]:2222 ssh-ed25519 ${other.toString('base64')}\n`,
    );
    expect(checkHostKey(path, '127.0.0.1', 2222, key)).toEqual({ status: 'changed', line: 2 });
    writeFileSync(path, `[127.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkHostKey(path, '127.0.0.1', 2222, key)).toEqual({ status: 'known' });
  });

  it('a known_hosts that never ends (/dev/zero) is an error that names it', () => {
    expect(() => checkHostKey('/dev/zero', 'h', 22, key)).toThrow(
      /^Cannot read the known_hosts file \/dev\/zero: larger than 64 MiB \(a device or a pipe\?\)$/,
    );
  });
});
