/**
 * `node.fs` against the real test bed: every call on an SshNode (the loopback sshd, over SFTP)
 * and on the LocalNode, from one table of cases run on both — the loopback sshd serves this
 * machine's disk, so both must give the very same answers and errors for the same paths.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode, type RemoteFs, SshError, SshNode } from '../src/index.js';
import { bed, common, loopbackNode } from './bed.js';

const local = new LocalNode({ formatter: { line: () => undefined, event: () => undefined } });
const remote = loopbackNode();
let dir: string;

/** The outcome of a call, comparable across nodes: its value, or its error's code and message. */
async function outcome(work: () => Promise<unknown>, node: { toString(): string }, base: string) {
  try {
    const value = await work();
    return { value: Buffer.isBuffer(value) ? `bytes:${value.toString('hex')}` : value };
  } catch (error) {
    if (!(error instanceof SshError)) throw error;
    expect(error.message).not.toContain('\n');
    return {
      code: error.code,
      message: error.message.replaceAll(node.toString(), 'NODE').replaceAll(base, 'DIR'),
    };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(bed.workDir, 'fs-'));
  writeFileSync(join(dir, 'a.txt'), 'hello\n', { mode: 0o644 });
  writeFileSync(join(dir, 'b.log'), 'b');
  writeFileSync(join(dir, '.hidden.log'), 'h');
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'sub', 'c.log'), 'c');
  writeFileSync(join(dir, 'sub', 'deep', 'd.log'), 'd');
  writeFileSync(join(dir, 'sub', 'deep', 'e.txt'), 'e');
  mkdirSync(join(dir, 'sub', '.git'));
  writeFileSync(join(dir, 'sub', '.git', 'x.log'), 'x');
  symlinkSync('sub', join(dir, 'link'));
  execFileSync('chmod', ['0644', join(dir, 'a.txt')]);
});
afterAll(async () => {
  await remote.close();
  rmSync(dir, { recursive: true, force: true });
});

type Case = [string, (fs: RemoteFs, d: string) => Promise<unknown>];
const readOnlyCases: Case[] = [
  ['exists: a file', (fs, d) => fs.exists(`${d}/a.txt`)],
  ['exists: missing', (fs, d) => fs.exists(`${d}/nope`)],
  ['exists: under a file', (fs, d) => fs.exists(`${d}/a.txt/x`)],
  ['stat: a file', async (fs, d) => ({ ...(await fs.stat(`${d}/a.txt`)), mtime: 'checked apart' })],
  ['stat: a symlink, followed', async (fs, d) => (await fs.stat(`${d}/link`)).type],
  [
    'isFile / isDirectory',
    async (fs, d) => [
      await fs.isFile(`${d}/a.txt`),
      await fs.isFile(`${d}/sub`),
      await fs.isDirectory(`${d}/sub`),
      await fs.isDirectory(`${d}/nope`),
    ],
  ],
  ['readFile', (fs, d) => fs.readFile(`${d}/a.txt`)],
  ['readText: utf-8', (fs, d) => fs.readText(`${d}/a.txt`)],
  ['readText: latin1', (fs, d) => fs.readText(`${d}/latin1.txt`, { encoding: 'latin1' })],
  ['readText: invalid utf-8 replaced', (fs, d) => fs.readText(`${d}/latin1.txt`)],
  ['readdir: names', (fs, d) => fs.readdir(d)],
  ['readdir: with types', (fs, d) => fs.readdir(`${d}`, { withTypes: true })],
  ['glob: *.log', (fs, d) => fs.glob('*.log', { cwd: d })],
  ['glob: **/*.log', (fs, d) => fs.glob('**/*.log', { cwd: d })],
  ['glob: ** with dot', (fs, d) => fs.glob('**/*.log', { cwd: d, dot: true })],
  ['glob: ?', (fs, d) => fs.glob('sub/?.log', { cwd: d })],
  ['glob: [...]', (fs, d) => fs.glob('**/[a-c].*', { cwd: d })],
  ['glob: sub/**', (fs, d) => fs.glob('sub/**', { cwd: d })],
  ['glob: nothing from dot directories without dot', (fs, d) => fs.glob('**/*.log', { cwd: `${d}/sub` })],
  ['glob: a dot directory named', (fs, d) => fs.glob('sub/.git/*', { cwd: d })],
  ['glob: braces', (fs, d) => fs.glob('**/*.{log,txt}', { cwd: d })],
  ['glob: absolute inside the base', (fs, d) => fs.glob(`${d}/sub/*.log`, { cwd: d })],
  ['glob: a literal directory that is not there', (fs, d) => fs.glob('nope/*.log', { cwd: d })],
  ['error: stat of a missing path', (fs, d) => fs.stat(`${d}/nope`)],
  ['error: readdir of a file', (fs, d) => fs.readdir(`${d}/a.txt`)],
  ['error: readdir under a file', (fs, d) => fs.readdir(`${d}/a.txt/x`)],
  ['error: readFile of a directory', (fs, d) => fs.readFile(`${d}/sub`)],
  ['error: readFile over maxBytes', (fs, d) => fs.readFile(`${d}/a.txt`, { maxBytes: 2 })],
  ['error: mkdir of an existing path', (fs, d) => fs.mkdir(`${d}/sub`)],
  ['error: mkdir under a file', (fs, d) => fs.mkdir(`${d}/a.txt/x`, { recursive: true })],
  ['error: rm of a directory without recursive', (fs, d) => fs.rm(`${d}/sub`)],
  ['error: rm of a missing path', (fs, d) => fs.rm(`${d}/nope`)],
  ['error: glob of a missing base', (fs, d) => fs.glob('*', { cwd: `${d}/nope` })],
  ['bad input: rm /', (fs) => fs.rm('/')],
  ['bad input: rm empty', (fs) => fs.rm('')],
  ['bad input: rm ..', (fs) => fs.rm('../..')],
  ['bad input: rm ./', (fs) => fs.rm('./')],
  ['bad input: glob with ..', (fs, d) => fs.glob('../*', { cwd: d })],
  ['bad input: glob with .. inside', (fs, d) => fs.glob('sub/../../*', { cwd: d })],
  ['bad input: glob absolute outside', (fs, d) => fs.glob('/etc/*', { cwd: d })],
  ['bad input: unknown encoding', (fs, d) => fs.readText(`${d}/a.txt`, { encoding: 'klingon' })],
  ['bad input: mode', (fs, d) => fs.chmod(`${d}/a.txt`, 0o17777)],
  ['bad input: empty path', (fs) => fs.readFile('')],
];

