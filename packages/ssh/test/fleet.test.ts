/**
 * Fleet against the real test bed: the gateway's targets (one of them down), the loopback
 * sshd and the local node.
 */
import { inspect } from 'node:util';
import { Scheduler } from '@jobgraph/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  FleetError,
  type FleetHost,
  type HostSettings,
  LocalNode,
  SshError,
  SshNode,
} from '../src/index.js';
import {
  bed,
  fleetSettings,
  gatewayNode,
  gatewaySpec,
  loopbackNode,
  loopbackSpec,
  RecordingFormatter,
} from './bed.js';

const fleets: Fleet[] = [];
function track(fleet: Fleet): Fleet {
  fleets.push(fleet);
  return fleet;
}
afterAll(async () => {
  await Promise.all(fleets.map((fleet) => fleet.close()));
});

const [t1, t2] = bed.targets;
/** The bed's credentials, for every host the fleet builds. */
const defaults: HostSettings = fleetSettings();
const behindGateway: HostSettings = { ...defaults, gateway: gatewaySpec };
const loopback = loopbackSpec;

/** Whether a process whose command line holds `marker` runs on the fleet's hosts: one line per host. */
async function running(fleet: Fleet, marker: string): Promise<string[]> {
  const results = await fleet.run(
    `pgrep -f '[${marker[0]}]${marker.slice(1)}' >/dev/null && echo running || echo gone`,
  );
  return results.map((result) => result.stdout.trim());
}

describe('Fleet.run over the gateway targets', () => {
  it('one target down: the others are intact, its error names it', async () => {
    const fleet = track(
      new Fleet([t1.hostname, t2.hostname, `${t1.hostname}:1`], { defaults: behindGateway }),
    );
    expect(fleet.names).toEqual([t1.hostname, t2.hostname, `${t1.hostname}:1`]);
    const results = await fleet.run('hostname; echo oops >&2; exit 3');
    expect(results.map((r) => r.host)).toEqual(fleet.names);
    for (const [index, target] of [t1, t2].entries()) {
      const result = results[index];
      expect(result).toMatchObject({ exitCode: 3, signal: null, finished: true, ok: false });
      expect(result?.stdout).toBe(`${target.nodename}\n`);
      expect(result?.stderr).toBe('oops\n');
      expect(result?.error).toBeUndefined();
      expect(result?.durationMs).toBeGreaterThan(0);
    }
    const down = results[2];
    expect(down).toMatchObject({ exitCode: null, finished: false, ok: false, stdout: '' });
    expect(down?.error).toBeInstanceOf(SshError);
    expect(down?.error?.message).toContain(`${t1.hostname}:1`);
  });

  it('throwOnError: one error naming the failed hosts, with every result', async () => {
    const fleet = track(new Fleet([t1.hostname, t2.hostname], { defaults: behindGateway }));
    const failing = fleet.run(`[ "$(hostname)" = ${t1.nodename} ]`, { throwOnError: true });
    const error = (await failing.catch((caught: unknown) => caught)) as FleetError;
    expect(error).toBeInstanceOf(FleetError);
    expect(error.code).toBe('ERR_COMMAND_FAILED');
    expect(error.message).toContain(`on 1 of 2 hosts: ${t2.hostname} (exit 1)`);
    expect(error.results.map((r) => r.exitCode)).toEqual([0, 1]);
    await expect(fleet.run('true', { throwOnError: true })).resolves.toHaveLength(2);
  });

  it('per-host settings override the defaults; hostArgs as a list and as a map; a function of the host', async () => {
    const fleet = track(
      new Fleet([t1.hostname, `nobody@${t2.hostname}`], {
        defaults: { ...behindGateway, port: 1 },
        hosts: { [t1.hostname]: { port: 22 }, [t2.hostname]: { user: 'root', port: 22 } },
      }),
    );
    const list = await fleet.run('echo {0} {1} "$(hostname)"', {
      hostArgs: [
        ['a b', 1],
        ["it's", 2],
      ],
    });
    expect(list.map((r) => r.stdout)).toEqual([`a b 1 ${t1.nodename}\n`, `it's 2 ${t2.nodename}\n`]);
    const map = await fleet.run('echo {role}', {
      hostArgs: { [t2.hostname]: { role: 'db' }, [t1.hostname]: { role: 'web' } },
    });
    expect(map.map((r) => r.stdout)).toEqual(['web\n', 'db\n']);
    const byHost = await fleet.run((host) => `echo ${host.name} $USER`);
    expect(byHost.map((r) => r.stdout)).toEqual([`${t1.hostname} root\n`, `${t2.hostname} root\n`]);
  });

  it('bad hostArgs: one-line errors naming the host and what was expected, nothing run', async () => {
    const fleet = track(new Fleet([t1.hostname, t2.hostname], { defaults: behindGateway }));
    await expect(fleet.run('echo {0}', { hostArgs: ['x'] })).rejects.toThrow(
      `no arguments for host "${t2.hostname}" (expected a list of 2, got 1)`,
    );
    await expect(fleet.run('echo {0}', { hostArgs: { [t1.hostname]: 'x' } })).rejects.toThrow(
      `no arguments for host "${t2.hostname}" (expected a key for every host`,
    );
    await expect(fleet.run('echo {1}', { hostArgs: ['x', 'y'] })).rejects.toThrow(
      `for host "${t1.hostname}": the command uses {1}`,
    );
    await expect(fleet.run('true', { timeout: -1 })).rejects.toThrow('Invalid Fleet option timeout');
    await expect(fleet.run('true', { encoding: 'no-such' })).rejects.toThrow('encoding');
    await expect(fleet.run('true', { idleTimeout: 0 })).rejects.toThrow('idleTimeout');
    await expect(fleet.run('true', { sudoo: true } as never)).rejects.toThrow('Invalid Fleet option "sudoo"');
    await expect(fleet.run('true', { sudo: { password: 'x', pty: 1 } } as never)).rejects.toThrow(
      'Invalid run option sudo: expected only user and password, got "pty"',
    );
  });
});

