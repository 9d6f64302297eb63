/**
 * The SSH layer's events in a scheduler's stream, on the bed: connections (attachSshEvents:
 * `ssh:connect` direct or through the gateway, `ssh:close`, `ssh:connect-failed`) and transfers
 * with their bytes (`cmd:done`); the node's own listeners (`node.onEvent`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler, type SchedulerEvent } from '@jobgraph/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachSshEvents, closeSshInScheduler, Pull, Push, SshJob, SshNode } from '../src/index.js';
import {
  bed,
  closeAfterEach,
  common,
  gatewayNode,
  loopbackNode,
  RecordingFormatter,
  targetNode,
} from './bed.js';

const track = closeAfterEach();
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-sched-events-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The events of `types` a run gave, as `type node` plus what matters of each. */
function pick(events: SchedulerEvent[], prefix: string): Record<string, unknown>[] {
  return events
    .filter((event) => event.type.startsWith(prefix))
    .map(({ time: _time, path: _path, ...rest }) => rest as Record<string, unknown>);
}

/**
 * Runs `scheduler` (it must succeed) with attachSshEvents, then closes its connections (the jobs
 * released them at the end of the run: this waits for them to be closed). @returns every event
 */
async function runWithSshEvents(scheduler: Scheduler): Promise<SchedulerEvent[]> {
  const events: SchedulerEvent[] = [];
  scheduler.onAny((event) => events.push(event));
  const stop = attachSshEvents(scheduler);
  expect(await scheduler.run()).toBe(true);
  await closeSshInScheduler(scheduler);
  stop();
  return events;
}

describe('attachSshEvents', () => {
  it('a direct node and a target behind the gateway: ssh:connect (direct or not), then ssh:close, each once', async () => {
    const gateway = track(gatewayNode());
    const target = track(targetNode(0, gateway));
    const direct = track(loopbackNode());
    const scheduler = new Scheduler({
      jobs: [new SshJob({ node: direct, command: 'true' }), new SshJob({ node: target, command: 'true' })],
    });
    const events = await runWithSshEvents(scheduler);
    const ssh = pick(events, 'ssh:');
    expect(ssh.filter((event) => event.type === 'ssh:connect')).toEqual(
      expect.arrayContaining([
        { type: 'ssh:connect', node: direct.toString(), direct: true },
        { type: 'ssh:connect', node: gateway.toString(), direct: true },
        { type: 'ssh:connect', node: target.toString(), direct: false },
      ]),
    );
    for (const node of [direct, gateway, target]) {
      expect(
        ssh.filter((event) => event.node === node.toString() && event.type === 'ssh:connect'),
      ).toHaveLength(1);
      expect(ssh.filter((event) => event.node === node.toString() && event.type === 'ssh:close')).toEqual([
        { type: 'ssh:close', node: node.toString(), lost: false },
      ]);
    }
    // each close after its connect, the gateway's after its target's
    const at = (type: string, node: SshNode) =>
      events.findIndex(
        (event) => event.type === type && (event as { node?: string }).node === node.toString(),
      );
    expect(at('ssh:connect', target)).toBeLessThan(at('ssh:close', target));
    expect(at('ssh:close', target)).toBeLessThan(at('ssh:close', gateway));
    // nothing once stopped
    const count = events.length;
    await direct.run('true', { printStdout: false });
    await direct.close();
    expect(events.length).toBe(count);
  });

  it('two node objects sharing a connection and a formatter: each gets its ssh:connect and ssh:close', async () => {
    const formatter = new RecordingFormatter();
    const one = track(loopbackNode({ formatter }));
    const two = track(loopbackNode({ formatter }));
    // the second node joins the connection once it is open (its job requires the first one's)
    const first = new SshJob({ node: one, command: 'true' });
    const scheduler = new Scheduler({
      jobs: [first, new SshJob({ node: two, command: 'true', required: first })],
    });
    const events = await runWithSshEvents(scheduler);
    // one connection (the registry shares it), two nodes, one formatter: the node events go to
    // each node, the formatter hears each once
    expect(one.connectionCount + two.connectionCount).toBeGreaterThan(0);
    const kinds = pick(events, 'ssh:').map((event) => event.type);
    expect(kinds.filter((kind) => kind === 'ssh:connect')).toHaveLength(2);
    expect(kinds.filter((kind) => kind === 'ssh:close')).toHaveLength(2);
  });

  it('a refused port: ssh:connect-failed with the one-line error, beside the job:failed', async () => {
    const node = track(new SshNode({ hostname: '127.0.0.1', port: 1, ...common({ connectTimeout: 5_000 }) }));
    const scheduler = new Scheduler({ jobs: [new SshJob({ node, command: 'true', critical: false })] });
    const events: SchedulerEvent[] = [];
    scheduler.onAny((event) => events.push(event));
    const stop = attachSshEvents(scheduler);
    await scheduler.run();
    stop();
    const [failed] = pick(events, 'ssh:');
    expect(failed).toMatchObject({ type: 'ssh:connect-failed', node: node.toString() });
    expect(failed?.error).toMatch(/connection refused/);
    expect(String(failed?.error)).not.toContain('\n');
  });

  it('cmd:done of a Push and a Pull carries the bytes copied', async () => {
    const node = track(loopbackNode());
    const local = join(dir, 'payload');
    await writeFile(local, Buffer.alloc(123_457, 7));
    const remote = join(dir, 'remote-payload');
    const job = new SshJob({
      node,
      commands: [new Push(local, remote), new Pull(remote, join(dir, 'back'))],
    });
    const scheduler = new Scheduler({ jobs: [job] });
    const done: SchedulerEvent[] = [];
    scheduler.on('cmd:done', (event) => done.push(event));
    expect(await scheduler.run()).toBe(true);
    expect(done.map((event) => (event as { bytes?: number }).bytes)).toEqual([123_457, 123_457]);
  });

  it('a command stopped by a timeout or a cancel has its cmd:done too: not ok, no exit code, what stopped it', async () => {
    const node = track(loopbackNode());
    const timed = new SshJob({ node, command: 'sleep 30', timeout: 300, critical: false });
    const scheduler = new Scheduler({ jobs: [timed], critical: false });
    const events: SchedulerEvent[] = [];
    scheduler.onAny((event) => events.push(event));
    await scheduler.run();
    const commands = pick(events, 'cmd:');
    expect(commands.map((event) => event.type)).toEqual(['cmd:start', 'cmd:done']);
    expect(commands[1]).toMatchObject({
      index: 1,
      command: 'sleep 30',
      exitCode: null,
      signal: null,
      ok: false,
    });
    expect(commands[1]?.error).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
  });
});

describe('node.onEvent', () => {
  it("tells a listener the node's events; a listener that throws breaks nothing; unsubscribing stops it", async () => {
    const node = track(loopbackNode());
    const kinds: string[] = [];
    const stop = node.onEvent((event) => kinds.push(event.kind));
    const stopThrowing = node.onEvent(() => {
      throw new Error('a broken listener');
    });
    expect(await node.run('true', { printStdout: false })).toMatchObject({ exitCode: 0 });
    await node.close();
    stop();
    stopThrowing();
    expect(kinds).toEqual(['connecting', 'connected', 'session-start', 'session-stop', 'disconnected']);
    await node.run('true', { printStdout: false });
    await node.close();
    expect(kinds).toHaveLength(5);
    expect(bed.loopback.port).toBeGreaterThan(0);
  });
});
