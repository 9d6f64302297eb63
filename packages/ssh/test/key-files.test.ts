/**
 * A key file given to many nodes by its path is read and parsed once per process (issue 14: 50
 * nodes, one parse), again when the file changes; a failed load is not kept. Real key files made
 * by ssh-keygen; a transport that counts the parses around ssh2's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKeys } from '../src/keys.js';
import { lazySsh2Transport } from '../src/transport/lazy-ssh2.js';
import type { Transport } from '../src/transport/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'jobgraph-key-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newKey(name: string, passphrase = ''): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]);
  return path;
}

function countingTransport(): { transport: Transport; parses: () => number } {
  let parses = 0;
  const transport = {
    ...lazySsh2Transport,
    parseKey: (data: Buffer | string, passphrase: string | undefined, source: string) => {
      parses++;
      return lazySsh2Transport.parseKey(data, passphrase, source);
    },
  } as Transport;
  return { transport, parses: () => parses };
}

describe('key files given by path', () => {
  it('are parsed once for every node that names them, and again when the file changes', async () => {
    const path = newKey('shared');
    const { transport, parses } = countingTransport();
    const keys = await Promise.all(Array.from({ length: 50 }, () => resolveKeys([path], transport)));
    expect(parses()).toBe(1);
    expect(new Set(keys.map(([key]) => key)).size).toBe(1);
    // a new key in the same file: read again
    newKey('shared');
    const [again] = await resolveKeys([path], transport);
    expect(parses()).toBe(2);
    expect(again).not.toBe(keys[0]?.[0]);
  });

  it('keeps passphrases apart, and keeps no failed load', async () => {
    const path = newKey('locked', 'right phrase');
    const { transport, parses } = countingTransport();
    await expect(resolveKeys([{ path, passphrase: 'wrong' }], transport)).rejects.toMatchObject({
      code: 'ERR_SSH_KEY',
    });
    await expect(resolveKeys([{ path, passphrase: 'wrong' }], transport)).rejects.toMatchObject({
      code: 'ERR_SSH_KEY',
    });
    expect(parses()).toBe(2);
    const [first] = await resolveKeys([{ path, passphrase: 'right phrase' }], transport);
    const [second] = await resolveKeys([{ path, passphrase: 'right phrase' }], transport);
    expect(second).toBe(first);
    expect(parses()).toBe(3);
  });

  it('are parsed by each transport for itself', async () => {
    const path = newKey('two-transports');
    const a = countingTransport();
    const b = countingTransport();
    await resolveKeys([path], a.transport);
    await resolveKeys([path], b.transport);
    await resolveKeys([path], a.transport);
    expect([a.parses(), b.parses()]).toEqual([1, 1]);
  });
});
