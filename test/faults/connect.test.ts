/**
 * Fault matrix, connect-time faults: refused, unreachable, authentication refused, host key
 * changed, gateway down. Each: the faulty job (non-critical) fails with a one-line ERR_* naming
 * the node and the cause, a healthy job beside it succeeds, the run ends within its bound, no
 * TCP connection of ours is left open, no unhandled rejection.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../packages/core/src/index.js';
import { SshJob, SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  bed,
  connectionsTo,
  portFor,
  runPair,
  startSshd,
  trapUnhandledRejections,
} from './harness.js';

trapUnhandledRejections();

const loopback = bed.loopback;

describe('fault matrix: connect time', () => {
  it('connection refused → ERR_SSH_CONNECT naming the node, the healthy job succeeds', async () => {
    const port = portFor(1); // nothing listens there
    const node = new SshNode({ hostname: '127.0.0.1', port, ...access() });
    const out = await runPair(node, ['true'], { limit: 15_000 });
    expect(out.ok).toBe(true);
    expect(out.error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect(out.message).toBe(`Cannot connect to root@127.0.0.1:${port}: connection refused`);
    expect(out.healthyResult).toBe(0);
    expect(out.healthy.stdout()).toBe('healthy\n');
    expect(await connectionsTo(loopback.hostname, loopback.port)).toBe(0);
  });

  it('host unreachable (an address of a bed subnet nobody has) → ERR_SSH_CONNECT within connectTimeout', async () => {
    const node = new SshNode({ hostname: '10.231.1.99', ...access({ connectTimeout: 4_000 }) });
    const out = await runPair(node, ['true'], { limit: 12_000 });
    expect(out.ok).toBe(true);
    expect(out.error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect(out.message).toMatch(
      /^Cannot connect to root@10\.231\.1\.99: (host unreachable|no answer within 4000 ms)$/,
    );
    expect(out.elapsed).toBeLessThan(4_000 + 3_000);
    expect(out.healthyResult).toBe(0);
  });

  it('authentication refused → ERR_SSH_AUTH saying what was offered', async () => {
    const node = new SshNode({
      hostname: loopback.hostname,
      port: loopback.port,
      ...access({ username: 'nobody-jgfault' }),
    });
    const out = await runPair(node, ['true'], { limit: 15_000 });
    expect(out.error).toMatchObject({ code: 'ERR_SSH_AUTH' });
    expect(out.message).toBe(
      `Cannot connect to nobody-jgfault@127.0.0.1:${loopback.port}: authentication refused (offered: key ${bed.keys.ed25519})`,
    );
    expect(out.healthyResult).toBe(0);
    // the refused connection is closed, and so is the healthy one after its run
    expect(await connectionsTo(loopback.hostname, loopback.port)).toBe(0);
  });

  it('host key changed (known_hosts holds another key) → ERR_HOST_KEY, never authenticates', async () => {
    const own = await startSshd({ like: 'loopback', port: portFor(2) });
    const knownHosts = join(own.knownHosts, '..', 'changed_known_hosts');
    // the loopback sshd's entry, with the gateway's key: what a reinstalled host looks like
    await writeFile(knownHosts, `[127.0.0.1]:${own.port} ${bed.hostKeys.gw}\n`);
    for (const policy of ['strict', 'accept-new'] as const) {
      const node = new SshNode({
        hostname: own.host,
        port: own.port,
        ...access({ knownHosts, hostKeyPolicy: policy }),
      });
      const out = await runPair(node, ['true'], { limit: 15_000 });
      expect(out.error).toMatchObject({ code: 'ERR_HOST_KEY' });
      expect(out.message).toMatch(
        new RegExp(
          `^Cannot connect to root@127\\.0\\.0\\.1:${own.port}: host key .*(changed|does not match)`,
        ),
      );
      expect(out.healthyResult).toBe(0);
    }
    // no session was ever opened on that sshd: nothing runs under it, nothing of ours is connected
    expect((await own.served()).filter((p) => p.comm === 'sshd' || p.comm === 'sh')).toEqual([]);
    expect(await connectionsTo(own.host, own.port)).toBe(0);
    await own.stop();
  });

  it('gateway down at connect time → the targets behind it fail with ERR_SSH_CONNECT naming the gateway', async () => {
    const gateway = new SshNode({ hostname: bed.gateway.hostname, port: portFor(3), ...access() });
    const t1 = new SshNode({ hostname: bed.targets[0].hostname, gateway, ...access() });
    const t2 = new SshNode({ hostname: bed.targets[1].hostname, gateway, ...access() });
    const healthy = new SshNode({ hostname: loopback.hostname, port: loopback.port, ...access() });
    const jobs = [t1, t2].map(
      (node, i) => new SshJob({ node, command: 'true', label: `t${i + 1}`, critical: false }),
    );
    const fine = new SshJob({ node: healthy, command: 'echo healthy', label: 'healthy', critical: false });
    const scheduler = new Scheduler({ critical: false, jobs: [...jobs, fine] });
    expect(await scheduler.run()).toBe(true);
    for (const job of jobs) {
      expect(job.raisedException()).toMatchObject({ code: 'ERR_SSH_CONNECT' });
      const message = (job.raisedException() as Error).message;
      expect(message).not.toContain('\n');
      if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${message}\n`);
      expect(message).toContain(`${bed.gateway.hostname}:${portFor(3)}`);
      expect(message).toContain('connection refused');
    }
    expect(fine.result()).toBe(0);
    expect(await connectionsTo(bed.gateway.hostname, portFor(3))).toBe(0);
  });

  it('gateway down at connect time: the error of a target names the target as well', async () => {
    const gateway = new SshNode({ hostname: bed.gateway.hostname, port: portFor(3), ...access() });
    const t1 = new SshNode({ hostname: bed.targets[0].hostname, gateway, ...access() });
    const error = await t1.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect((error as Error).message).toContain(bed.targets[0].hostname);
    expect((error as Error).message).toMatch(
      / through its gateway: Cannot connect to root@\S+: connection refused$/,
    );
  });

  it('a critical faulty job ends the run: the scheduler rejects with its error', async () => {
    const node = new SshNode({ hostname: '127.0.0.1', port: portFor(1), ...access() });
    const healthy = new SshNode({ hostname: loopback.hostname, port: loopback.port, ...access() });
    const faulty = new SshJob({ node, command: 'true', label: 'faulty' });
    const marker = `jgfault-critical-${process.pid}`;
    const slow = new SshJob({
      node: healthy,
      command: `sleep 30 # ${marker}`,
      label: 'slow',
      critical: false,
    });
    const scheduler = new Scheduler({ critical: true, jobs: [faulty, slow] });
    const started = Date.now();
    await expect(scheduler.run()).rejects.toMatchObject({ code: 'ERR_SSH_CONNECT' });
    // the run did not wait for the 30 s command: it was cancelled
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(slow.raisedException() ?? 'cancelled').toBeDefined();
  });
});
