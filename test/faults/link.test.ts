/**
 * Fault matrix, the network: a link cut under a running command (a namespace host of our own,
 * its veth set down) caught by keepalive within its bound, and a slow link (200 ms each way,
 * through a user-space delay proxy) on which everything still succeeds.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../packages/core/src/index.js';
import { Pull, Push, Run, SshJob, SshNode } from '../../packages/ssh/src/index.js';
import { startDelayProxy } from './delay-proxy.js';
import {
  access,
  bed,
  commandsRunning,
  connectionsTo,
  createHost,
  killMarkedAfterEach,
  marker,
  markerPattern,
  pgrep,
  RecordingFormatter,
  sessionsOpen,
  startSshd,
  trapUnhandledRejections,
  until,
  within,
} from './harness.js';

trapUnhandledRejections();

const markers = killMarkedAfterEach();
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jgfault-link-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fault matrix: the network', () => {
  it('link cut mid-command: keepalive (1 s) fails the job with ERR_SSH_CHANNEL within 3-6 s, the healthy job goes on', async () => {
    const host = await createHost(1);
    // sshd learns that the link is dead from its own keepalive (ClientAliveInterval: no
    // default), then ends the session; the command's hang-up guard then ends the command
    const sshd = await startSshd({
      like: 'loopback',
      netns: host.netns,
      host: host.address,
      port: 22,
      extra: ['ClientAliveInterval 1', 'ClientAliveCountMax 2'],
    });
    const node = new SshNode({
      hostname: host.address,
      ...access({ knownHosts: sshd.knownHosts, keepaliveInterval: 1_000 }),
    });
    const tag = marker('linkcut');
    markers.push(tag);
    const healthyNode = new SshNode({
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      ...access(),
    });
    // silent on purpose: only keepalive can tell that the peer is gone
    const job = new SshJob({ node, command: `sleep 60; echo ${tag}`, label: 'cut', critical: false });
    const fine = new SshJob({
      node: healthyNode,
      command: `sleep 1; echo ${tag}-ok`,
      label: 'healthy',
      critical: false,
    });
    const scheduler = new Scheduler({ critical: false, jobs: [job, fine] });
    const failed = new Promise<number>((resolve) => {
      scheduler.on('job:failed', () => resolve(Date.now()));
    });
    const running = scheduler.run();
    await until('the command running', async () => (await commandsRunning(tag)).length === 1);
    await sessionsOpen(node);
    expect(await connectionsTo(host.address, 22)).toBe(1);
    const cutAt = Date.now();
    await host.setLink(false);
    const failedAt = await within('the keepalive failure', 15_000, failed);
    expect(await within('the run', 15_000, running)).toBe(true);
    const detected = failedAt - cutAt;
    // 3 missed keepalives at 1 s: not before 2 s (the link really was silent), well before 15 s
    expect(detected).toBeGreaterThanOrEqual(2_000);
    expect(detected).toBeLessThan(8_000);
    const message = (job.raisedException() as Error).message;
    if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${message} (after ${detected} ms)\n`);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect(message).toBe(`Connection to root@${host.address} lost while running: sleep 60; echo ${tag}`);
    expect(fine.result()).toBe(0);
    // our side of the dead connection is gone (no socket lingering in ESTABLISHED)
    expect(await connectionsTo(host.address, 22)).toBe(0);
    // nothing left on the cut host: its sshd dropped the session (2 missed keepalives at 1 s),
    // and the command's guard ended it; without the guard it would sleep on
    await until('no remote process left', async () => (await pgrep(markerPattern(tag))).length === 0, 10_000);
    await sshd.stop();
    await host.remove();
  });

  it('link cut where sshd keeps no keepalive: the orphaned command is killed on the next connection, before the next command', async () => {
    const host = await createHost(2);
    // sshd's default: no ClientAliveInterval, so it never learns that the link was cut
    const sshd = await startSshd({ like: 'loopback', netns: host.netns, host: host.address, port: 22 });
    const node = new SshNode({
      hostname: host.address,
      ...access({ knownHosts: sshd.knownHosts, keepaliveInterval: 1_000 }),
    });
    const tag = marker('linkorphan');
    markers.push(tag);
    const lost = node.run(`sleep 60; echo ${tag}`).catch((error: unknown) => error);
    await until('the command running', async () => (await commandsRunning(tag)).length === 1);
    await sessionsOpen(node);
    await host.setLink(false);
    expect(await within('the keepalive failure', 15_000, lost)).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    // the host does not know: its sshd still holds the session, the command sleeps on
    expect(await commandsRunning(tag)).toHaveLength(1);
    await host.setLink(true);
    // the next command on the node (a retry would be one) reconnects, and first kills it
    expect(await within('the next command', 20_000, node.run(`echo ${tag}-next`))).toMatchObject({
      exitCode: 0,
    });
    expect(await pgrep(markerPattern(tag))).toEqual([]);
    await node.close();
    await sshd.stop();
    await host.remove();
  });

  it('slow link (200 ms each way): connect, run, push and pull all succeed, keepalive (1 s) does not misfire', async () => {
    const proxy = await startDelayProxy(bed.loopback.hostname, bed.loopback.port, 200);
    try {
      const knownHosts = join(dir, 'known_hosts');
      await writeFile(knownHosts, `[127.0.0.1]:${proxy.port} ${bed.hostKeys.loopback}\n`);
      const formatter = new RecordingFormatter();
      const node = new SshNode({
        hostname: '127.0.0.1',
        port: proxy.port,
        ...access({ knownHosts, keepaliveInterval: 1_000, formatter }),
      });
      const local = join(dir, 'payload');
      const payload = Buffer.alloc(256 * 1024, 'jobgraph slow link\n');
      await writeFile(local, payload);
      const remote = join(dir, 'remote-payload');
      const back = join(dir, 'back');
      const job = new SshJob({
        node,
        commands: [
          new Run('echo first'),
          new Push(local, remote),
          new Run(`wc -c < ${remote}`),
          new Pull(remote, back),
        ],
        label: 'slow',
        critical: false,
      });
      const parallel = Array.from(
        { length: 5 },
        (_, i) => new SshJob({ node, command: `echo p${i}`, label: `p${i}`, critical: false }),
      );
      const scheduler = new Scheduler({ critical: false, jobs: [job, ...parallel] });
      const started = Date.now();
      expect(await within('the slow run', 25_000, scheduler.run())).toBe(true);
      const elapsed = Date.now() - started;
      if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT slow run ${elapsed} ms\n`);
      for (const each of [job, ...parallel]) expect(each.raisedException()).toBeUndefined();
      expect(job.result()).toBe(0);
      expect(formatter.stdout().split('\n').sort()).toEqual(
        ['', 'first', 'p0', 'p1', 'p2', 'p3', 'p4', String(payload.length)].sort(),
      );
      expect(await readFile(back)).toEqual(payload);
      // the delay was real (a handshake alone is several round trips of 400 ms), and the run lasted
      // many keepalive periods (1 s), each answered in time: no misfire
      expect(elapsed).toBeGreaterThan(5 * 1_000);
      // the run's connection is closed once done
      await until('the proxied connection closed', () => proxy.open() === 0, 5_000);
      expect(await connectionsTo('127.0.0.1', proxy.port)).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
