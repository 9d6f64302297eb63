/**
 * Connections shared by SshNode objects (issue 11, part 3), against the real test bed: one
 * connection per destination and settings whatever the number of node objects, reference-counted
 * (closing one node leaves the others' commands alone), closeAll(); and a dropped connection
 * (its sshd process killed): the next command reconnects, and the commands queued on it move to
 * the new one.
 *
 * Which connection served a command is what sshd tells it: `$SSH_CONNECTION` (client address and
 * port: one per TCP connection, or per tunnel behind the gateway) and `$PPID` (the sshd process
 * that serves the connection). Commands that must overlap wait for a flag file, never for a delay.
 */
import { Scheduler } from '@jobgraph/core';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, Run, SshJob, type SshNode } from '../src/index.js';
import {
  closeAfterEach,
  gatewayNode,
  loopbackNode,
  RecordingFormatter,
  recorder,
  targetNode,
} from './bed.js';
import { flagFiles, loopbackConnections, served, until, waiting } from './probes.js';

afterAll(() => closeAll());

const track = closeAfterEach();
const newFlag = flagFiles('jobgraph-shared-');

/** What `waiting(tag)` printed on this formatter, by tag. */
const servedOn = (formatter: RecordingFormatter) => served(formatter.stdout());

describe('one connection shared by node objects of one destination', () => {
  it('two schedulers in one script, each with its own node object, running at once: sshd sees one connection', async () => {
    const baseline = await loopbackConnections();
    const flag = newFlag();
    const [a, b] = [track(loopbackNode()), track(loopbackNode())];
    const runs = [a, b].map((node, index) =>
      new Scheduler({ jobs: [new SshJob({ node, command: waiting(`s${index}`, flag.path) })] }).run(),
    );
    // both commands are running: each has printed where it runs
    await until(() => servedOn(recorder(a)).has('s0') && servedOn(recorder(b)).has('s1'));
    expect(await loopbackConnections()).toBe(baseline + 1);
    const [first, second] = [servedOn(recorder(a)).get('s0'), servedOn(recorder(b)).get('s1')];
    expect(first).toBeDefined();
    expect(second).toEqual(first);
    await flag.raise();
    expect(await Promise.all(runs)).toEqual([true, true]);
    expect([a.connectionCount, b.connectionCount]).toEqual([1, 1]);
    // each node's formatter heard of the connection, and of its own command only
    for (const [node, tag] of [
      [a, 's0'],
      [b, 's1'],
    ] as const) {
      const kinds = recorder(node).events.map((event) => event.kind);
      expect(kinds).toContain('connected');
      expect(recorder(node).events.filter((event) => event.kind === 'session-start')).toHaveLength(1);
      expect(recorder(node).stdout()).toContain(`${tag} `);
    }
    // the end of both runs released the connection: it closed
    await until(async () => (await loopbackConnections()) === baseline);
    expect([a.isConnected(), b.isConnected()]).toEqual([false, false]);
  });

  it('closing one node does not break the command of the other; closing the last closes the connection', async () => {
    const baseline = await loopbackConnections();
    const flag = newFlag();
    const [a, b] = [track(loopbackNode()), track(loopbackNode())];
    await a.run(waiting('a'));
    const running = b.run(`${waiting('b', flag.path)}; echo b-done`);
    await until(() => servedOn(recorder(b)).has('b'));
    expect(servedOn(recorder(b)).get('b')).toEqual(servedOn(recorder(a)).get('a'));
    await a.close();
    expect(a.isConnected()).toBe(false);
    expect(b.isConnected()).toBe(true);
    expect(recorder(a).events.at(-1)?.kind).toBe('disconnected');
    await flag.raise();
    expect(await running).toEqual({ exitCode: 0, signal: null });
    expect(recorder(b).stdout()).toContain('b-done\n');
    expect(recorder(b).events.map((event) => event.kind)).not.toContain('disconnected');
    expect(await loopbackConnections()).toBe(baseline + 1);
    await b.close();
    expect(b.isConnected()).toBe(false);
    await until(async () => (await loopbackConnections()) === baseline);
  });

  it("the end of one scheduler's run leaves open a connection that another scheduler's node still uses", async () => {
    const flag = newFlag();
    const [short, long] = [track(loopbackNode()), track(loopbackNode())];
    const longRun = new Scheduler({
      jobs: [
        new SshJob({
          node: long,
          commands: [new Run(waiting('long', flag.path)), new Run('echo second-command')],
        }),
      ],
    }).run();
    await until(() => servedOn(recorder(long)).has('long'));
    expect(
      await new Scheduler({ jobs: [new SshJob({ node: short, command: waiting('short') })] }).run(),
    ).toBe(true);
    // short's run has ended (its node released the connection), long's goes on, on the same connection
    expect(servedOn(recorder(short)).get('short')).toEqual(servedOn(recorder(long)).get('long'));
    expect(short.isConnected()).toBe(false);
    expect(long.isConnected()).toBe(true);
    await flag.raise();
    expect(await longRun).toBe(true);
    expect(recorder(long).stdout()).toContain('second-command\n');
    expect(long.connectionCount).toBe(1);
  });

  it('node objects with different settings, or shareConnection: false, get connections of their own', async () => {
    const plain = track(loopbackNode());
    const others = [
      track(loopbackNode({ maxSessions: 4 })),
      track(loopbackNode({ password: 'not-this-one' })),
      track(loopbackNode({ password: 'nor-this-one' })),
      track(loopbackNode({ shareConnection: false })),
      track(loopbackNode({ shareConnection: false })),
    ];
    const nodes = [plain, ...others];
    await Promise.all(nodes.map((node, index) => node.run(waiting(`n${index}`))));
    const connections = nodes.map((node, index) => servedOn(recorder(node)).get(`n${index}`)?.connection);
    expect(connections.every((connection) => connection !== undefined)).toBe(true);
    expect(new Set(connections).size).toBe(nodes.length);
    expect(others.map((node) => node.shareConnection)).toEqual([true, true, true, false, false]);
    // the password is part of the key, never of what is shown
    const shown = JSON.stringify(
      nodes.flatMap((node) => recorder(node).events.map(({ kind, detail }) => ({ kind, detail }))),
    );
    expect(shown).not.toContain('not-this-one');
    expect(shown).not.toContain('nor-this-one');
  });

  it('behind a gateway: node objects of one gateway and one target share both connections; closing one pair leaves the other running', async () => {
    const flag = newFlag();
    const [g1, g2] = [track(gatewayNode()), track(gatewayNode())];
    const [t1, t2] = [track(targetNode(0, g1)), track(targetNode(0, g2))];
    await t1.run(waiting('t1'));
    const running = t2.run(`${waiting('t2', flag.path)}; echo t2-done`);
    await until(() => servedOn(recorder(t2)).has('t2'));
    expect(servedOn(recorder(t2)).get('t2')).toEqual(servedOn(recorder(t1)).get('t1'));
    await Promise.all([g1.run(waiting('g1')), g2.run(waiting('g2'))]);
    expect(servedOn(recorder(g2)).get('g2')).toEqual(servedOn(recorder(g1)).get('g1'));
    expect([g1, g2, t1, t2].map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
    // remotest first, as closeSshInScheduler does
    await t1.close();
    await g1.close();
    await flag.raise();
    expect(await running).toEqual({ exitCode: 0, signal: null });
    expect(recorder(t2).stdout()).toContain('t2-done\n');
    expect([t2.isConnected(), g2.isConnected()]).toEqual([true, true]);
    expect([t1.isConnected(), g1.isConnected()]).toEqual([false, false]);
  });

  it('closeAll() closes every connection; a running command fails, and the nodes connect again afterwards', async () => {
    const baseline = await loopbackConnections();
    const [a, b] = [track(loopbackNode()), track(loopbackNode({ shareConnection: false }))];
    const running = a.run(waiting('a', newFlag().path)).catch((error: unknown) => error);
    await until(() => servedOn(recorder(a)).has('a'));
    await b.run('true');
    expect(await loopbackConnections()).toBe(baseline + 2);
    await closeAll();
    expect(await running).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect([a.isConnected(), b.isConnected()]).toEqual([false, false]);
    await until(async () => (await loopbackConnections()) === baseline);
    expect((await a.run('true')).exitCode).toBe(0);
    expect(a.connectionCount).toBe(2);
  });
});

/** The sshd process serving this node's connection (its `$PPID`), found by running a command. */
async function sshdOf(node: SshNode, tag: string): Promise<number> {
  await node.run(waiting(tag));
  const sshd = servedOn(recorder(node)).get(tag)?.sshd;
  if (sshd === undefined) throw new Error(`no sshd process for ${tag}`);
  return sshd;
}

describe('a dropped connection (its sshd process killed)', () => {
  it('the next command reconnects, for every node object that shared it', async () => {
    const [a, b] = [track(loopbackNode()), track(loopbackNode())];
    await b.connect();
    const sshd = await sshdOf(a, 'before');
    process.kill(sshd, 'SIGKILL');
    await until(() => !a.isConnected() && !b.isConnected());
    expect(recorder(a).events.at(-1)?.kind).toBe('disconnected');
    await a.run(waiting('after-a'));
    await b.run(waiting('after-b'));
    const [before, afterA, afterB] = [
      servedOn(recorder(a)).get('before'),
      servedOn(recorder(a)).get('after-a'),
      servedOn(recorder(b)).get('after-b'),
    ];
    expect(afterA?.connection).not.toBe(before?.connection);
    expect(afterB).toEqual(afterA);
    expect([a.connectionCount, b.connectionCount]).toEqual([2, 2]);
  });

  it('with maxSessions 1: the running command fails (connection lost), the 3 queued ones run on a new connection', async () => {
    // one connection at most: the others queue for its one channel
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 1 }));
    const running = node
      .run(`echo "group $$"; ${waiting('running')}; sleep 300`)
      .catch((error: unknown) => error);
    await until(() => servedOn(recorder(node)).has('running'));
    const queued = [1, 2, 3].map((index) => node.run(waiting(`queued${index}`)));
    // the queued commands reach the channel budget and wait there (the one slot is taken)
    await new Promise((resolve) => setImmediate(resolve));
    expect(node.sessionsInUse).toBe(1);
    expect(servedOn(recorder(node)).size).toBe(1);
    const first = servedOn(recorder(node)).get('running');
    process.kill(first?.sshd ?? 0, 'SIGKILL');
    const error = await running;
    expect(error).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect((error as Error).message).toMatch(/^Connection to root@127\.0\.0\.1:\d+ lost while running: /);
    expect(await Promise.all(queued)).toEqual([1, 2, 3].map(() => ({ exitCode: 0, signal: null })));
    const after = [1, 2, 3].map((index) => servedOn(recorder(node)).get(`queued${index}`)?.connection);
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(first?.connection);
    expect(node.connectionCount).toBe(2);
    // the sleep left behind by the killed connection (the shell's PID is its process group)
    const group = Number(/^group (\d+)$/m.exec(recorder(node).stdout())?.[1]);
    expect(group).toBeGreaterThan(1);
    process.kill(-group, 'SIGKILL');
  });

  it('commands queued when the node is closed fail at once rather than reconnect', async () => {
    const node = track(loopbackNode({ maxSessions: 1, maxConnections: 1 }));
    const running = node.run(waiting('running', newFlag().path)).catch((error: unknown) => error);
    await until(() => servedOn(recorder(node)).has('running'));
    const queued = node.run('echo never').catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    await node.close();
    expect(await queued).toMatchObject({
      code: 'ERR_SSH_CHANNEL',
      message: expect.stringMatching(/closed before the command could start$/),
    });
    expect(await running).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect(node.connectionCount).toBe(1);
    expect(recorder(node).stdout()).not.toContain('never');
  });
});

describe('events of a shared connection', () => {
  it('a node that starts using an open connection is told connected; one formatter shared by two nodes hears each event once', async () => {
    const shared = new RecordingFormatter();
    const [a, b] = [track(loopbackNode({ formatter: shared })), track(loopbackNode({ formatter: shared }))];
    const late = track(loopbackNode());
    await Promise.all([a.run('true'), b.run('true')]);
    await late.run('true');
    const kinds = shared.events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'connecting')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'connected')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'session-start')).toHaveLength(2);
    expect(recorder(late).events.map((event) => event.kind)).toEqual([
      'connected',
      'session-start',
      'session-stop',
    ]);
    await late.close();
    expect(recorder(late).events.at(-1)?.kind).toBe('disconnected');
    await Promise.all([a.close(), b.close()]);
    expect(shared.events.at(-1)?.kind).toBe('disconnected');
    expect(shared.events.filter((event) => event.kind === 'disconnected')).toHaveLength(1);
  });
});
