/**
 * Fleet's `concurrency` (parallel-ssh's pool_size) against the loopback sshd: never more hosts at
 * work than the limit, measured by the commands themselves (start and end stamps from the one clock
 * of this machine, which serves every bed host), waiting hosts stopped cleanly, bad values refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Fleet, LocalNode, SshNode } from '../src/index.js';
import { bed, common, RecordingFormatter } from './bed.js';

/** The loopback sshd with the bed's credentials: a host of a fleet, or an SshNode's options. */
const settings = { hostname: bed.loopback.hostname, port: bed.loopback.port, ...common() };
/** Five hosts named h0…h4, all the loopback sshd (they share its connection). */
const fleet = new Fleet(Array.from({ length: 5 }, (_, i) => ({ ...settings, name: `h${i}` })));
afterAll(() => fleet.close());

/** The most intervals [start, end] open at one instant. */
function mostAtOnce(intervals: readonly [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  // an end before a start at the same instant: touching intervals do not overlap
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let open = 0;
  let most = 0;
  for (const [, step] of edges) {
    open += step as number;
    most = Math.max(most, open);
  }
  return most;
}

const stamped = 'echo "$(date +%s%N)"; sleep 0.3; echo "$(date +%s%N)"';
const interval = (stdout: string): [number, number] => {
  const [start, end] = stdout.trim().split('\n').map(Number);
  return [start as number, end as number];
};

describe('Fleet concurrency', () => {
  it('run: at most 1, then at most 2 hosts at work at once; every host runs', async () => {
    for (const concurrency of [1, 2]) {
      const results = await fleet.run(stamped, { concurrency });
      expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true]);
      expect(mostAtOnce(results.map((r) => interval(r.stdout)))).toBeLessThanOrEqual(concurrency);
    }
  });

  it('each and copyFrom honour it too (counted in process)', async () => {
    let active = 0;
    let most = 0;
    const values = await fleet.each(
      async (host) => {
        active++;
        most = Math.max(most, active);
        await host.node.fs.exists('/');
        await new Promise((resolve) => setTimeout(resolve, 20));
        active--;
        return host.name;
      },
      { concurrency: 2 },
    );
    expect(values.map((v) => v.value)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    expect(most).toBe(2);
  });

  it('stop() while hosts wait their turn: the running one killed, the waiting ones never start', async () => {
    const run = fleet.start('echo started; sleep 30', { concurrency: 1 });
    // until h0 has printed (bounded: 15 s); the others wait behind it all along
    let { unfinished } = await run.join({ timeout: 100 });
    for (let i = 0; i < 150 && unfinished[0]?.stdout !== 'started\n'; i++) {
      ({ unfinished } = await run.join({ timeout: 100 }));
    }
    expect(unfinished.map((r) => r.host)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
    expect(unfinished.map((r) => r.stdout)).toEqual(['started\n', '', '', '', '']);
    const results = await run.stop();
    expect(results.map((r) => (r.error as { code?: string } | undefined)?.code)).toEqual(
      Array(5).fill('ERR_COMMAND_STOPPED'),
    );
    expect(results[0]?.stdout).toBe('started\n');
    expect(results.slice(1).map((r) => r.stdout)).toEqual(['', '', '', '']);
  });

  it('a bad concurrency is refused before anything runs', async () => {
    await expect(fleet.run('true', { concurrency: 0 })).rejects.toThrow(
      'Invalid Fleet option concurrency: expected a positive integer (hosts at work at once), got 0',
    );
    await expect(fleet.each(() => 1, { concurrency: 1.5 })).rejects.toThrow('got 1.5');
    await expect(fleet.copyFrom('/etc/hostname', '/tmp', { concurrency: -1 })).rejects.toThrow('got -1');
  });
});

describe('Fleet: nodes under names of their own', () => {
  it('two users of one host in one fleet, { node, name }: one result each; the names survive JSON', async () => {
    const root = new SshNode({ ...settings });
    const user = new SshNode({ ...settings, username: bed.sudo.noPassword.username });
    const named = new Fleet([
      { node: root, name: 'as-root' },
      { node: user, name: 'as-user' },
    ]);
    try {
      const results = await named.run('id -un');
      expect(results.map((r) => [r.host, r.stdout])).toEqual([
        ['as-root', 'root\n'],
        ['as-user', `${bed.sudo.noPassword.username}\n`],
      ]);
      const json = named.toJSON();
      expect(json.hosts.map((host) => host.name)).toEqual(['as-root', 'as-user']);
      expect(Fleet.fromJSON(json, { formatter: new RecordingFormatter() }).names).toEqual([
        'as-root',
        'as-user',
      ]);
      expect(() => new Fleet([root, user])).toThrow(
        'give { node, name } or a name option to tell two hosts apart',
      );
      expect(() => new Fleet([{ node: root, name: 'a b' }])).toThrow(
        'option name: expected a non-empty name without spaces',
      );
      expect(() => new Fleet([{ node: 'x', name: 'a' } as never])).toThrow(
        'expected an SshNode or a LocalNode as node',
      );
    } finally {
      await named.close();
    }
  });
});

describe("Fleet: the caller's signal", () => {
  it('20 hosts under one signal: no warning (one listener on the signal, not one per host); aborting it stops them all', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const local = new Fleet(
      Array.from({ length: 20 }, (_, i) => ({
        node: new LocalNode({ formatter: new RecordingFormatter() }),
        name: `l${i}`,
      })),
    );
    try {
      const controller = new AbortController();
      const done = await local.run('true', { signal: controller.signal });
      expect(done.map((r) => r.ok)).toEqual(Array(20).fill(true));
      const run = local.start('echo started; sleep 30', { signal: controller.signal });
      // until every host has printed (bounded: 15 s)
      let { unfinished } = await run.join({ timeout: 100 });
      for (let i = 0; i < 150 && !unfinished.every((r) => r.stdout === 'started\n'); i++) {
        ({ unfinished } = await run.join({ timeout: 100 }));
      }
      expect(unfinished.map((r) => r.stdout)).toEqual(Array(20).fill('started\n'));
      controller.abort(new Error('stopped by the caller'));
      const results = await run.results();
      expect(results.map((r) => r.error?.message)).toEqual(Array(20).fill('stopped by the caller'));
      // a warning is emitted on the next tick
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await local.close();
    }
  });
});

