/**
 * A gateway connection that only carries tunnels: its sshd must still send without delay. OpenSSH
 * turns Nagle's algorithm off on a connection only when a session first runs a command; without
 * one, commands overlapping through the gateway each waited for a delayed ACK (~40 ms, against
 * ~3 ms). jobgraph runs one `true` on a gateway connection before its first tunnel. Measured as a
 * ratio with a wide margin (the stall made it ~15×): overlapping commands through the gateway
 * against the same commands run on the gateway itself, each on a fresh connection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, type SshNode } from '../src/index.js';
import { closeAfterEach, gatewayNode, targetNode } from './bed.js';

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