describe('Fleet: start, join, stop, timeout', () => {
  it('join({ timeout }) returns the partial output of tail -f; stop() kills the remote processes', async () => {
    const fleet = track(
      new Fleet([t1.hostname, t2.hostname, new LocalNode({ formatter: new RecordingFormatter() })], {
        defaults: behindGateway,
      }),
    );
    const marker = `/tmp/jobgraph-fleet-${process.pid}-${Date.now()}`;
    const run = fleet.start(`echo "hello $(hostname)"; touch ${marker}; exec tail -f ${marker}`);
    // the output arrives at its pace: wait for it through short joins
    await vi.waitFor(
      async () => {
        const { unfinished } = await run.join({ timeout: 100 });
        expect(unfinished.every((r) => r.stdout.startsWith('hello '))).toBe(true);
      },
      { timeout: 20_000, interval: 100 },
    );
    const { finished, unfinished } = await run.join({ timeout: 200 });
    expect(finished).toEqual([]);
    expect(unfinished.map((r) => r.host)).toEqual(fleet.names);
    expect(unfinished.map((r) => r.stdout)).toEqual([
      `hello ${t1.nodename}\n`,
      `hello ${t2.nodename}\n`,
      expect.stringMatching(/^hello /),
    ]);
    expect(unfinished.every((r) => !r.finished && r.exitCode === null)).toBe(true);
    expect(await running(fleet, `tail -f ${marker}`)).toEqual(['running', 'running', 'running']);
    const stopped = await run.stop();
    expect(stopped.map((r) => (r.error as SshError | undefined)?.code)).toEqual(
      Array(3).fill('ERR_COMMAND_STOPPED'),
    );
    expect(stopped[0]?.stdout).toBe(`hello ${t1.nodename}\n`);
    expect(await running(fleet, `tail -f ${marker}`)).toEqual(['gone', 'gone', 'gone']);
    await fleet.run(`rm -f ${marker}`);
  });

  it('timeout: the host past it is killed with ERR_COMMAND_TIMEOUT, the quick one is done', async () => {
    const fleet = track(new Fleet([t1.hostname, t2.hostname], { defaults: behindGateway }));
    const results = await fleet.run(
      (host) => (host.name === t1.hostname ? 'echo quick' : 'echo slow; sleep 300'),
      {
        timeout: 3_000,
      },
    );
    expect(results[0]).toMatchObject({ exitCode: 0, ok: true, stdout: 'quick\n' });
    expect(results[1]).toMatchObject({ finished: false, ok: false, stdout: 'slow\n' });
    expect(results[1]?.error).toMatchObject({ code: 'ERR_COMMAND_TIMEOUT' });
  });
});

