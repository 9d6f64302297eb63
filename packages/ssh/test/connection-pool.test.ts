/**
 * `connections: n` (issue 11): a node keeps up to n connections to its destination, opened as
 * commands need them, each with its own channel budget; n concurrent commands spread over n
 * connections; SFTP stays on the first; two node objects of one key share every connection.
 * Against the real test bed: which connection served a command is `$SSH_CONNECTION` (one per
 * TCP connection), and commands that must overlap wait for a flag file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, SshNode } from '../src/index.js';
import {
  bed,
  closeAfterEach,
  common,
  gatewayNode,
  loopbackNode,
  type RecordingFormatter,
  recorder,
  targetNode,
} from './bed.js';
import { flagFiles, served, until, waiting } from './probes.js';

afterAll(() => closeAll());

const track = closeAfterEach();
const newFlag = flagFiles('jobgraph-pool-');

/** `$SSH_CONNECTION` of each tag printed on these formatters. */
function connectionsOf(...formatters: RecordingFormatter[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const [tag, { connection }] of served(...formatters.map((f) => f.stdout())))
    found.set(tag, connection);
  return found;
}

/** How many commands ran on each connection, sorted. */
function spread(connections: Map<string, string>): number[] {
  const counts = new Map<string, number>();
  for (const connection of connections.values()) counts.set(connection, (counts.get(connection) ?? 0) + 1);
  return [...counts.values()].sort();
}

describe('connections: n', () => {
  it('connections: 3 and 6 concurrent commands → 3 connections on sshd, 2 commands each; all succeed', async () => {
    const flag = newFlag();
    const node = track(loopbackNode({ connections: 3 }));
    const tags = [0, 1, 2, 3, 4, 5].map((index) => `c${index}`);
    const runs = tags.map((tag) => node.run(waiting(tag, flag.path)));
    await until(() => connectionsOf(recorder(node)).size === 6);
    expect(spread(connectionsOf(recorder(node)))).toEqual([2, 2, 2]);
    expect(node.sessionsInUse).toBe(6);
    await flag.raise();
    expect(await Promise.all(runs)).toEqual(tags.map(() => ({ exitCode: 0, signal: null })));
    expect(node.connectionCount).toBe(3);
    expect(node.isConnected()).toBe(true);
    expect(recorder(node).events.filter((event) => event.kind === 'connected')).toHaveLength(3);
  });

  it('opens connections only as needed: commands one after the other use one', async () => {
    const node = track(loopbackNode({ connections: 4 }));
    for (const tag of ['a', 'b', 'c']) await node.run(waiting(tag));
    expect(new Set(connectionsOf(recorder(node)).values()).size).toBe(1);
    expect(node.connectionCount).toBe(1);
  });

  it('each connection has its own channel budget: maxSessions 1 × connections 2 runs two commands at once', async () => {
    const flag = newFlag();
    const node = track(loopbackNode({ connections: 2, maxSessions: 1 }));
    const runs = ['x', 'y'].map((tag) => node.run(waiting(tag, flag.path)));
    // both have started before either can end
    await until(() => connectionsOf(recorder(node)).size === 2);
    expect(spread(connectionsOf(recorder(node)))).toEqual([1, 1]);
    await flag.raise();
    expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0]);
  });

  it('two node objects with connections: 2 share both connections', async () => {
    const flag = newFlag();
    const [a, b] = [track(loopbackNode({ connections: 2 })), track(loopbackNode({ connections: 2 }))];
    const runs = [
      a.run(waiting('a0', flag.path)),
      a.run(waiting('a1', flag.path)),
      b.run(waiting('b0', flag.path)),
      b.run(waiting('b1', flag.path)),
    ];
    await until(() => connectionsOf(recorder(a), recorder(b)).size === 4);
    expect(spread(connectionsOf(recorder(a), recorder(b)))).toEqual([2, 2]);
    await flag.raise();
    await Promise.all(runs);
    expect([a.connectionCount, b.connectionCount]).toEqual([2, 2]);
  });

  it('SFTP uses the first connection: node.fs with connections: 3 opens no other', async () => {
    const node = track(loopbackNode({ connections: 3 }));
    const path = `${newFlag().path}-pool-fs.txt`;
    await node.fs.writeFile(path, 'through the first connection\n');
    expect(await node.fs.readText(path)).toBe('through the first connection\n');
    expect(node.connectionCount).toBe(1);
    expect(node.sessionsInUse).toBe(1);
  });

  it('behind a gateway: the connections of a target are tunnels through one gateway connection', async () => {
    const flag = newFlag();
    const gateway = track(gatewayNode());
    const target = track(targetNode(1, gateway, { connections: 2 }));
    const runs = ['t0', 't1'].map((tag) => target.run(waiting(tag, flag.path)));
    await until(() => connectionsOf(recorder(target)).size === 2);
    expect(spread(connectionsOf(recorder(target)))).toEqual([1, 1]);
    await flag.raise();
    expect((await Promise.all(runs)).map((result) => result.exitCode)).toEqual([0, 0]);
    expect([gateway.connectionCount, target.connectionCount]).toEqual([1, 2]);
  });

  it('refuses a connections that is not an integer from 1 to 64, and a shareConnection that is not a boolean', () => {
    const make = (extra: Record<string, unknown>) => () =>
      new SshNode({ hostname: bed.loopback.hostname, ...common(), ...extra } as never);
    for (const value of [0, 65, 1.5, '2']) {
      expect(make({ connections: value })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTION',
          message: expect.stringMatching(
            /^Invalid SshNode option connections: expected an integer from 1 to 64, got /,
          ),
        }),
      );
    }
    expect(make({ shareConnection: 'yes' })).toThrow(
      'Invalid SshNode option shareConnection: expected a boolean, got "yes"',
    );
    expect(new SshNode('h', { connections: 64 }).connections).toBe(64);
    expect(new SshNode('h').connections).toBe(1);
    expect(new SshNode('h').shareConnection).toBe(true);
  });
});
