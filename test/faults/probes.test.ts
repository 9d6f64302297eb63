/**
 * The matrix's probes catch what they are meant to catch: each check that a fault test expects to
 * find nothing (a connection, a remote process, an sshd child, a hang, an unhandled rejection) is
 * shown here to find the thing when it is there — so a zero in the matrix is not a blind probe.
 */
import { describe, expect, it } from 'vitest';
import { SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  bed,
  commandsRunning,
  connectionsTo,
  killMarked,
  marker,
  markerPattern,
  pgrep,
  portFor,
  startSshd,
  until,
  within,
} from './harness.js';

describe('the probes of the fault matrix', () => {
  it('connectionsTo sees an open connection, pgrep a running remote command, served() the session', async () => {
    const sshd = await startSshd({ like: 'loopback', port: portFor(9) });
    const node = new SshNode({
      hostname: sshd.host,
      port: sshd.port,
      ...access({ knownHosts: sshd.knownHosts }),
    });
    const tag = marker('probe');
    try {
      const running = node.run(`sleep 30; echo ${tag}`).catch((error: unknown) => error);
      await until('the command running', async () => (await commandsRunning(tag)).length === 1);
      expect(await connectionsTo(sshd.host, sshd.port)).toBe(1);
      const served = await sshd.served();
      expect(served.filter((p) => p.comm === 'sshd').length).toBeGreaterThan(0);
      expect(served.some((p) => p.comm === 'sleep')).toBe(true);
      // the probe sees the command go when it goes
      await killMarked(tag);
      await until('the command gone', async () => (await pgrep(markerPattern(tag))).length === 0, 5_000);
      await within('the command after its kill', 5_000, running);
      await node.close();
      expect(await connectionsTo(sshd.host, sshd.port)).toBe(0);
      await until('no session under our sshd', async () => (await sshd.served()).length === 0, 5_000);
    } finally {
      await killMarked(tag);
      await sshd.stop();
    }
  });

  it('within() turns a hang into a failure, and the bed is what the matrix thinks', async () => {
    await expect(within('a promise that never settles', 100, new Promise(() => undefined))).rejects.toThrow(
      'hang: a promise that never settles did not settle within 100 ms',
    );
    expect(bed.targets.map((target) => target.netns)).toEqual(['jgtb-t1', 'jgtb-t2']);
  });

  it('the unhandled-rejection trap sees a rejection nobody handles', async () => {
    const seen: unknown[] = [];
    const listener = (reason: unknown): void => {
      seen.push(reason);
    };
    process.on('unhandledRejection', listener);
    try {
      void Promise.reject(new Error('left alone'));
      await until('the rejection reported', () => seen.length === 1, 2_000);
      expect(String(seen[0])).toBe('Error: left alone');
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