describe('node.fs: the same answers on an SshNode and the LocalNode', () => {
  it.each(readOnlyCases)('%s', async (_name, call) => {
    const there = await outcome(() => call(remote.fs, dir), remote, dir);
    const here = await outcome(() => call(local.fs, dir), local, dir);
    expect(there).toEqual(here);
    expect(there).toMatchSnapshot();
  });

  it('stat gives the same mtime as the local disk', async () => {
    expect((await remote.fs.stat(`${dir}/a.txt`)).mtime).toBe((await local.fs.stat(`${dir}/a.txt`)).mtime);
  });

  /** Changes made by the same calls on each node, in a directory of its own, then compared. */
  async function mutations(fs: RemoteFs, node: { toString(): string }, d: string) {
    const steps: unknown[] = [];
    const step = async (work: () => Promise<unknown>) => steps.push(await outcome(work, node, d));
    await step(() => fs.mkdir(`${d}/m/n/o`, { recursive: true }));
    await step(() => fs.mkdir(`${d}/m/n/o`, { recursive: true }));
    await step(() => fs.mkdir(`${d}/m/p`, { mode: 0o700 }));
    await step(() => fs.writeFile(`${d}/m/f.txt`, 'first'));
    await step(async () => (await fs.stat(`${d}/m/f.txt`)).mode);
    await step(() => fs.chmod(`${d}/m/f.txt`, 0o600));
    await step(() => fs.writeFile(`${d}/m/f.txt`, Buffer.from('second')));
    await step(async () => [(await fs.stat(`${d}/m/f.txt`)).mode, await fs.readText(`${d}/m/f.txt`)]);
    await step(() => fs.writeFile(`${d}/m/g.txt`, '', { mode: 0o640 }));
    await step(async () => [(await fs.stat(`${d}/m/g.txt`)).mode, await fs.readText(`${d}/m/g.txt`)]);
    await step(() => fs.writeFile(`${d}/m/n`, 'onto a directory'));
    await step(() => fs.writeFile(`${d}/nope/x.txt`, 'no parent'));
    await step(() => fs.rename(`${d}/m/g.txt`, `${d}/m/f.txt`));
    await step(() => fs.rename(`${d}/m/nope`, `${d}/m/x`));
    await step(() => fs.rename(`${d}/m/f.txt`, `${d}/m/n`));
    await step(() => fs.rm(`${d}/m/f.txt`));
    await step(() => fs.rm(`${d}/m/f.txt`, { force: true }));
    await step(() => fs.chmod(`${d}/m/nope`, 0o600));
    await step(() => fs.readdir(`${d}/m`, { withTypes: true }));
    await step(() => fs.rm(`${d}/m`, { recursive: true }));
    await step(() => fs.exists(`${d}/m`));
    return steps;
  }

  it('writeFile, mkdir, rename, chmod and rm change the tree alike', async () => {
    const there = mkdtempSync(join(bed.workDir, 'fs-ssh-'));
    const here = mkdtempSync(join(bed.workDir, 'fs-local-'));
    try {
      const remoteSteps = await mutations(remote.fs, remote, there);
      const localSteps = await mutations(local.fs, local, here);
      expect(remoteSteps).toEqual(localSteps);
      expect(remoteSteps).toMatchSnapshot();
      expect(readdirSync(there)).toEqual([]);
    } finally {
      rmSync(there, { recursive: true, force: true });
      rmSync(here, { recursive: true, force: true });
    }
  });
});