describe('Fleet run option prepare', () => {
  it('runs in each host turn before its command; a throw is that host error and its command does not run', async () => {
    const dir = `/tmp/jg-prepare-${process.pid}-${Date.now()}`;
    const order: string[] = [];
    const results = await fleet.run((host) => `cat ${dir}/${host.name} 2>/dev/null || echo missing`, {
      concurrency: 1,
      prepare: async (host) => {
        order.push(`prepare ${host.name}`);
        if (host.name === 'h3') throw new Error('no script for h3');
        await host.node.fs.mkdir(dir, { recursive: true });
        await host.node.fs.writeFile(`${dir}/${host.name}`, `made for ${host.name}\n`);
      },
    });
    expect(results.map((r) => r.stdout)).toEqual([
      'made for h0\n',
      'made for h1\n',
      'made for h2\n',
      '',
      'made for h4\n',
    ]);
    expect(results[3]?.error?.message).toBe('no script for h3');
    expect(results[3]?.finished).toBe(false);
    expect(order).toEqual(['prepare h0', 'prepare h1', 'prepare h2', 'prepare h3', 'prepare h4']);
    const [first] = fleet;
    await first?.node.fs.rm(dir, { recursive: true });
  });

  it('a prepare that ignores its signal is given up at the timeout (the host fails with ERR_COMMAND_TIMEOUT)', async () => {
    const results = await fleet
      .filter((host) => host.name === 'h0')
      .run('echo ran', {
        timeout: 500,
        prepare: () => new Promise<void>(() => undefined), // never settles
      });
    expect(results[0]?.error).toMatchObject({ code: 'ERR_COMMAND_TIMEOUT' });
    expect(results[0]?.stdout).toBe('');
  });

  it('a prepare that is not a function is refused before anything runs', async () => {
    await expect(fleet.run('true', { prepare: 'copy' as never })).rejects.toThrow(
      'Invalid Fleet option prepare: expected a function (host, signal) => Promise<void>',
    );
  });
});
