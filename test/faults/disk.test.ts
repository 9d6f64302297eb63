/**
 * Fault matrix, the remote disk: a full file system and a read-only one, as tmpfs mounts that only
 * an sshd of our own sees (it runs in a private mount namespace, gone with it). Push fails with a
 * one-line ERR naming the node and the path; the healthy job goes on; the connection is released.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Push, Run, SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  connectionsTo,
  type OwnSshd,
  portFor,
  type RecordingFormatter,
  runPair,
  startSshd,
  trapUnhandledRejections,
  until,
} from './harness.js';

trapUnhandledRejections();

let dir = '';
let sshd: OwnSshd;
let big = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jgfault-disk-'));
  await mkdir(join(dir, 'full'));
  await mkdir(join(dir, 'ro'));
  big = join(dir, 'big');
  await writeFile(big, Buffer.alloc(1 << 20, 1));
  sshd = await startSshd({
    like: 'loopback',
    port: portFor(8),
    mountSetup: `mount -t tmpfs -o size=64k tmpfs ${dir}/full && mount -t tmpfs -o ro,size=64k tmpfs ${dir}/ro`,
  });
});
afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function node(): SshNode {
  return new SshNode({ hostname: sshd.host, port: sshd.port, ...access({ knownHosts: sshd.knownHosts }) });
}

describe('fault matrix: the remote disk', () => {
  it('disk full: Push fails with ERR_SFTP naming the node and the path; the healthy job goes on', async () => {
    const target = join(dir, 'full', 'big');
    const faulty = node();
    const out = await runPair(
      faulty,
      [new Run('echo before'), new Push(big, target), new Run('echo never')],
      {
        limit: 20_000,
      },
    );
    if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${out.message}\n`);
    expect(out.ok).toBe(true);
    expect(out.error).toMatchObject({ code: 'ERR_SFTP' });
    expect(out.message).toContain(`root@127.0.0.1:${sshd.port}`);
    expect(out.message).toContain(target);
    // OpenSSH's SFTP (protocol 3) answers ENOSPC and EROFS alike with SSH_FX_FAILURE: the message
    // names the likely causes
    expect(out.message).toBe(
      `Push of ${big} to ${target} on root@127.0.0.1:${sshd.port} failed: refused by the server (a missing directory, a file where a directory is expected, a full disk?)`,
    );
    expect(out.healthyResult).toBe(0);
    // the command after the failed Push did not run
    expect((faulty.formatter as RecordingFormatter).stdout()).toBe('before\n');
    // no partial file is left under the final name (nor a temporary): the tmpfs is empty again
    const probe = node();
    expect(await probe.fs.readdir(join(dir, 'full'))).toEqual([]);
    await probe.close();
    await until('the connection released', async () => (await sshd.served()).length === 0, 5_000);
    expect(await connectionsTo(sshd.host, sshd.port)).toBe(0);
  });

  it('path not writable (read-only file system): Push fails with ERR_SFTP naming the node and the path', async () => {
    const target = join(dir, 'ro', 'file');
    const out = await runPair(node(), [new Push(big, target)], { limit: 20_000 });
    if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${out.message}\n`);
    expect(out.error).toMatchObject({ code: 'ERR_SFTP' });
    expect(out.message).toContain(`root@127.0.0.1:${sshd.port}`);
    expect(out.message).toContain(target);
    expect(out.healthyResult).toBe(0);
    await until('the connection released', async () => (await sshd.served()).length === 0, 5_000);
    expect(await connectionsTo(sshd.host, sshd.port)).toBe(0);
  });
});
