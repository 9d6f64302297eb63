/**
 * Fault matrix, peers killed mid-command: a gateway of our own (a second sshd in jgtb-gw) killed
 * while targets behind it and a direct node run commands; a target's sshd of our own (a second
 * sshd in jgtb-t1) killed while it runs a command. The bed's own sshds are never touched.
 */

import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../packages/core/src/index.js';
import { SshJob, SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  bed,
  commandsRunning,
  connectionsTo,
  killMarkedAfterEach,
  marker,
  markerPattern,
  pgrep,
  portFor,
  type RecordingFormatter,
  sessionsOpen,
  startSshd,
  trapUnhandledRejections,
  until,
  within,
} from './harness.js';

trapUnhandledRejections();

const markers = killMarkedAfterEach();

describe('fault matrix: killed mid-command', () => {
  it('gateway killed mid-command: the targets behind it fail with ERR_SSH_CHANNEL, a direct job goes on', async () => {
    const gw = await startSshd({ like: 'gw', port: portFor(4), host: bed.gateway.hostname });
    const gateway = new SshNode({
      hostname: gw.host,
      port: gw.port,
      ...access({ knownHosts: gw.knownHosts }),
    });
    const tag = marker('gwkill');
    markers.push(tag);
    const behind = bed.targets.map(
      (target) =>
        new SshNode({ hostname: target.hostname, gateway, ...access({ knownHosts: gw.knownHosts }) }),
    );
    const direct = new SshNode({ hostname: bed.loopback.hostname, port: bed.loopback.port, ...access() });
    const jobs = behind.map(
      (node, i) =>
        new SshJob({ node, command: `sleep 60; echo ${tag}-t${i + 1}`, label: `t${i + 1}`, critical: false }),
    );
    const directTag = `${tag}-direct`;
    const directJob = new SshJob({
      node: direct,
      command: `sleep 4; echo ${directTag} done`,
      label: 'direct',
      critical: false,
    });
    const scheduler = new Scheduler({ critical: false, jobs: [...jobs, directJob] });
    const running = scheduler.run();
    // both remote commands (on the bed's t1 and t2 sshds) and the direct one are running
    await until('the three commands running', async () => (await commandsRunning(tag)).length === 3);
    await sessionsOpen(...behind, direct);
    await gw.kill();
    const ok = await within('the run after the gateway was killed', 20_000, running);
    expect(ok).toBe(true);
    for (const [i, job] of jobs.entries()) {
      expect(job.raisedException()).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
      const message = (job.raisedException() as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(bed.targets[i]?.hostname);
      if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${message}\n`);
    }
    expect(directJob.result()).toBe(0);
    expect((direct.formatter as RecordingFormatter).stdout()).toBe(`${directTag} done\n`);
    expect(await connectionsTo(gw.host, gw.port)).toBe(0);
    // nothing left on t1 and t2: their sshds closed the sessions, and each command's hang-up
    // guard ended it (without the guard, both would sleep on, out of reach behind the dead gateway)
    await until('no remote process left', async () => (await pgrep(markerPattern(tag))).length === 0, 5_000);
    await gw.stop();
  });

  it('sshd killed mid-command (a target behind the gateway): ERR_SSH_CHANNEL at once, the healthy job goes on', async () => {
    const t1 = await startSshd({ like: 't1', port: portFor(5) });
    const gateway = new SshNode({ hostname: bed.gateway.hostname, port: bed.gateway.port, ...access() });
    const node = new SshNode({
      hostname: t1.host,
      port: t1.port,
      gateway,
      ...access({ knownHosts: t1.knownHosts }),
    });
    const tag = marker('sshdkill');
    markers.push(tag);
    const healthy = new SshNode({ hostname: bed.loopback.hostname, port: bed.loopback.port, ...access() });
    const job = new SshJob({ node, command: `sleep 60; echo ${tag}`, label: 'target', critical: false });
    const fine = new SshJob({
      node: healthy,
      command: `sleep 3; echo ${tag}-healthy`,
      label: 'healthy',
      critical: false,
    });
    const scheduler = new Scheduler({ critical: false, jobs: [job, fine] });
    const running = scheduler.run();
    await until('both commands running', async () => (await commandsRunning(tag)).length === 2);
    await sessionsOpen(node, healthy);
    // the session's sshd processes are there while the command runs: one connection served
    expect((await t1.served()).some((p) => p.comm === 'sshd')).toBe(true);
    const killedAt = Date.now();
    await t1.kill();
    expect(await within('the run after sshd was killed', 20_000, running)).toBe(true);
    const message = (job.raisedException() as Error).message;
    if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${message}\n`);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect(message).toBe(
      `Connection to root@${bed.gateway.hostname}->root@${t1.host}:${t1.port} lost while running: sleep 60; echo ${tag}`,
    );
    expect(fine.result()).toBe(0);
    // the failure came from the dropped connection, not from waiting for the healthy job
    expect(job.raisedException()).toBeDefined();
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    // nothing left on t1: its sshd is gone, and the command's hang-up guard ended it (the
    // healthy job's command, same marker, is done)
    await until('no remote process left', async () => (await pgrep(markerPattern(tag))).length === 0, 5_000);
    // the gateway connection that carried the tunnel was released at the end of the run
    expect(await connectionsTo(bed.gateway.hostname, bed.gateway.port)).toBe(0);
    await t1.stop();
  });
});
