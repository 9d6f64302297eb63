/**
 * Transfers cut by a dying sshd: never a partial file under the final name, no temporary or
 * process left behind, and a Pull retried by its job resumes where the cut left it.
 *
 * Against an sshd of this file's own (the bed's loopback config on another port), whose SFTP
 * server logs each file's `bytes read` on close: how the tests prove that a resumed Pull read
 * only the rest of the file. The kills are of that sshd's processes only: the per-connection
 * ones (the listener stays, so a retry can reconnect) or the whole server.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Scheduler } from '@jobgraph/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullPartial } from '../src/commands/pull-file.js';
import { Pull, Push, SshJob, SshNode } from '../src/index.js';
import { bed, closeAfterEach, common, RecordingFormatter } from './bed.js';
import { until } from './probes.js';

const run = promisify(execFile);
const SIZE = 160 << 20;
/** Cut the transfer once this much of it is on disk: well before its end. */
const CUT_AT = 8 << 20;

let dir = '';
let source = '';
let sourceSha = '';
let port = 0;
let sshd: ChildProcess | undefined;
const sftpLog = () => join(dir, 'sftp.log');

function sha256(path: string, length = Number.POSITIVE_INFINITY): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const options = Number.isFinite(length) ? { end: length - 1 } : {};
    createReadStream(path, options)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return free;
}

function accepts(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

async function startSshd(): Promise<void> {
  sshd = spawn('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-D', '-e'], { stdio: 'ignore' });
  await until(accepts, 10_000);
}

/** The processes below `pid` (from /proc: no tool, nothing to wait for). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Kills what serves the connections of our sshd (the listener goes on accepting). */
function killSessions(): number {
  const pids = descendants(sshd?.pid ?? 0).reverse(); // deepest first
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pids.length;
}

async function killServer(): Promise<void> {
  const server = sshd;
  sshd = undefined;
  if (server === undefined || server.exitCode !== null) return;
  const pids = descendants(server.pid ?? 0);
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await exited;
}

const track = closeAfterEach();

function node(extra: { formatter?: RecordingFormatter } = {}): SshNode {
  return track(
    new SshNode({
      hostname: '127.0.0.1',
      port,
      ...common({ knownHosts: join(dir, 'known_hosts'), keepaliveInterval: 0, ...extra }),
    }),
  );
}

/** Files of `path`'s directory whose names start with `.<base name>.jobgraph-`. */
async function temporaries(path: string): Promise<string[]> {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const names = await readdir(path.slice(0, path.lastIndexOf('/')));
  return names.filter((name) => name.startsWith(`.${base}.jobgraph-`));
}

/** Polls (every 2 ms) until a temporary of `path` holds CUT_AT bytes; resolves with its path. */
async function growing(path: string): Promise<string> {
  let found = '';
  await until(
    async () => {
      for (const name of await temporaries(path)) {
        const full = join(path.slice(0, path.lastIndexOf('/')), name);
        const size = await stat(full).then(
          (info) => info.size,
          () => 0,
        );
        if (size >= CUT_AT) found = full;
      }
      return found !== '';
    },
    20_000,
    2,
  );
  return found;
}

/** `bytes read` of each SFTP close of `path` that the sftp-server logged. */
async function bytesRead(path: string): Promise<number[]> {
  const log = await readFile(sftpLog(), 'utf8').catch(() => '');
  const pattern = new RegExp(`close "${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" bytes read (\\d+)`, 'g');
  return [...log.matchAll(pattern)].map((match) => Number(match[1]));
}

/** No process of our sshd serves a connection any more (the sessions are reaped). */
const noSessionLeft = () => until(() => descendants(sshd?.pid ?? 0).length === 0, 10_000);

/** This process's established TCP connections to our sshd. */
async function connections(): Promise<number> {
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established'], { timeout: 10_000 });
  return stdout.split('\n').filter((line) => {
    const [, , , peer, ...users] = line.trim().split(/\s+/);
    return peer === `127.0.0.1:${port}` && users.join(' ').includes(`pid=${process.pid},`);
  }).length;
}