describe('Fleet: mixed nodes, membership, JSON, jobs', () => {
  it('a LocalNode and SshNodes in one fleet; stdin and env passed through', async () => {
    const fleet = track(
      new Fleet([new LocalNode({ formatter: new RecordingFormatter() }), loopback, t1.hostname], {
        defaults,
        hosts: { [t1.hostname]: { gateway: gatewaySpec } },
      }),
    );
    expect(fleet.size).toBe(3);
    expect([...fleet].map((host) => host.name)).toEqual(['LOCALNODE', loopback, t1.hostname]);
    const results = await fleet.run('cat; echo " $GREETING"', {
      stdin: (host) => host.name,
      env: { GREETING: 'hi' },
    });
    expect(results.map((r) => r.stdout)).toEqual([
      `LOCALNODE hi\n`,
      `${loopback} hi\n`,
      `${t1.hostname} hi\n`,
    ]);
    const failing = await fleet.run('cat', {
      stdin: (host) => {
        if (host.name === loopback) throw new Error('no input for this one');
        return 'x';
      },
    });
    expect(failing.map((r) => r.error?.message ?? r.stdout)).toEqual(['x', 'no input for this one', 'x']);
  });

  it('encoding: the output decoded in it on every host', async () => {
    const fleet = track(
      new Fleet([new LocalNode({ formatter: new RecordingFormatter() }), t1.hostname], {
        defaults: behindGateway,
      }),
    );
    const results = await fleet.run(String.raw`printf 'caf\351\n'`, { encoding: 'latin1' });
    expect(results.map((r) => r.stdout)).toEqual(['café\n', 'café\n']);
  });

  it('filter, add, remove', async () => {
    const fleet = track(new Fleet([t1.hostname, t2.hostname], { defaults: behindGateway }));
    const one = fleet.filter((host) => host.name === t2.hostname);
    expect(one.names).toEqual([t2.hostname]);
    expect([...one][0]?.node).toBe([...fleet][1]?.node);
    expect((await one.run('hostname'))[0]?.stdout).toBe(`${t2.nodename}\n`);
    fleet.add(loopback, { gateway: null });
    expect(fleet.names).toEqual([t1.hostname, t2.hostname, loopback]);
    expect(() => fleet.add(t1.hostname)).toThrow(`"${t1.hostname}" is given twice`);
    expect((await fleet.run('echo ok')).map((r) => r.stdout)).toEqual(['ok\n', 'ok\n', 'ok\n']);
    expect(await fleet.remove(t1.hostname)).toBe(true);
    expect(await fleet.remove(t1.hostname)).toBe(false);
    expect(fleet.names).toEqual([t2.hostname, loopback]);
  });

  it('a host listed twice is one member with 2 connections, its commands spread over them', async () => {
    const fleet = track(
      new Fleet([loopback, loopback], { defaults: { ...defaults, maxSessions: 1, shareConnection: false } }),
    );
    expect(fleet.size).toBe(1);
    expect(fleet.names).toEqual([loopback]);
    const [member] = fleet;
    const node = member?.node as SshNode;
    expect(node.connections).toBe(2);
    expect((await fleet.run('echo one')).map((r) => r.stdout)).toEqual(['one\n']);
    // two commands at once on a node of one session per connection: the second opens a connection
    const both = await fleet.each((host) =>
      Promise.all([host.node.run('sleep 0.2'), host.node.run('sleep 0.2')]),
    );
    expect(both[0]?.error).toBeUndefined();
    expect(node.connectionCount).toBe(2);
    expect(fleet.toJSON().hosts[0]).toMatchObject({ connections: 2 });

    const connections = (of: Fleet) => [...of].map((host) => (host.node as SshNode).connections);
    const three = new Fleet(['a', 'a:22', 'a', 'b']);
    expect(three.names).toEqual(['a', 'b']);
    expect(connections(three)).toEqual([3, 1]);
    const overridden = new Fleet(['a', 'a'], {
      defaults: { connections: 4 },
      hosts: { a: { connections: 5 } },
    });
    expect(connections(overridden)).toEqual([5]);
    expect(connections(new Fleet(['a', 'a'], { defaults: { connections: 4 } }))).toEqual([2]);
    const node1 = new SshNode({ hostname: 'a' });
    expect(() => new Fleet([node1, node1])).toThrow('"a" is given twice');
    expect(() => new Fleet(['a'], { defaults: { connections: 0 } })).toThrow('connections');
  });

  it('toJSON / fromJSON: the same hosts, keys by path, no password; an in-memory key refused', async () => {
    const fleet = track(
      new Fleet([loopback, t1.hostname, new LocalNode()], {
        defaults: { ...defaults, password: 'secret-password' },
        hosts: { [t1.hostname]: { gateway: gatewaySpec } },
      }),
    );
    const text = JSON.stringify(fleet);
    expect(text).not.toContain('secret-password');
    const json = JSON.parse(text);
    expect(json.hosts[1]).toMatchObject({
      hostname: t1.hostname,
      keys: [bed.keys.ed25519],
      gateway: { hostname: bed.gateway.hostname },
    });
    expect(json.hosts[2]).toEqual({ local: true });
    const again = track(Fleet.fromJSON(text, { formatter: new RecordingFormatter() }));
    expect(again.names).toEqual(fleet.names);
    const results = await again.run('hostname');
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    expect(results[1]?.stdout).toBe(`${t1.nodename}\n`);
    const inMemory = new Fleet([loopback], { defaults: { keys: [Buffer.from('not a key')] } });
    expect(() => inMemory.toJSON()).toThrow(`host "${loopback}" has a key given in memory (keys[0])`);
  });

  it('jobs(): one non-critical SshJob per host in a Scheduler', async () => {
    const fleet = track(new Fleet([t1.hostname, `${t2.hostname}:1`], { defaults: behindGateway }));
    const scheduler = new Scheduler({ critical: false, timeout: 60_000 });
    const jobs = fleet.jobs('echo {0} > /dev/null', { hostArgs: ['a', 'b'], jobOptions: { scheduler } });
    expect(jobs).toHaveLength(2);
    expect(jobs.every((job) => job.critical === false)).toBe(true);
    await scheduler.run();
    expect(jobs[0]?.raisedException()).toBeUndefined();
    expect(String(jobs[1]?.raisedException())).toContain(`${t2.hostname}:1`);
  });

  it('bad input: one-line ERR_INVALID_OPTION errors', () => {
    const code = { code: 'ERR_INVALID_OPTION' };
    expect(() => new Fleet([])).toThrow('expected at least one host');
    expect(() => new Fleet(['alice@a', 'bob@a:22'])).toThrow(
      '"a" is given twice, as different hosts or as a node (expected each host once; the same [user@]host[:port] string listed n times is one host with n connections; give { node, name } or a name option to tell two hosts apart)',
    );
    expect(() => new Fleet(['a'], { defaults: { prot: 22 } as never })).toThrow('unknown option "prot"');
    expect(() => new Fleet(['a'], { hosts: { b: { port: 2 } } })).toThrow(
      'hosts["b"]: no host has that name',
    );
    expect(() => new Fleet(['a'], { hostz: {} } as never)).toThrow('Invalid Fleet option "hostz"');
    expect(() => new Fleet(['a@b@c'])).toThrow('Invalid Fleet host "a@b@c": expected [user@]host[:port]');
    expect(() => new Fleet(['a'], { hosts: { a: { port: 0 } } })).toThrow(
      'Fleet host "a": Invalid SshNode option port',
    );
    try {
      new Fleet([]);
    } catch (error) {
      expect(error).toMatchObject(code);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('a FleetError of many failed hosts names the first 10, each why on one line and cut (every one is in .failed)', () => {
    const results = Array.from({ length: 500 }, (_, i) => ({
      host: `h${i}`,
      ok: false,
      error: new Error(`line one\nline two ${'x'.repeat(300)}`),
    }));
    const error = new FleetError(results, results, 'command');
    expect(error.message).toMatch(/^Fleet command failed on 500 of 500 hosts: h0 \(line one line two x+…\);/);
    expect(error.message).toContain('; and 490 more (see .failed)');
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(3_000);
    expect(error.failed).toHaveLength(500);
  });

  it('bad options from plain JavaScript: one error before any host is touched, naming what was wrong', async () => {
    const fleet = new Fleet(['127.0.0.1:1']);
    const refused = (message: string) =>
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(message) });
    // (they were TypeErrors of the internals, one error per host, or accepted in silence)
    await expect(fleet.run('true', { signal: {} } as never)).rejects.toThrow(
      refused('option signal: expected an AbortSignal'),
    );
    await expect(fleet.run('true', null as never)).rejects.toThrow(
      refused('Invalid Fleet options: expected an object, got null'),
    );
    await expect(fleet.run('true', { stdin: 5 } as never)).rejects.toThrow(
      refused('option stdin: expected a string'),
    );
    await expect(fleet.run('true', { env: { 'A B': 'x' } })).rejects.toThrow(
      refused('"A B" is not a variable name'),
    );
    await expect(fleet.each(() => 1, { bogus: 1 } as never)).rejects.toThrow(refused('each option "bogus"'));
    await expect(fleet.start('true', { timeout: 60_000 }).join({ timeout: 'abc' as never })).rejects.toThrow(
      refused('join option timeout'),
    );
    expect(() => Fleet.fromJSON('{bad')).toThrow(refused('Fleet.fromJSON: not JSON'));
    expect(() => Fleet.fromJSON({ version: 1, hosts: [{ hostname: 'a' }] }, { bogus: 1 } as never)).toThrow(
      refused('Invalid Fleet.fromJSON settings: unknown option "bogus"'),
    );
    let chain: Record<string, unknown> = { hostname: 'g' };
    for (let i = 0; i < 5000; i++) chain = { hostname: `g${i}`, gateway: chain };
    expect(() => Fleet.fromJSON({ version: 1, hosts: [chain] } as never)).toThrow(
      refused('gateways nested more than 64 deep'),
    );
    await fleet.close();
  });
});

describe('Fleet: host names, credentials in JSON, secrets', () => {
  it('a name with a slash, a backslash, a control character, or . / .. is refused, from options, { node, name } and JSON', () => {
    const refused = (name: string) =>
      `option name: expected a non-empty name without spaces, slashes, backslashes or control characters, other than . and .. (it names the host's files), got ${JSON.stringify(name)}`;
    for (const name of ['a/../../../../tmp/evil', '..', '.', 'a\\b', 'web\u0001', 'x\u007f', 'a/b']) {
      expect(() => new Fleet([{ node: new SshNode('h'), name }])).toThrow(refused(name));
      expect(() => new Fleet([{ hostname: 'h', name }])).toThrow(refused(name));
      expect(() => new Fleet([{ node: new LocalNode(), name }])).toThrow(refused(name));
    }
    // a fleet's JSON from elsewhere
    for (const host of [
      { hostname: 'h', name: '../../.ssh/authorized_keys' },
      { local: true as const, name: '../x' },
      { hostname: 'h', gateway: { hostname: 'gw' }, name: '..' },
    ]) {
      let caught: unknown;
      try {
        Fleet.fromJSON({ version: 1, hosts: [host] });
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect((caught as Error).message).toContain(refused(host.name));
      expect((caught as Error).message).not.toContain('\n');
    }
    // still fine: dots, dashes, the CLI's gw->user@host names, brackets and colons
    expect(
      new Fleet([
        { hostname: 'h', name: '...' },
        { hostname: 'h', name: 'gw->bob@fit01' },
        { hostname: 'h', name: '[fe80::1%eth0]:2222' },
        { hostname: 'h', name: '.hidden' },
      ]).names,
    ).toEqual(['...', 'gw->bob@fit01', '[fe80::1%eth0]:2222', '.hidden']);
  });

  it('SshNode tells the key files and the agent it was given; keys in memory have no paths', () => {
    expect(
      new SshNode('h', { keys: ['/k1', { path: '/k2', passphrase: 'pp' }], agent: false }),
    ).toMatchObject({
      keyPaths: ['/k1', '/k2'],
      keysInMemory: false,
      agent: false,
    });
    expect(new SshNode('h', { agent: '/run/agent.sock' })).toMatchObject({
      keyPaths: undefined,
      keysInMemory: false,
      agent: '/run/agent.sock',
    });
    expect(new SshNode('h')).toMatchObject({ keyPaths: undefined, keysInMemory: false, agent: undefined });
    const text = '-----BEGIN OPENSSH PRIVATE KEY-----\nxxx\n-----END OPENSSH PRIVATE KEY-----\n';
    for (const key of [Buffer.from('bytes'), text, { source: '/k', key: {} }]) {
      expect(new SshNode('h', { keys: ['/k1', key] })).toMatchObject({
        keyPaths: undefined,
        keysInMemory: true,
      });
    }
  });

  it('toJSON writes the key files and agent of nodes and gateways given as nodes; keys in memory refused', () => {
    const h3 = new SshNode('h3', { keys: ['/home/me/.ssh/special'], agent: false });
    const gateway = new SshNode('bastion', { keys: ['/home/me/.ssh/bastion'], agent: '/run/agent.sock' });
    const fleet = new Fleet([
      h3,
      { node: new SshNode('h4', { gateway }), name: 'h4' },
      { hostname: 'h5', gateway },
    ]);
    const json = fleet.toJSON();
    expect(json.hosts[0]).toMatchObject({ hostname: 'h3', keys: ['/home/me/.ssh/special'], agent: false });
    expect(json.hosts[1]?.keys).toBeUndefined();
    expect(json.hosts[1]?.agent).toBeUndefined();
    for (const host of json.hosts.slice(1)) {
      expect(host.gateway).toMatchObject({
        hostname: 'bastion',
        keys: ['/home/me/.ssh/bastion'],
        agent: '/run/agent.sock',
      });
    }
    // fromJSON: the same identities, whatever the extra's defaults
    const again = Fleet.fromJSON(JSON.stringify(json), { keys: ['/elsewhere'], agent: false });
    const [n3, n4] = [...again].map((host) => host.node as SshNode);
    expect(n3).toMatchObject({ keyPaths: ['/home/me/.ssh/special'], agent: false });
    expect(n4?.gateway).toMatchObject({ keyPaths: ['/home/me/.ssh/bastion'], agent: '/run/agent.sock' });
    // extra gives what the JSON does not say (h4's keys): with none, the JSON comes back as written
    expect(Fleet.fromJSON(JSON.stringify(json)).toJSON()).toEqual(json);

    const inMemory = new SshNode('h6', { keys: [Buffer.from('not a key')] });
    expect(() => new Fleet([inMemory]).toJSON()).toThrow(
      'Fleet.toJSON: host "h6" is a node whose keys were given in memory',
    );
    expect(() => new Fleet([{ hostname: 'h7', gateway: inMemory }]).toJSON()).toThrow(
      'Fleet.toJSON: host "h7" has a gateway (root@h6) whose keys were given in memory',
    );
    try {
      new Fleet([{ node: inMemory, name: 'mem' }]).toJSON();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect((error as Error).message).toContain('host "mem"');
    }
  });

  it('a node host and a node gateway rebuilt by fromJSON log in as before, without keys in extra', async () => {
    const fleet = track(
      new Fleet([{ node: loopbackNode(), name: 'lo' }, t1.hostname], {
        defaults: { ...defaults, gateway: gatewayNode() },
      }),
    );
    const text = JSON.stringify(fleet);
    const again = track(Fleet.fromJSON(text, { formatter: new RecordingFormatter() }));
    const results = await again.run('hostname');
    expect(results.map((r) => r.error?.message ?? r.stdout)).toEqual([
      `${bed.loopback.nodename}\n`,
      `${t1.nodename}\n`,
    ]);
    await again.close();
    // a gateway from JSON is the caller's to close
    const { gateway } = ([...again][1] as FleetHost).node as SshNode;
    if (gateway !== undefined) await gateway.close();
  });

  it('iterating a fleet shows no password nor passphrase, nor keys given in memory', () => {
    const keyText =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-text\n-----END OPENSSH PRIVATE KEY-----\n';
    const fleet = new Fleet(['a', 'b', 'c'], {
      defaults: {
        password: 'secret-password',
        keys: ['/k1', { path: '/k2', passphrase: 'secret-passphrase' }],
        gateway: 'bastion',
      },
      hosts: {
        b: { keys: [keyText, Buffer.from('secret-bytes'), '/k3'] },
        c: { password: 'other-secret', user: 'alice' },
      },
    });
    const shown = inspect([...fleet], { depth: null }) + JSON.stringify([...fleet].map((h) => h.settings));
    for (const secret of [
      'secret-password',
      'secret-passphrase',
      'secret-key-text',
      'secret-bytes',
      'other-secret',
    ]) {
      expect(shown).not.toContain(secret);
    }
    const [a, b, c] = [...fleet].map((host) => host.settings);
    expect(a).toMatchObject({ hostname: 'a', keys: ['/k1', '/k2'], gateway: 'bastion' });
    expect(a).not.toHaveProperty('password');
    expect(b?.keys).toEqual(['/k3']);
    expect(c).toMatchObject({ hostname: 'c', username: 'alice' });
    expect(c).not.toHaveProperty('password');
    // the nodes were built with them all; toJSON still knows b's keys are in memory
    expect([...fleet].map((host) => (host.node as SshNode).keysInMemory)).toEqual([false, true, false]);
    expect(() => fleet.toJSON()).toThrow('host "b" has a key given in memory (keys[0])');
    expect(JSON.stringify(fleet.filter((host) => host.name !== 'b'))).not.toContain('secret');
  });
});