describe('node.fs: atomic writeFile', () => {
  it('a name of 250 bytes (the limit is 255): its temporary fits too, on both', async () => {
    const target = mkdtempSync(join(bed.workDir, 'fs-long-'));
    try {
      for (const node of [remote, local]) {
        const name = 'n'.repeat(250);
        await node.fs.writeFile(`${target}/${name}`, 'long');
        expect(await node.fs.readText(`${target}/${name}`)).toBe('long');
        rmSync(join(target, name));
      }
      expect(readdirSync(target)).toEqual([]);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('a directory where writing is not permitted: ERR_REMOTE_PERMISSION on both, nothing left', async () => {
    const locked = mkdtempSync(join(bed.workDir, 'fs-locked-'));
    writeFileSync(join(locked, 'keep.txt'), 'old');
    // root ignores permission bits: an immutable directory refuses even root (EPERM)
    execFileSync('chattr', ['+i', locked]);
    try {
      for (const node of [remote, local]) {
        const error = await node.fs.writeFile(`${locked}/keep.txt`, 'new').catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'ERR_REMOTE_PERMISSION' });
        expect((error as Error).message).toBe(
          `fs.writeFile on ${node}: ${locked}/keep.txt: permission denied`,
        );
      }
      expect(readdirSync(locked)).toEqual(['keep.txt']);
    } finally {
      execFileSync('chattr', ['-i', locked]);
      rmSync(locked, { recursive: true, force: true });
    }
  });

  it('aborted mid-write over SFTP: rejects with the reason, the target untouched, no temporary left', async () => {
    const target = mkdtempSync(join(bed.workDir, 'fs-abort-'));
    writeFileSync(join(target, 'big.bin'), 'old');
    const controller = new AbortController();
    const watcher = watch(target, (_event, name) => {
      if (name?.toString().endsWith('.tmp')) controller.abort(new Error('stopped by the test'));
    });
    try {
      const error = await remote.fs
        .writeFile(`${target}/big.bin`, Buffer.alloc(128 * 1024 * 1024, 1), { signal: controller.signal })
        .catch((caught: unknown) => caught);
      expect(controller.signal.aborted).toBe(true);
      expect(error).toMatchObject({ message: 'stopped by the test' });
      expect(readdirSync(target)).toEqual(['big.bin']);
      expect(await local.fs.readText(`${target}/big.bin`)).toBe('old');
      // the session still works
      expect(await remote.fs.readText(`${target}/big.bin`)).toBe('old');
    } finally {
      watcher.close();
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('a file of several chunks written over SFTP (writes in flight) reads back byte-identical on both', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    await remote.fs.writeFile(`${dir}/big.bin`, data);
    try {
      expect((await local.fs.readFile(`${dir}/big.bin`)).equals(data)).toBe(true);
      expect((await remote.fs.readFile(`${dir}/big.bin`)).equals(data)).toBe(true);
    } finally {
      await remote.fs.rm(`${dir}/big.bin`);
    }
  });

  it('a signal aborted before the call: nothing is done, on both', async () => {
    for (const node of [remote, local]) {
      const error = await node.fs
        .writeFile(`${dir}/never.txt`, 'x', { signal: AbortSignal.abort(new Error('no')) })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ message: 'no' });
    }
    expect(readdirSync(dir)).not.toContain('never.txt');
  });
});

describe('node.fs: a dropped connection', () => {
  let proxy: Server;
  const sockets: Socket[] = [];
  let forward = true;
  beforeAll(async () => {
    proxy = createServer((client) => {
      const server = createConnection(bed.loopback.port, '127.0.0.1');
      sockets.push(client, server);
      client.on('data', (data) => forward && server.write(data));
      server.on('data', (data) => forward && client.write(data));
      client.on('error', () => undefined);
      server.on('error', () => undefined);
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    proxy.close();
  });
  const proxied = (connectTimeout: number) =>
    new SshNode({
      hostname: '127.0.0.1',
      port: (proxy.address() as { port: number }).port,
      ...common({ hostKeyPolicy: 'off', connectTimeout, keepaliveInterval: 0 }),
    });

  it('closed during a call: the pending call rejects with ERR_REMOTE_IO, the connection lost', async () => {
    forward = true;
    const node = proxied(10_000);
    try {
      await node.fs.glob('*', { cwd: '/' }); // the login directory is known: the walk is what is cut
      const pending = node.fs.glob('**/*', { cwd: '/usr' });
      for (const socket of sockets.splice(0)) socket.destroy();
      const error = await pending.catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_REMOTE_IO' });
      expect((error as Error).message).toMatch(
        /^fs\.glob on root@127\.0\.0\.1:\d+: \/usr\S*: the connection was lost$/,
      );
    } finally {
      await node.close();
    }
  });

  it('silent (nothing comes back): the call rejects after connectTimeout, never hangs', async () => {
    forward = true;
    const node = proxied(1_500);
    try {
      await node.fs.exists('/');
      forward = false;
      const error = await node.fs.readText('/etc/hostname').catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_REMOTE_IO' });
      expect((error as Error).message).toMatch(/no answer from the SFTP server within 1500 ms$/);
    } finally {
      forward = true;
      for (const socket of sockets.splice(0)) socket.destroy();
      await node.close();
    }
  });
});

describe('node.fs: a request the SFTP server never answers (an open of a fifo no one writes)', () => {
  // OpenSSH's sftp-server answers one request at a time: blocked in open(), it answers nothing else
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync('/tmp/jobgraph-fifo-');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(join(dir, 'ok.txt'), 'fine\n');
  });
  afterAll(() => {
    // unblocks the sftp-servers still waiting in open(), then removes it all
    for (let i = 0; i < 4; i++)
      execFileSync('sh', ['-c', `timeout 1 sh -c 'echo x > ${join(dir, 'fifo')}' || true`]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** readText of ok.txt, tried until it works (bounded): the node's file access recovered. */
  async function recovers(node: SshNode): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await node.fs.readText(join(dir, 'ok.txt'));
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  it('timed out: the stuck session is dropped, the next call opens another', async () => {
    const node = new SshNode({
      hostname: '127.0.0.1',
      port: bed.loopback.port,
      ...common({ connectTimeout: 1_000 }),
    });
    try {
      const error = await node.fs.readFile(join(dir, 'fifo')).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(/no answer from the SFTP server within 1000 ms$/);
      expect(await node.fs.readText(join(dir, 'ok.txt'))).toBe('fine\n');
    } finally {
      await node.close();
    }
  });

  it('on the LocalNode: a fifo is refused at once (its open waited for a writer: a hang no signal ended, and no exit)', async () => {
    await expect(local.fs.readFile(join(dir, 'fifo'))).rejects.toThrow(
      `fs.readFile on ${local}: ${join(dir, 'fifo')}: a fifo: not read (it would wait for a writer)`,
    );
    expect(await local.fs.readText(join(dir, 'ok.txt'))).toBe('fine\n');
    // a device that never ends is read up to the bound, not until memory runs out
    await expect(local.fs.readFile('/dev/zero', { maxBytes: 1024 })).rejects.toThrow(
      /larger than maxBytes \(1024 bytes\)/,
    );
  });

  it('given up on by its signal: the session is dropped once it does not answer a check, and file access recovers', async () => {
    const node = new SshNode({
      hostname: '127.0.0.1',
      port: bed.loopback.port,
      ...common({ connectTimeout: 1_000 }),
    });
    try {
      const signal = AbortSignal.timeout(300);
      await expect(node.fs.readFile(join(dir, 'fifo'), { signal })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(await recovers(node)).toBe('fine\n');
    } finally {
      await node.close();
    }
  });
});

describe('node.fs through a gateway', () => {
  it('a target behind the gateway: writeFile, readText, glob and rm over its own SFTP session', async () => {
    const gateway = new SshNode({ hostname: bed.gateway.hostname, port: bed.gateway.port, ...common() });
    const target = bed.targets[0];
    const node = new SshNode({ hostname: target.hostname, port: target.port, gateway, ...common() });
    // the bed's hosts share this machine's disk: a directory of this test's own
    const base = join(dir, 'through-gateway');
    try {
      await node.fs.mkdir(join(base, 'logs'), { recursive: true });
      await node.fs.writeFile(join(base, 'logs', 'one.log'), 'one\n');
      await node.fs.writeFile(join(base, 'note.txt'), 'note\n');
      expect(await node.fs.readText(join(base, 'logs', 'one.log'))).toBe('one\n');
      expect(await node.fs.glob('**/*.log', { cwd: base })).toEqual(['logs/one.log']);
      expect(readdirSync(base).sort()).toEqual(['logs', 'note.txt']);
      await node.fs.rm(base, { recursive: true });
      expect(await node.fs.exists(base)).toBe(false);
      expect(node.isConnected() && gateway.isConnected()).toBe(true);
    } finally {
      await node.close();
      await gateway.close();
    }
  });
});

describe('node.fs.glob: parentheses, !, + and @ are plain characters', () => {
  it('dir(1)/*.txt finds dir(1)/f.txt, not dir1/g.txt, on both', async () => {
    const base = mkdtempSync(join(bed.workDir, 'fs-parens-'));
    try {
      for (const [path, text] of [
        ['dir(1)/f.txt', 'f'],
        ['dir1/g.txt', 'g'],
        ['!x', 'x'],
        ['a+b@c', 'y'],
        ['a[(b)', 'z'],
      ]) {
        mkdirSync(join(base, path as string, '..'), { recursive: true });
        writeFileSync(join(base, path as string), text as string);
      }
      for (const node of [remote, local]) {
        expect(await node.fs.glob('dir(1)/*.txt', { cwd: base })).toEqual(['dir(1)/f.txt']);
        expect(await node.fs.glob('dir(1)', { cwd: base })).toEqual(['dir(1)']);
        expect(await node.fs.glob('!x', { cwd: base })).toEqual(['!x']);
        expect(await node.fs.glob('a+b@*', { cwd: base })).toEqual(['a+b@c']);
        expect(await node.fs.glob('dir[(]1[)]/*', { cwd: base })).toEqual(['dir(1)/f.txt']);
        // a `[` that no `]` closes is a plain character, and so are the parentheses after it
        expect(await node.fs.glob('a[(b)', { cwd: base })).toEqual(['a[(b)']);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('node.fs.glob: directories that cannot be listed', () => {
  it('an unreadable subdirectory is skipped (as a non-root user); an unreadable cwd is an error', async () => {
    const user = bed.sudo.noPassword.username;
    const node = new SshNode({
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      ...common({ username: user }),
    });
    const base = mkdtempSync(join('/tmp', 'jg-glob-'));
    try {
      mkdirSync(join(base, 'open'));
      mkdirSync(join(base, 'closed'));
      writeFileSync(join(base, 'open', 'a.log'), 'a');
      writeFileSync(join(base, 'closed', 'b.log'), 'b');
      execFileSync('chmod', ['0755', base, join(base, 'open')]);
      execFileSync('chmod', ['0644', join(base, 'open', 'a.log')]);
      execFileSync('chmod', ['0700', join(base, 'closed')]); // root's: the user cannot list it
      expect(await node.fs.glob('**/*.log', { cwd: base })).toEqual(['open/a.log']);
      await expect(node.fs.glob('*.log', { cwd: join(base, 'closed') })).rejects.toMatchObject({
        code: 'ERR_REMOTE_PERMISSION',
      });
    } finally {
      await node.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
