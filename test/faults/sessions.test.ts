/**
 * Fault matrix, MaxSessions reached: 100 concurrent commands on one node, against an sshd of our
 * own with `MaxSessions 10`, the node allowed 30 channels at once so that sshd really refuses
 * sessions: every command succeeds, on one connection, and nothing is left open.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../packages/core/src/index.js';
import { SshJob, SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  connectionsTo,
  portFor,
  RecordingFormatter,
  startSshd,
  trapUnhandledRejections,
  until,
  within,
} from './harness.js';

trapUnhandledRejections();

describe('fault matrix: MaxSessions', () => {
  it('100 concurrent commands on one connection (sshd MaxSessions 10, node maxSessions 30, maxConnections 1): all succeed', async () => {
    const sshd = await startSshd({ like: 'loopback', port: portFor(7), extra: ['MaxSessions 10'] });
    const formatter = new RecordingFormatter();
    const node = new SshNode({
      hostname: sshd.host,
      port: sshd.port,
      // one connection: the sessions sshd refuses are retried, never shown as failures
      ...access({ knownHosts: sshd.knownHosts, maxSessions: 30, maxConnections: 1, formatter }),
    });
    const jobs = Array.from(
      { length: 100 },
      (_, i) => new SshJob({ node, command: `echo c${i}; sleep 0.2`, label: `c${i}`, critical: false }),
    );
    const scheduler = new Scheduler({ critical: false, jobs });
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        // each open session is one sshd-forked shell under the connection's sshd
        const shells = (await sshd.served()).filter((p) => p.comm === 'sh' || p.comm === 'sleep').length;
        peak = Math.max(peak, shells);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    expect(await within('100 commands', 40_000, scheduler.run())).toBe(true);
    watching = false;
    await watch;
    for (const job of jobs) expect(job.raisedException()).toBeUndefined();
    // sshd did refuse sessions (MaxSessions reached), and jobgraph retried them
    expect(sshd.log()).toContain('no more sessions');
    const lines = formatter.stdout().trim().split('\n').sort();
    expect(lines).toEqual(jobs.map((_, i) => `c${i}`).sort());
    // one connection carried them all, and sshd never ran more than its 10 sessions at once
    expect(node.connectionCount).toBe(1);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(2 * 10);
    // the run's end closed the connection: no sshd child, no socket of ours
    await until('the connection closed on the server', async () => (await sshd.served()).length === 0, 5_000);
    expect(await connectionsTo(sshd.host, sshd.port)).toBe(0);
    await sshd.stop();
  });
});
