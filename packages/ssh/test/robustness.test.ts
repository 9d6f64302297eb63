/**
 * What must not hang or go on: commands that read their input, transfers that are
 * cancelled, and targets whose connection dies behind a gateway.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Scheduler } from '@jobgraph/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Push, SshJob, type SshNode } from '../src/index.js';
import { bed, gatewayNode, loopbackNode, RecordingFormatter, recorder, targetNode } from './bed.js';

const run = promisify(execFile);
const nodes: SshNode[] = [];
function keep<T extends SshNode>(node: T): T {
  nodes.push(node);
  return node;
}
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-robustness-'));
});
afterAll(async () => {
  for (const node of nodes.reverse()) await node.close();
  await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it is true, at most `limit` ms. */
async function until(check: () => Promise<boolean>, limit = 10_000): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < limit) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('robustness', () => {
  it('a command that reads its input gets end-of-file at once (as `ssh host cmd < /dev/null`)', async () => {
    const node = keep(loopbackNode());
    expect((await node.run('cat; read line || echo got-eof')).exitCode).toBe(0);
    expect(recorder(node).stdout()).toBe('got-eof\n');
  });

  it('a cancelled Push stops copying, and the node stays usable', async () => {
    const file = join(dir, 'big');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file);
      out.on('error', reject);
      out.on('finish', resolve);
      const chunk = Buffer.alloc(1 << 20, 7);
      for (let i = 0; i < 300; i++) out.write(chunk);
      out.end();
    });
    const remote = `/tmp/jobgraph-cancelled-push-${process.pid}`;
    const node = keep(loopbackNode({ keepaliveInterval: 0 }));
    const job = new SshJob({
      node,
      commands: [new Push(file, remote)],
      timeout: 300,
      critical: false,
      keepConnection: true,
    });
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    expect(await scheduler.run()).toBe(true);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
    const size = async () => {
      const probe = new RecordingFormatter();
      const checker = keep(loopbackNode({ formatter: probe }));
      await checker.run(`stat -c %s ${remote} 2>/dev/null || echo 0`);
      return Number(probe.stdout().trim());
    };
    // the size settles below the full size (the copy stopped)
    let last = await size();
    await until(async () => {
      const now = await size();
      const settled = now === last;
      last = now;
      return settled;
    });
    expect(last).toBeLessThan(300 << 20);
    expect((await node.run(`rm -f ${remote}; echo usable`)).exitCode).toBe(0);
    expect(recorder(node).stdout()).toContain('usable\n');
  });

  it('a target whose session dies behind the gateway fails at once instead of hanging', async () => {
    const gateway = keep(gatewayNode());
    const target = keep(targetNode(0, gateway));
    const marker = `jobgraph-dies-${process.pid}`;
    const running = target.run(`sleep 300; echo ${marker}`).catch((error: unknown) => error);
    // the sshd process of that session on t1 shows the command line of its child: kill the session
    const found = await until(async () => {
      const { stdout } = await run('pgrep', ['-f', `[${marker[0]}]${marker.slice(1)}`]).catch(() => ({
        stdout: '',
      }));
      return stdout.trim() !== '';
    });
    expect(found).toBe(true);
    const { stdout } = await run('ip', ['netns', 'pids', 'jgtb-t1']);
    const sessions = await Promise.all(
      stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(async (pid) => {
          const { stdout: args } = await run('ps', ['-o', 'args=', '-p', pid]).catch(() => ({ stdout: '' }));
          return { pid, args };
        }),
    );
    const session = sessions.find(({ args }) => /sshd: root@notty/.test(args));
    expect(session).toBeDefined();
    process.kill(Number(session?.pid), 'SIGKILL');
    const error = await running;
    expect(error).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
    expect((error as Error).message).toContain(bed.targets[0].hostname);
    // the node reconnects for the next command
    expect((await target.run('true')).exitCode).toBe(0);
  }, 30_000);
});
