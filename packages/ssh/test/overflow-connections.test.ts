/**
 * Overflow connections (issue 14): when every open connection of a node has `maxSessions`
 * channels in use, a command opens another connection (up to `maxConnections`, default 4)
 * instead of waiting for a channel; those connections close once idle for `idleClose` ms. Against
 * the real test bed: the connections are counted on the sshd side (`ss`: this process's TCP
 * connections to the loopback sshd) and by `$SSH_CONNECTION` in each command's output.
 */
import { Scheduler } from '@jobgraph/core';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, closeSshInScheduler, SshJob, SshNode, topologyDot } from '../src/index.js';
import { lazySsh2Transport } from '../src/transport/lazy-ssh2.js';
import type { Transport } from '../src/transport/transport.js';
import { bed, closeAfterEach, common, gatewayNode, loopbackNode, recorder, targetNode } from './bed.js';
import { flagFiles, loopbackConnections, served, until, waiting } from './probes.js';

afterAll(() => closeAll());

const track = closeAfterEach();
const newFlag = flagFiles('jobgraph-overflow-');

/** How many commands each connection (`$SSH_CONNECTION`) served, sorted. */
function spread(stdout: string): number[] {
  const counts = new Map<string, number>();
  for (const { connection } of served(stdout).values())
    counts.set(connection, (counts.get(connection) ?? 0) + 1);
  return [...counts.values()].sort();
}

const started = (node: SshNode) => served(recorder(node).stdout()).size;