beforeAll(async () => {
  dir = await mkdtemp('/dev/shm/jobgraph-transfer-faults-');
  port = await freePort();
  const base = await readFile(join(bed.workDir, 'loopback.sshd_config'), 'utf8');
  const config = base
    .split('\n')
    .filter((line) => !/^(Port|PidFile|Subsystem|LogLevel)\b/.test(line))
    .concat([
      `Port ${port}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `Subsystem sftp /usr/lib/openssh/sftp-server -e -l INFO 2>>${sftpLog()}`,
      'LogLevel ERROR',
    ])
    .join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${bed.loopback.hostKey}\n`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < SIZE >> 20; i++) chunks.push(randomBytes(1 << 20));
  source = join(dir, 'source');
  await writeFile(source, Buffer.concat(chunks));
  sourceSha = await sha256(source);
  await startSshd();
}, 60_000);

afterAll(async () => {
  await killServer();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('transfers cut by a dying sshd', () => {
  it('sshd killed mid-Push: one-line ERR_SFTP naming the node; the old file intact; no temporary, session or connection left', async () => {
    const target = join(dir, 'pushed');
    await writeFile(target, 'old content\n');
    const remote = node();
    const job = new SshJob({ node: remote, commands: [new Push(source, target)], critical: false });
    const running = new Scheduler({ critical: false, jobs: [job] }).run();
    await growing(target);
    expect(killSessions()).toBeGreaterThan(0);
    expect(await running).toBe(true);
    const error = job.raisedException() as { code: string; message: string };
    expect(error.code).toBe('ERR_SFTP');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/connection was lost/);
    expect(await readFile(target, 'utf8')).toBe('old content\n');
    // removed on a new connection before the job failed (the listener survived the kill)
    expect(await temporaries(target)).toEqual([]);
    await noSessionLeft();
    expect(await connections()).toBe(0);
    await remote.close();
  }, 60_000);

  it('sshd killed mid-Pull: the old file intact, the partial kept under its resume name; the next Pull resumes it', async () => {
    const target = join(dir, 'pulled');
    await writeFile(target, 'old content\n');
    const info = await stat(source);
    const partial = pullPartial(target, info.size, Math.floor(info.mtimeMs / 1000));
    const first = node();
    const job = new SshJob({ node: first, commands: [new Pull(source, target)], critical: false });
    const running = new Scheduler({ critical: false, jobs: [job] }).run();
    expect(await growing(target)).toBe(partial);
    await killServer();
    expect(await running).toBe(true);
    const error = job.raisedException() as { code: string; message: string };
    expect(error.code).toBe('ERR_SFTP');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/connection was lost/);
    expect(await readFile(target, 'utf8')).toBe('old content\n');
    expect(await temporaries(target)).toEqual([partial.slice(dir.length + 1)]);
    // what the partial holds is the source's beginning, without a hole
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(SIZE);
    expect(await sha256(partial)).toBe(await sha256(source, kept));
    await first.close();

    await startSshd();
    const formatter = new RecordingFormatter();
    const second = node({ formatter });
    const again = new SshJob({ node: second, commands: [new Pull(source, target, { verbose: true })] });
    expect(await new Scheduler({ jobs: [again] }).run()).toBe(true);
    expect(await sha256(target)).toBe(sourceSha);
    expect(await temporaries(target)).toEqual([]);
    // the server read only the rest (the killed server's sftp-server may log its own partial read
    // late, once it notices its end: that entry is the first Pull's, never the whole file)
    const reads = await bytesRead(source);
    expect(reads).toContain(SIZE - kept);
    expect(reads).not.toContain(SIZE);
    expect(formatter.events.map((event) => ('detail' in event ? event.detail : ''))).toContain(
      `Pull: resuming ${source} at byte ${kept} of ${SIZE}`,
    );
    await noSessionLeft();
    await rm(target);
  }, 60_000);

  it('a Pull with retries: 1 cut mid-way resumes on its second attempt (the server reads only the rest)', async () => {
    const target = join(dir, 'retried');
    const before = (await bytesRead(source)).length;
    const formatter = new RecordingFormatter();
    const remote = node({ formatter });
    const job = new SshJob({
      node: remote,
      commands: [new Pull(source, target, { verbose: true })],
      retries: 1,
    });
    const retried: unknown[] = [];
    const scheduler = new Scheduler({ jobs: [job] });
    scheduler.on('job:retry', (event) => retried.push(event.error));
    const running = scheduler.run();
    await growing(target);
    expect(killSessions()).toBeGreaterThan(0);
    expect(await running).toBe(true);
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({
      code: 'ERR_SFTP',
      message: expect.stringMatching(/connection was lost/),
    });
    expect(job.attempts).toBe(2);
    expect(await sha256(target)).toBe(sourceSha);
    expect(await temporaries(target)).toEqual([]);
    // the second attempt said where it resumed, and the server read only the rest then (the
    // killed session's sftp-server may have logged its own close before its kill landed)
    const resumed = formatter.events
      .map((event) => ('detail' in event ? String(event.detail) : ''))
      .map((line) => /^Pull: resuming .* at byte (\d+) of (\d+)$/.exec(line))
      .filter((match) => match !== null);
    expect(resumed).toHaveLength(1);
    const offset = Number(resumed[0]?.[1]);
    expect(offset).toBeGreaterThan(0);
    const reads = (await bytesRead(source)).slice(before);
    expect(reads.at(-1)).toBe(SIZE - offset);
    await noSessionLeft();
    await rm(target);
  }, 60_000);

  it('a cancelled Pull keeps its partial (no hole in it), and the next Pull resumes it', async () => {
    const target = join(dir, 'cancelled');
    const controller = new AbortController();
    const remote = node();
    const job = new SshJob({ node: remote, commands: [new Pull(source, target)], critical: false });
    const running = new Scheduler({ critical: false, jobs: [job] }).run({ signal: controller.signal });
    const partial = await growing(target);
    controller.abort(new Error('cancelled by the test'));
    await running.catch(() => undefined);
    await stat(target).then(
      () => expect.unreachable('the final name must stay absent'),
      (error: NodeJS.ErrnoException) => expect(error.code).toBe('ENOENT'),
    );
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(await sha256(partial)).toBe(await sha256(source, kept));
    const before = (await bytesRead(source)).length;
    const again = new SshJob({ node: remote, commands: [new Pull(source, target)] });
    expect(await new Scheduler({ jobs: [again] }).run()).toBe(true);
    expect(await sha256(target)).toBe(sourceSha);
    expect(await temporaries(target)).toEqual([]);
    expect((await bytesRead(source)).slice(before).at(-1)).toBe(SIZE - kept);
    await noSessionLeft();
    await rm(target);
  }, 60_000);

  it('a partial of a remote file since changed is removed, and the Pull starts over', async () => {
    const target = join(dir, 'changed');
    const info = await stat(source);
    const stale = pullPartial(target, info.size, Math.floor(info.mtimeMs / 1000) - 60);
    await writeFile(stale, 'bytes of an older version');
    await utimes(source, info.atime, info.mtime); // unchanged: only the partial's record differs
    const before = (await bytesRead(source)).length;
    const remote = node();
    const job = new SshJob({ node: remote, commands: [new Pull(source, target)] });
    expect(await new Scheduler({ jobs: [job] }).run()).toBe(true);
    expect(await sha256(target)).toBe(sourceSha);
    expect(await temporaries(target)).toEqual([]);
    expect((await bytesRead(source)).slice(before)).toEqual([SIZE]);
    await noSessionLeft();
    await rm(target);
  }, 60_000);
});

describe('replacing an existing file through a temporary', () => {
  it('keeps preserve right: Push and Pull over an existing file, with and without preserve', async () => {
    const small = join(dir, 'small');
    await writeFile(small, 'new content\n');
    await chmod(small, 0o640);
    await utimes(small, 1_000_000_000, 1_000_000_000);
    const pushed = join(dir, 'small-pushed');
    const pulled = join(dir, 'small-pulled');
    for (const path of [pushed, pulled]) {
      await writeFile(path, 'old\n');
      await chmod(path, 0o600);
    }
    const remote = node();
    const job = new SshJob({
      node: remote,
      commands: [new Push(small, pushed, { preserve: true }), new Pull(small, pulled)],
    });
    expect(await new Scheduler({ jobs: [job] }).run()).toBe(true);
    const afterPush = await stat(pushed);
    expect(await readFile(pushed, 'utf8')).toBe('new content\n');
    expect(afterPush.mode & 0o7777).toBe(0o640);
    expect(afterPush.mtimeMs).toBe(1_000_000_000_000);
    // without preserve, as scp: the existing local file keeps its mode, gets the new content
    const afterPull = await stat(pulled);
    expect(await readFile(pulled, 'utf8')).toBe('new content\n');
    expect(afterPull.mode & 0o7777).toBe(0o600);
    expect(afterPull.mtimeMs).not.toBe(1_000_000_000_000);
    const again = new SshJob({ node: remote, commands: [new Pull(small, pulled, { preserve: true })] });
    expect(await new Scheduler({ jobs: [again] }).run()).toBe(true);
    expect((await stat(pulled)).mode & 0o7777).toBe(0o640);
    expect((await stat(pulled)).mtimeMs).toBe(1_000_000_000_000);
    expect([...(await temporaries(pushed)), ...(await temporaries(pulled))]).toEqual([]);
  });

  it('a symlink as the target is written through, not replaced', async () => {
    const real = join(dir, 'real');
    const link = join(dir, 'link');
    await writeFile(real, 'old\n');
    await symlink(real, link);
    const small = join(dir, 'small-2');
    await writeFile(small, 'through the link\n');
    const remote = node();
    expect(
      await new Scheduler({ jobs: [new SshJob({ node: remote, commands: [new Push(small, link)] })] }).run(),
    ).toBe(true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('through the link\n');
  });
});

describe('files whose size reads as 0 (/proc, /sys)', () => {
  it('are copied to their end by Push and Pull, not as empty files', async () => {
    const expected = await readFile('/proc/version', 'utf8');
    expect(expected.length).toBeGreaterThan(0);
    expect((await stat('/proc/version')).size).toBe(0);
    const pulled = join(dir, 'version-pulled');
    const pushed = join(dir, 'version-pushed');
    const job = new SshJob({
      node: node(),
      commands: [new Pull('/proc/version', pulled), new Push('/proc/version', pushed)],
    });
    const scheduler = new Scheduler({ jobs: [job] });
    const bytes: number[] = [];
    scheduler.on('cmd:done', (event) => bytes.push(event.bytes ?? -1));
    expect(await scheduler.run()).toBe(true);
    expect(await readFile(pulled, 'utf8')).toBe(expected);
    expect(await readFile(pushed, 'utf8')).toBe(expected);
    expect(bytes).toEqual([expected.length, expected.length]);
    // through a link that is there (written in place): to its end too
    const real = [join(dir, 'version-real-pulled'), join(dir, 'version-real-pushed')];
    for (const path of real) await writeFile(path, '');
    await symlink(real[0] as string, join(dir, 'version-link-pulled'));
    await symlink(real[1] as string, join(dir, 'version-link-pushed'));
    const through = new SshJob({
      node: node(),
      commands: [
        new Pull('/proc/version', join(dir, 'version-link-pulled')),
        new Push('/proc/version', join(dir, 'version-link-pushed')),
      ],
    });
    expect(await new Scheduler({ jobs: [through] }).run()).toBe(true);
    for (const path of real) expect(await readFile(path, 'utf8')).toBe(expected);
    // an empty file stays one
    await writeFile(join(dir, 'empty'), '');
    const empty = new SshJob({
      node: node(),
      commands: [
        new Pull(join(dir, 'empty'), join(dir, 'empty-pulled')),
        new Push(join(dir, 'empty'), join(dir, 'empty-pushed')),
      ],
    });
    expect(await new Scheduler({ jobs: [empty] }).run()).toBe(true);
    expect(await readFile(join(dir, 'empty-pulled'), 'utf8')).toBe('');
    expect(await readFile(join(dir, 'empty-pushed'), 'utf8')).toBe('');
  });
});

describe('symbolic links inside a copied tree', () => {
  it('are copied as links by Push -r and Pull -r (a dangling one, a loop), as the LocalNode copies them', async () => {
    const tree = join(dir, 'tree-with-links');
    await mkdir(join(tree, 'd'), { recursive: true });
    await writeFile(join(tree, 'd', 'z.txt'), 'z\n');
    await symlink('z.txt', join(tree, 'd', 'to-z'));
    await symlink('nowhere', join(tree, 'd', 'dangling'));
    await symlink('.', join(tree, 'd', 'loop'));
    const pushed = join(dir, 'tree-pushed');
    const pulled = join(dir, 'tree-pulled');
    const job = new SshJob({
      node: node(),
      commands: [new Push(tree, pushed, { recurse: true }), new Pull(tree, pulled, { recurse: true })],
    });
    expect(await new Scheduler({ jobs: [job] }).run()).toBe(true);
    for (const copy of [pushed, pulled]) {
      expect(await readFile(join(copy, 'd', 'z.txt'), 'utf8')).toBe('z\n');
      for (const [name, target] of [
        ['to-z', 'z.txt'],
        ['dangling', 'nowhere'],
        ['loop', '.'],
      ]) {
        expect((await lstat(join(copy, 'd', name as string))).isSymbolicLink()).toBe(true);
        expect(await readlink(join(copy, 'd', name as string))).toBe(target);
      }
      expect((await readdir(join(copy, 'd'))).sort()).toEqual(['dangling', 'loop', 'to-z', 'z.txt']);
    }
    // again over the copies: the links are replaced, not refused
    expect(
      await new Scheduler({
        jobs: [new SshJob({ node: node(), commands: [new Pull(tree, pulled, { recurse: true })] })],
      }).run(),
    ).toBe(true);
  });

  it('a link an earlier copy made is replaced, never followed: a second copy cannot write outside its destination', async () => {
    const victim = join(dir, 'victim');
    await mkdir(victim);
    for (const direction of ['pull', 'push'] as const) {
      const tree = join(dir, `escape-${direction}`, 'tree');
      // an existing directory: each copy lands in it, as copy/tree
      const into = join(dir, `escape-${direction}-copy`);
      const copy = join(into, 'tree');
      await mkdir(tree, { recursive: true });
      await mkdir(into);
      await symlink(victim, join(tree, 'd'));
      await symlink(victim, join(tree, 'f'));
      const run = async () => {
        const transfer =
          direction === 'pull'
            ? new Pull(tree, into, { recurse: true })
            : new Push(tree, into, { recurse: true });
        const job = new SshJob({ node: node(), critical: false, commands: [transfer] });
        await new Scheduler({ jobs: [job], critical: false }).run();
        expect(job.raisedException(), direction).toBeUndefined();
      };
      await run();
      expect(await readlink(join(copy, 'd'))).toBe(victim);
      // the source's links become a directory and a file: the copy's links must not lead them to the victim
      await rm(join(tree, 'd'));
      await mkdir(join(tree, 'd'));
      await writeFile(join(tree, 'd', 'planted'), 'owned\n');
      await rm(join(tree, 'f'));
      await writeFile(join(tree, 'f'), 'a file now\n');
      await run();
      expect(await readdir(victim), direction).toEqual([]);
      expect((await lstat(join(copy, 'd'))).isDirectory()).toBe(true);
      expect(await readFile(join(copy, 'd', 'planted'), 'utf8')).toBe('owned\n');
      expect((await lstat(join(copy, 'f'))).isFile()).toBe(true);
      expect(await readFile(join(copy, 'f'), 'utf8')).toBe('a file now\n');
    }
  });

  it('a file that cannot be read deep in a tree is named in the error (the message named the top of the copy)', async () => {
    // as an unprivileged user of the bed's loopback sshd, in a tree others may walk
    const tree = await mkdtemp('/tmp/jobgraph-unreadable-');
    try {
      await mkdir(join(tree, 'sub'));
      await writeFile(join(tree, 'a'), 'a\n');
      await writeFile(join(tree, 'sub', 'b'), 'b\n');
      await chmod(join(tree, 'sub', 'b'), 0o600);
      for (const path of [tree, join(tree, 'sub')]) await chmod(path, 0o755);
      const runas = track(
        new SshNode({
          hostname: '127.0.0.1',
          port: bed.loopback.port,
          ...common({ username: bed.sudo.runAsNobody.username }),
        }),
      );
      const job = new SshJob({
        node: runas,
        critical: false,
        commands: [new Pull(tree, join(dir, 'unreadable-pulled'), { recurse: true })],
      });
      await new Scheduler({ jobs: [job], critical: false }).run();
      expect((job.raisedException() as Error).message).toMatch(
        new RegExp(`^Pull of ${tree} into .* failed: ${join(tree, 'sub', 'b')}: permission denied$`),
      );
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});

describe('two Pulls into one local path at once', () => {
  it('both succeed, one after the other (they shared a partial file: one failed with ENOENT)', async () => {
    const remoteFile = join(dir, 'shared-source');
    await writeFile(remoteFile, randomBytes(8 << 20));
    const target = join(dir, 'shared-target');
    const jobs = [0, 1].map(
      () => new SshJob({ node: node(), critical: false, commands: [new Pull(remoteFile, target)] }),
    );
    expect(await new Scheduler({ jobs }).run()).toBe(true);
    expect(jobs.map((job) => job.result())).toEqual([0, 0]);
    expect(await sha256(target)).toBe(await sha256(remoteFile));
    expect(await temporaries(target)).toEqual([]);
  });
});
