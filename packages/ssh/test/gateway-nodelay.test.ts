/**
 * A gateway connection that only carries tunnels: its sshd must still send without delay. OpenSSH
 * turns Nagle's algorithm off on a connection only when a session first runs a command; without
 * one, commands overlapping through the gateway each waited for a delayed ACK (~40 ms, against
 * ~3 ms). jobgraph runs one `true` on a gateway connection before its first tunnel. Measured as a
 * ratio with a wide margin (the stall made it ~15×): overlapping commands through the gateway
 * against the same commands run on the gateway itself, each on a fresh connection.
 */
import { readFile, stat } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, type SshNode } from '../src/index.js';
import { bed, closeAfterEach, gatewayNode, targetNode } from './bed.js';
import { until } from './probes.js';

afterAll(() => closeAll());
const track = closeAfterEach();

/** Two chains of 15 `true` at once on `node`, after a first command (the connections are open). */
async function overlapping(node: SshNode): Promise<number> {
  await node.run('true');
  const started = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      for (let i = 0; i < 15; i++) await node.run('true');
    }),
  );
  return performance.now() - started;
}

describe('commands through a gateway that runs no command of its own', () => {
  it('are not held back by delayed ACKs: within 4× the time of the same commands on the gateway itself', async () => {
    const direct = await overlapping(track(gatewayNode()));
    await closeAll();
    const tunnelled = await overlapping(track(targetNode(0, track(gatewayNode()))));
    expect(tunnelled / direct).toBeLessThan(4);
  });
});

describe('the `true` run on a gateway connection', () => {
  /** Sessions that ran a command on the gateway's sshd since `from` (its log, LogLevel VERBOSE). */
  const sessionsSince = async (from: number) =>
    ((await readFile(bed.gateway.log, 'utf8')).slice(from).match(/Starting session: command for /g) ?? [])
      .length;

  it('runs once per gateway connection, before its first tunnel; tunnelNoDelay: false skips it', async () => {
    for (const [tunnelNoDelay, expected] of [
      [true, 1],
      [false, 0],
    ] as const) {
      await closeAll();
      const from = (await stat(bed.gateway.log)).size;
      const gateway = track(gatewayNode({ tunnelNoDelay }));
      const targets = [track(targetNode(0, gateway)), track(targetNode(1, gateway))];
      await Promise.all(targets.map((target) => target.run('true')));
      await until(async () => (await sessionsSince(from)) >= expected);
      // the two tunnels are on one gateway connection: one `true` at most
      expect(await sessionsSince(from)).toBe(expected);
      expect(gateway.connectionCount).toBe(1);
    }
  });

  it('refuses a tunnelNoDelay that is not a boolean', () => {
    expect(() => gatewayNode({ tunnelNoDelay: 'no' as never })).toThrow(
      'Invalid SshNode option tunnelNoDelay: expected a boolean, got "no"',
    );
  });
});