describe('overflow connections', () => {
  it('maxSessions 2, 5 concurrent commands: 3 connections on sshd (2 + 2 + 1); the overflow ones close once idle, the first stays', async () => {
    const flag = newFlag();
    const node = track(loopbackNode({ maxSessions: 2, idleClose: 100 }));
    const runs = [0, 1, 2, 3, 4].map((index) => node.run(waiting(`c${index}`, flag.path)));
    // all five run at once: none waits for a channel
    await until(() => started(node) === 5);
    expect(spread(recorder(node).stdout())).toEqual([1, 2, 2]);
    expect(await loopbackConnections()).toBe(3);
    expect(node.openConnections).toBe(3);
    await flag.raise();
    expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0, 0, 0, 0]);
    await until(async () => node.openConnections === 1 && (await loopbackConnections()) === 1);
    expect(node.connectionCount).toBe(3);
    expect(node.isConnected()).toBe(true);
    const kinds = recorder(node).events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'connected')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'disconnected')).toHaveLength(2);
  });

  it('queues only beyond maxConnections × maxSessions: maxSessions 1, maxConnections 2, 3 commands → 2 run, the third waits, then runs', async () => {
    const flag = newFlag();
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 2 }));
    const runs = ['a', 'b', 'c'].map((tag) => node.run(waiting(tag, flag.path)));
    await until(() => started(node) === 2);
    expect(await loopbackConnections()).toBe(2);
    expect(node.sessionsInUse).toBe(2);
    // the third has no channel: it has not started (it would have printed its tag by now)
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started(node)).toBe(2);
    await flag.raise();
    expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0, 0]);
    expect(started(node)).toBe(3);
    expect(node.connectionCount).toBe(2);
  });

  it('an idle overflow connection is used again by the next burst while idleClose has not run out', async () => {
    const node = track(loopbackNode({ maxSessions: 1, idleClose: 60_000 }));
    for (const round of [1, 2]) {
      const flag = newFlag();
      const runs = ['x', 'y'].map((tag) => node.run(waiting(`${tag}${round}`, flag.path)));
      await until(() => started(node) === 2 * round);
      await flag.raise();
      await Promise.all(runs);
    }
    // two connections opened in all: the second burst found both open
    expect(node.connectionCount).toBe(2);
    expect(node.openConnections).toBe(2);
    expect(spread(recorder(node).stdout())).toEqual([2, 2]);
  });

  it('maxConnections 1: the commands wait for a channel on the one connection, as before', async () => {
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 1 }));
    const results = await Promise.all(['p', 'q', 'r'].map((tag) => node.run(waiting(tag))));
    expect(results.map((result) => result.exitCode)).toEqual([0, 0, 0]);
    expect(spread(recorder(node).stdout())).toEqual([3]);
    expect(node.connectionCount).toBe(1);
  });

  it('behind a gateway: the overflow connections are tunnels through the one gateway connection', async () => {
    const flag = newFlag();
    const gateway = track(gatewayNode());
    const target = track(targetNode(1, gateway, { maxSessions: 1 }));
    const runs = ['t0', 't1', 't2'].map((tag) => target.run(waiting(tag, flag.path)));
    await until(() => started(target) === 3);
    expect(spread(recorder(target).stdout())).toEqual([1, 1, 1]);
    await flag.raise();
    expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0, 0]);
    expect([gateway.connectionCount, target.connectionCount]).toEqual([1, 3]);
    expect(target.distance()).toBe(2);
  });

  it('the end of a run closes the overflow connections with the first; node.close() closes them all', async () => {
    const flag = newFlag();
    const node = loopbackNode({ maxSessions: 1, idleClose: 60_000 });
    const scheduler = new Scheduler({ critical: false });
    const jobs = ['j0', 'j1', 'j2'].map(
      (tag) => new SshJob({ node, command: waiting(tag, flag.path), scheduler }),
    );
    const run = scheduler.run();
    await until(() => started(node) === 3);
    expect(await loopbackConnections()).toBe(3);
    await flag.raise();
    expect(await run).toBe(true);
    expect(jobs.map((job) => job.result())).toEqual([0, 0, 0]);
    // released at the run's end, not after idleClose
    await until(async () => (await loopbackConnections()) === 0);
    expect(node.openConnections).toBe(0);

    const again = track(loopbackNode({ maxSessions: 1, idleClose: 60_000 }));
    const second = newFlag();
    const runs = ['k0', 'k1'].map((tag) =>
      again.run(waiting(tag, second.path)).catch((error: unknown) => error),
    );
    await until(() => started(again) === 2);
    await again.close();
    expect(await loopbackConnections()).toBe(0);
    expect(await Promise.all(runs)).toEqual([
      expect.objectContaining({ code: 'ERR_SSH_CHANNEL' }),
      expect.objectContaining({ code: 'ERR_SSH_CHANNEL' }),
    ]);
  });

  it('keepConnection: the overflow connections stay after the run; the topology shows the node once; closeSshInScheduler closes them all', async () => {
    const flag = newFlag();
    const gateway = gatewayNode();
    const node = targetNode(0, gateway, { maxSessions: 1, idleClose: 60_000 });
    const scheduler = new Scheduler({ critical: false });
    for (const tag of ['k0', 'k1', 'k2'])
      new SshJob({ node, command: waiting(tag, flag.path), scheduler, keepConnection: true });
    const run = scheduler.run();
    await until(() => started(node) === 3);
    await flag.raise();
    expect(await run).toBe(true);
    expect([node.openConnections, node.connectionCount, gateway.connectionCount]).toEqual([3, 3, 1]);
    // one node, one gateway: the connections are not nodes
    const dot = topologyDot(scheduler);
    expect(dot.match(/->/g)).toHaveLength(2);
    await closeSshInScheduler(scheduler);
    expect([node.openConnections, node.isConnected(), gateway.isConnected()]).toEqual([0, false, false]);
  });

  it('a server that takes one connection only: the overflow connection fails, the command waits for a channel and runs; no second try soon after', async () => {
    let connects = 0;
    // the real sshd, behind a transport that refuses every connection after the first (as a
    // server limiting its logins per user would)
    const transport: Transport = {
      ...lazySsh2Transport,
      connect: (request) =>
        ++connects === 1
          ? lazySsh2Transport.connect(request)
          : Promise.reject(new Error('Connection refused')),
    };
    const node = track(loopbackNode({ maxSessions: 1, transport }));
    for (const round of [1, 2]) {
      const flag = newFlag();
      const runs = ['a', 'b'].map((tag) => node.run(waiting(`${tag}${round}`, flag.path)));
      await until(() => started(node) === 2 * round - 1);
      await flag.raise();
      expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0]);
    }
    // one refused overflow connection, then none tried: the second round queued at once
    expect(connects).toBe(2);
    expect(node.connectionCount).toBe(1);
    expect(recorder(node).events.filter((event) => event.kind === 'connect-failed')).toHaveLength(1);
    expect(spread(recorder(node).stdout())).toEqual([4]);
  });

  it('a spreading lane whose one channel holds the SFTP session: the command opens the next spreading lane, not an overflow one', async () => {
    const node = track(loopbackNode({ connections: 2, maxSessions: 1, maxConnections: 2 }));
    await node.fs.writeFile(`${newFlag().path}-sftp.txt`, 'the first channel is SFTP\n');
    const result = await node.run(waiting('after-sftp'));
    expect(result.exitCode).toBe(0);
    expect(node.connectionCount).toBe(2);
  });

  it('maxSessions 1, the first connection’s channel held by SFTP: 3 concurrent commands queue on the overflow connection, not behind the SFTP session', async () => {
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 2 }));
    await node.fs.writeFile(`${newFlag().path}-sftp-first.txt`, 'the first channel is SFTP\n');
    // before the fix, the 2nd and 3rd waited on the first connection (no command there) for good
    const results = await Promise.all(['q1', 'q2', 'q3'].map((tag) => node.run(waiting(tag))));
    expect(results.map((result) => result.exitCode)).toEqual([0, 0, 0]);
    expect(node.connectionCount).toBe(2);
    expect(spread(recorder(node).stdout())).toEqual([3]);
  });

  it('maxSessions 1 and maxConnections 1 with the SFTP session open: a command fails at once with what to change, and runs after resetSftp()', async () => {
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 1 }));
    await node.fs.writeFile(`${newFlag().path}-sftp-only.txt`, 'the only channel is SFTP\n');
    await expect(node.run('true')).rejects.toMatchObject({
      code: 'ERR_SSH_CHANNEL',
      message: expect.stringMatching(
        /^Cannot run a command on .+: SFTP sessions hold every channel of its connection \(maxSessions 1\), and maxConnections is 1; raise maxSessions or maxConnections, or call resetSftp\(\) on the node whose file commands are done$/,
      ),
    });
    node.resetSftp();
    expect((await node.run('true')).exitCode).toBe(0);
  });

  it('refuses a maxConnections outside 1–64 and an idleClose that is not a duration; a maxConnections below connections counts as connections', () => {
    const make = (extra: Record<string, unknown>) => () =>
      new SshNode({ hostname: bed.loopback.hostname, ...common(), ...extra } as never);
    for (const value of [0, 65, 1.5, '2']) {
      expect(make({ maxConnections: value })).toThrow(
        /^Invalid SshNode option maxConnections: expected an integer from 1 to 64, got /,
      );
    }
    expect(new SshNode('h', { connections: 3, maxConnections: 2 }).maxConnections).toBe(3);
    for (const value of [-1, Number.NaN, '5s']) {
      expect(make({ idleClose: value })).toThrow(
        /^Invalid SshNode option idleClose: expected a number of milliseconds from 0 to /,
      );
    }
    expect(new SshNode('h').maxConnections).toBe(4);
    expect(new SshNode('h', { connections: 6 }).maxConnections).toBe(6);
    expect(new SshNode('h').idleClose).toBe(5_000);
  });
});
