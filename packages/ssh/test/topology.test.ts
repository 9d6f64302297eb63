/**
 * Topology (apssh's topology_dot and close_ssh_in_scheduler), and the connection
 * lifecycle around runs (apssh's test_connections), against the real test bed.
 *
 * Connections are counted as the sshd side sees them (`ss -Htnp state established`,
 * sockets whose local port is the sshd's port, in the host's network namespace), and
 * only those traced back to this process: a client socket of ours → the sshd socket at
 * its other end → the sshd session process holding it → that process's own client
 * sockets (the tunnels it opened for us) → ... Other test runs sharing the bed
 * therefore do not disturb the counts.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Job, Scheduler } from '@jobgraph/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  closeSshInScheduler,
  LocalNode,
  SshJob,
  SshNode,
  topologyAsDotfile,
  topologyAsPngfile,
  topologyAsSvgfile,
  topologyDot,
} from '../src/index.js';
import { bed, common, gatewayNode, loopbackNode, targetNode } from './bed.js';

const box = (index: number, label: string) => `${index} [style="rounded", label="${label}", shape="box"]`;

/** The apssh example: a gateway g1 and two nodes behind it, plus a LocalNode job (not drawn). */
function faraday(order: 'fit01-first' | 'fit02-first' = 'fit01-first') {
  const g1 = new SshNode('faraday', { username: 'inria_tutorial' });
  const fit01 = new SshNode('fit01', { gateway: g1 });
  const fit02 = new SshNode('fit02', { gateway: g1 });
  const jobs = [
    new SshJob({ node: fit01, command: 'hostname' }),
    new SshJob({ node: fit02, command: 'hostname' }),
  ];
  if (order === 'fit02-first') jobs.reverse();
  const scheduler = new Scheduler({
    jobs: [...jobs, new SshJob({ node: new LocalNode(), command: 'true' })],
  });
  return { g1, fit01, fit02, scheduler };
}

describe('topologyDot (no network)', () => {
  it("is apssh's format exactly: local node 0, then nodes by distance, edges from gateways", () => {
    expect(topologyDot(faraday().scheduler)).toBe(
      [
        'digraph apssh{',
        'graph[];',
        box(0, 'Local Node'),
        box(1, 'inria_tutorial@faraday'),
        box(2, 'root@fit01'),
        box(3, 'root@fit02'),
        '0 -> 1',
        '1 -> 2',
        '1 -> 3',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('writes an IPv6 host in brackets, as the node names itself', () => {
    const gateway = new SshNode('::1', { port: 2222 });
    const node = new SshNode('fe80::1', { gateway });
    expect(node.toString()).toBe('root@[::1]:2222->root@[fe80::1]');
    const scheduler = new Scheduler({ jobs: [new SshJob({ node, command: 'true' })] });
    expect(topologyDot(scheduler)).toContain(`${box(1, 'root@[::1]:2222')}\n${box(2, 'root@[fe80::1]')}\n`);
  });

  it('numbers ties in first-seen order (jobs in iterateJobs order), the same text every time', () => {
    const { scheduler } = faraday('fit02-first');
    const dot = topologyDot(scheduler);
    expect(dot).toContain(`${box(2, 'root@fit02')}\n${box(3, 'root@fit01')}\n`);
    expect(topologyDot(scheduler)).toBe(dot);
    // distance wins over first-seen: a deep node seen first still comes after a direct one
    const gw = new SshNode('gw');
    const deep = new SshNode('deep', { gateway: new SshNode('mid', { gateway: gw }) });
    const direct = new SshNode('direct');
    const mixed = new Scheduler({
      jobs: [new SshJob({ node: deep, command: 'a' }), new SshJob({ node: direct, command: 'b' })],
    });
    expect(topologyDot(mixed)).toBe(
      [
        'digraph apssh{',
        'graph[];',
        box(0, 'Local Node'),
        box(1, 'root@gw'),
        box(2, 'root@direct'),
        box(3, 'root@mid'),
        box(4, 'root@deep'),
        '0 -> 1',
        '0 -> 2',
        '1 -> 3',
        '3 -> 4',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('includes nodes of nested schedulers, and gateways no job uses (transitively)', () => {
    const top = new SshNode('top');
    const hidden = new SshNode('hidden-gw');
    const inner = new SshNode('inner', { gateway: new SshNode('relay', { gateway: hidden }) });
    const scheduler = new Scheduler({
      jobs: [
        new SshJob({ node: top, command: 'a' }),
        new Scheduler({ jobs: [new Scheduler({ jobs: [new SshJob({ node: inner, command: 'b' })] })] }),
      ],
    });
    const dot = topologyDot(scheduler);
    expect(dot).toContain(box(1, 'root@top'));
    expect(dot).toContain(box(2, 'root@hidden-gw'));
    expect(dot).toContain(box(3, 'root@relay'));
    expect(dot).toContain(box(4, 'root@inner'));
    expect(dot.endsWith('0 -> 1\n0 -> 2\n2 -> 3\n3 -> 4\n}\n')).toBe(true);
  });

  it('shows the port when it is not 22; two objects for one host are two nodes; one node used twice is one', () => {
    const a = new SshNode('host', { username: 'me', port: 2222 });
    const b = new SshNode('host', { username: 'me', port: 22 });
    const scheduler = new Scheduler({
      jobs: [
        new SshJob({ node: a, command: 'x' }),
        new SshJob({ node: b, command: 'y' }),
        new SshJob({ node: a, command: 'z' }),
      ],
    });
    expect(topologyDot(scheduler)).toBe(
      [
        'digraph apssh{',
        'graph[];',
        box(0, 'Local Node'),
        box(1, 'me@host:2222'),
        box(2, 'me@host'),
        '0 -> 1',
        '0 -> 2',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('draws only the local node for a scheduler without SshNode jobs', () => {
    const scheduler = new Scheduler({ jobs: [new SshJob({ node: new LocalNode(), command: 'true' })] });
    expect(topologyDot(scheduler)).toBe(`digraph apssh{\ngraph[];\n${box(0, 'Local Node')}\n}\n`);
    expect(() => topologyDot({} as Scheduler)).toThrow(/expected a scheduler/);
  });

  describe('files', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jobgraph-topology-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes DOT, SVG and PNG files and returns their paths (extension added)', async () => {
      const { scheduler } = faraday();
      const dotPath = await topologyAsDotfile(scheduler, join(dir, 'topology'));
      expect(dotPath).toBe(join(dir, 'topology.dot'));
      expect(await readFile(dotPath, 'utf8')).toBe(topologyDot(scheduler));

      const svgPath = await topologyAsSvgfile(scheduler, join(dir, 'topology'));
      expect(svgPath).toBe(join(dir, 'topology.svg'));
      const svg = await readFile(svgPath, 'utf8');
      expect(svg).toMatch(/^(<\?xml|<svg)/);
      expect(svg).toMatch(/<svg[\s>]/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      for (const label of ['Local Node', 'inria_tutorial@faraday', 'root@fit01', 'root@fit02']) {
        expect(svg).toContain(label);
      }

      const pngPath = await topologyAsPngfile(scheduler, join(dir, 'topology.png'));
      expect(pngPath).toBe(join(dir, 'topology.png'));
      const png = await readFile(pngPath);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(100);
    });
  });
});

describe('closeSshInScheduler (no network)', () => {
  it('resolves for nodes that never connected, and twice in a row', async () => {
    const { scheduler, g1, fit01, fit02 } = faraday();
    await closeSshInScheduler(scheduler);
    await closeSshInScheduler(scheduler, { manageGateways: false });
    expect([g1, fit01, fit02].some((node) => node.isConnected())).toBe(false);
    await expect(closeSshInScheduler(undefined as unknown as Scheduler)).rejects.toThrow(
      /expected a scheduler/,
    );
  });

  it('closes remotest first: each distance at once, the largest distance first; gateways only on demand', async () => {
    const gw = new SshNode('gw');
    const t1 = new SshNode('t1', { gateway: gw });
    const t2 = new SshNode('t2', { gateway: gw });
    const far = new SshNode('far', { gateway: t1 });
    const direct = new SshNode('direct');
    const scheduler = new Scheduler({
      jobs: [
        new SshJob({ node: far, command: 'a' }),
        new Scheduler({ jobs: [new SshJob({ node: t2, command: 'b' })] }),
        new SshJob({ node: direct, command: 'c' }),
      ],
    });
    const log: string[] = [];
    for (const node of [gw, t1, t2, far, direct]) {
      vi.spyOn(node, 'close').mockImplementation(async () => {
        log.push(`start ${node.hostname}`);
        // let the others of the same distance start before this one ends
        for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
        log.push(`end ${node.hostname}`);
      });
    }
    await closeSshInScheduler(scheduler);
    expect(log).toEqual([
      'start far',
      'end far',
      'start t1',
      'start t2',
      'end t1',
      'end t2',
      'start gw',
      'start direct',
      'end gw',
      'end direct',
    ]);
    log.length = 0;
    await closeSshInScheduler(scheduler, { manageGateways: false });
    // only the nodes of jobs: far (3), t2 (2), direct (1)
    expect(log).toEqual(['start far', 'end far', 'start t2', 'end t2', 'start direct', 'end direct']);
  });
});

// ------------------------------------------------------------------------------------------------
// Counting connections as the sshd side sees them

const execFileAsync = promisify(execFile);
const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
const SS = existsSync('/usr/bin/ss') ? '/usr/bin/ss' : 'ss';

type Host = 'loopback' | 'gw' | 't1' | 't2';
type Counts = Record<Host, number>;

interface Space {
  host: Host;
  netns: string | null;
  /** The sshd's port in that namespace. */
  port: number;
}

interface Sock {
  host: Host;
  local: string;
  peer: string;
  /** This is the sshd side of a connection (its local port is the sshd's). */
  server: boolean;
  pids: number[];
}

function spaces(): Space[] {
  const [t1, t2] = bed.targets;
  return [
    { host: 'loopback', netns: bed.loopback.netns, port: bed.loopback.port },
    { host: 'gw', netns: bed.gateway.netns, port: bed.gateway.port },
    { host: 't1', netns: t1.netns, port: t1.port },
    { host: 't2', netns: t2.netns, port: t2.port },
  ];
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** `ss -Htnp state established` in a namespace: every established TCP socket with its processes. */
async function established(space: Space): Promise<Sock[]> {
  const ss = [SS, '-Htnp', 'state', 'established'];
  const [command, ...args] = space.netns === null ? ss : [IP, 'netns', 'exec', space.netns, ...ss];
  const { stdout } = await execFileAsync(command as string, args, { timeout: 10_000 });
  const sockets: Sock[] = [];
  for (const line of stdout.split('\n')) {
    // Recv-Q Send-Q Local:Port Peer:Port users:(("sshd",pid=1,fd=4),...)
    const [, , local, peer, ...rest] = line.trim().split(/\s+/);
    if (local === undefined || peer === undefined) continue;
    const pids = [...rest.join(' ').matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
    sockets.push({ host: space.host, local, peer, server: portOf(local) === space.port, pids });
  }
  return sockets;
}

interface Ours {
  counts: Counts;
  /** The sshd-side sockets counted, as `host|local|peer`. */
  keys: Set<string>;
}

const keyOf = (sock: Sock) => `${sock.host}|${sock.local}|${sock.peer}`;

/**
 * The sshd-side connections that serve this process, per host: directly (our sockets) or
 * through tunnels (sockets of the sshd sessions serving us, recursively).
 */
async function ourConnections(rootPid = process.pid): Promise<Ours> {
  const sockets = (await Promise.all(spaces().map(established))).flat();
  const serverEnds = new Map<string, Sock>();
  for (const sock of sockets) if (sock.server) serverEnds.set(`${sock.local}|${sock.peer}`, sock);
  const counts: Counts = { loopback: 0, gw: 0, t1: 0, t2: 0 };
  const keys = new Set<string>();
  const seen = new Set<number>([rootPid]);
  const frontier = [rootPid];
  for (let pid = frontier.pop(); pid !== undefined; pid = frontier.pop()) {
    for (const sock of sockets) {
      if (sock.server || !sock.pids.includes(pid)) continue;
      const end = serverEnds.get(`${sock.peer}|${sock.local}`);
      if (end === undefined || keys.has(keyOf(end))) continue;
      keys.add(keyOf(end));
      counts[end.host]++;
      for (const next of end.pids) {
        if (!seen.has(next)) {
          seen.add(next);
          frontier.push(next);
        }
      }
    }
  }
  return { counts, keys };
}

/** Which of these sshd-side sockets are still established. */
async function stillEstablished(keys: ReadonlySet<string>): Promise<string[]> {
  const sockets = (await Promise.all(spaces().map(established))).flat();
  return sockets.filter((sock) => sock.server && keys.has(keyOf(sock))).map(keyOf);
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls (bounded) until our counts are `expected`; returns the last counts seen. */
async function settle(expected: Counts, boundMs = 15_000): Promise<Ours> {
  const deadline = Date.now() + boundMs;
  let ours = await ourConnections();
  while (JSON.stringify(ours.counts) !== JSON.stringify(expected) && Date.now() < deadline) {
    await pause(100);
    ours = await ourConnections();
  }
  return ours;
}

/** Polls (bounded) until none of these sshd-side sockets is established; returns those left. */
async function gone(keys: ReadonlySet<string>, boundMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + boundMs;
  let left = await stillEstablished(keys);
  while (left.length > 0 && Date.now() < deadline) {
    await pause(100);
    left = await stillEstablished(keys);
  }
  return left;
}

function plus(base: Counts, delta: Partial<Counts>): Counts {
  return {
    loopback: base.loopback + (delta.loopback ?? 0),
    gw: base.gw + (delta.gw ?? 0),
    t1: base.t1 + (delta.t1 ?? 0),
    t2: base.t2 + (delta.t2 ?? 0),
  };
}

/** Jobs flat in one scheduler, or packed `pack` per innermost scheduler, `depth` schedulers deep. */
interface Nesting {
  depth: number;
  pack: number;
}

function schedulerOf(jobs: SshJob[], nesting?: Nesting): Scheduler {
  if (nesting === undefined) return new Scheduler({ jobs });
  const groups: Scheduler[] = [];
  for (let start = 0; start < jobs.length; start += nesting.pack) {
    let inner = new Scheduler({ jobs: jobs.slice(start, start + nesting.pack) });
    for (let level = 1; level < nesting.depth; level++) inner = new Scheduler({ jobs: [inner] });
    groups.push(inner);
  }
  return new Scheduler({ jobs: groups });
}

/** Every node object used, for the safety net (closed after each test). */
const opened: SshNode[] = [];
function track(node: SshNode): SshNode {
  opened.push(node);
  return node;
}
afterEach(async () => {
  const nodes = opened.splice(0).sort((a, b) => b.distance() - a.distance());
  for (const node of nodes) await node.close();
});

/** A known_hosts with the gateway also known as 10.231.2.1 (how t1 reaches it), for 4-hop chains. */
let chainKnownHosts = '';
let chainDir = '';
beforeAll(async () => {
  chainDir = await mkdtemp(join(tmpdir(), 'jobgraph-topology-kh-'));
  chainKnownHosts = join(chainDir, 'known_hosts');
  const gwKey = (bed.hostKeys.gw ?? '').split(' ').slice(0, 2).join(' ');
  await writeFile(chainKnownHosts, `${await readFile(bed.knownHosts, 'utf8')}10.231.2.1 ${gwKey}\n`);
});
afterAll(async () => {
  await rm(chainDir, { recursive: true, force: true });
});

/** gw → t1 → gw (as seen from t1, 10.231.2.1) → t2. */
function chain(): SshNode[] {
  const options = { knownHosts: chainKnownHosts };
  const gw = track(gatewayNode(options));
  const t1 = track(targetNode(0, gw, options));
  const gwAgain = track(new SshNode({ hostname: '10.231.2.1', gateway: t1, ...common(options) }));
  const t2 = track(targetNode(1, gwAgain, options));
  return [gw, t1, gwAgain, t2];
}

/** Connections of the node object's own (node objects of one host share one otherwise: shared-connections.test.ts). */
const own = { shareConnection: false };

describe('connections (test bed): one per node object, closed by closeSshInScheduler or by the run', () => {
  const nestings: Array<[string, Nesting | undefined]> = [
    ['flat', undefined],
    ['nested 2 deep', { depth: 2, pack: 2 }],
  ];

  describe.each(nestings)('hop1, %s', (_name, nesting) => {
    it.each([
      [1, 4],
      [4, 1],
      [4, 4],
    ])(
      '%i node(s) × %i job(s), keepConnection: open after the run, closed by closeSshInScheduler',
      async (nodes, commands) => {
        const baseline = (await ourConnections()).counts;
        const jobs: SshJob[] = [];
        for (let n = 0; n < nodes; n++) {
          const node = track(loopbackNode(own));
          for (let c = 0; c < commands; c++) {
            jobs.push(new SshJob({ node, command: `echo hop1-${n}-${c}`, keepConnection: true }));
          }
        }
        const scheduler = schedulerOf(jobs, nesting);
        expect(await scheduler.run()).toBe(true);
        const open = await settle(plus(baseline, { loopback: nodes }));
        expect(open.counts).toEqual(plus(baseline, { loopback: nodes }));
        await closeSshInScheduler(scheduler);
        expect((await settle(baseline)).counts).toEqual(baseline);
        expect(await gone(open.keys)).toEqual([]);
      },
    );
  });

  describe.each(nestings)('hop2, %s', (_name, nesting) => {
    it.each([
      [1, 1, 2],
      [1, 2, 1],
      [2, 1, 1],
      [2, 2, 2],
    ])('%i gateway(s) × %i target(s) each × %i job(s), keepConnection', async (c1, c2, commands) => {
      const baseline = (await ourConnections()).counts;
      const jobs: SshJob[] = [];
      const perTarget = { t1: 0, t2: 0 };
      for (let g = 0; g < c1; g++) {
        const gateway = track(gatewayNode(own));
        for (let t = 0; t < c2; t++) {
          const index = t % 2 === 0 ? 0 : 1;
          perTarget[index === 0 ? 't1' : 't2']++;
          const node = track(targetNode(index, gateway, own));
          for (let c = 0; c < commands; c++) {
            jobs.push(new SshJob({ node, command: `echo hop2-${g}-${t}-${c}`, keepConnection: true }));
          }
        }
      }
      const scheduler = schedulerOf(jobs, nesting);
      expect(await scheduler.run()).toBe(true);
      const expected = plus(baseline, { gw: c1, ...perTarget });
      const open = await settle(expected);
      expect(open.counts).toEqual(expected);
      await closeSshInScheduler(scheduler);
      expect((await settle(baseline)).counts).toEqual(baseline);
      expect(await gone(open.keys)).toEqual([]);
    });
  });

  it('manageGateways: false closes the nodes of the jobs and leaves their gateways open', async () => {
    const baseline = (await ourConnections()).counts;
    const gateway = track(gatewayNode());
    const jobs = [0, 1].map(
      (index) =>
        new SshJob({
          node: track(targetNode(index as 0 | 1, gateway)),
          command: 'true',
          keepConnection: true,
        }),
    );
    const scheduler = schedulerOf(jobs);
    expect(await scheduler.run()).toBe(true);
    expect((await settle(plus(baseline, { gw: 1, t1: 1, t2: 1 }))).counts).toEqual(
      plus(baseline, { gw: 1, t1: 1, t2: 1 }),
    );
    await closeSshInScheduler(scheduler, { manageGateways: false });
    expect((await settle(plus(baseline, { gw: 1 }))).counts).toEqual(plus(baseline, { gw: 1 }));
    expect(gateway.isConnected()).toBe(true);
    await closeSshInScheduler(scheduler);
    expect((await settle(baseline)).counts).toEqual(baseline);
  });

  it('a 4-hop chain (gw → t1 → gw → t2), keepConnection: one connection per hop, all closed remotest first', async () => {
    const baseline = (await ourConnections()).counts;
    const nodes = chain();
    expect(nodes.map((node) => node.distance())).toEqual([1, 2, 3, 4]);
    const scheduler = schedulerOf(
      nodes.map((node, hop) => new SshJob({ node, command: `echo hop${hop}-0`, keepConnection: true })),
    );
    expect(await scheduler.run()).toBe(true);
    const expected = plus(baseline, { gw: 2, t1: 1, t2: 1 });
    const open = await settle(expected);
    expect(open.counts).toEqual(expected);
    expect(nodes.map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
    await closeSshInScheduler(scheduler);
    expect((await settle(baseline)).counts).toEqual(baseline);
    expect(await gone(open.keys)).toEqual([]);
    expect(nodes.some((node) => node.isConnected())).toBe(false);
  });

  describe('without keepConnection, the run closes what it opened (no closeSshInScheduler)', () => {
    /**
     * The jobs, plus a last job that requires them all and samples the connections while
     * the run is still going (jobs' shutdown comes at the end of the run).
     */
    async function runAndSample(jobs: SshJob[]): Promise<Ours> {
      let during: Ours | undefined;
      const sample = new Job(
        async () => {
          during = await ourConnections();
        },
        { required: jobs, label: 'sample connections' },
      );
      expect(await new Scheduler({ jobs: [...jobs, sample] }).run()).toBe(true);
      if (during === undefined) throw new Error('the sampling job did not run');
      return during;
    }

    it('hop1: 4 nodes × 4 jobs', async () => {
      const baseline = (await ourConnections()).counts;
      const nodes = [0, 1, 2, 3].map(() => track(loopbackNode(own)));
      const jobs = nodes.flatMap((node, n) =>
        [0, 1, 2, 3].map((c) => new SshJob({ node, command: `echo hop1-${n}-${c}` })),
      );
      const during = await runAndSample(jobs);
      expect(during.counts).toEqual(plus(baseline, { loopback: 4 }));
      expect((await settle(baseline)).counts).toEqual(baseline);
      expect(await gone(during.keys)).toEqual([]);
      expect(nodes.map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
      expect(nodes.some((node) => node.isConnected())).toBe(false);
    });

    it('hop1 in schedulers nested 2 deep: closed when each nested run ends', async () => {
      const baseline = (await ourConnections()).counts;
      const nodes = [0, 1, 2, 3].map(() => track(loopbackNode(own)));
      const jobs = nodes.flatMap((node, n) =>
        [0, 1].map((c) => new SshJob({ node, command: `echo hop1-${n}-${c}` })),
      );
      expect(await schedulerOf(jobs, { depth: 2, pack: 2 }).run()).toBe(true);
      expect((await settle(baseline)).counts).toEqual(baseline);
      expect(nodes.map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
      expect(nodes.some((node) => node.isConnected())).toBe(false);
    });

    it('hop2: 2 gateways × 2 targets × 2 jobs (gateways close after their targets)', async () => {
      const baseline = (await ourConnections()).counts;
      const gateways = [0, 1].map(() => track(gatewayNode(own)));
      const targets = gateways.flatMap((gateway) =>
        ([0, 1] as const).map((index) => track(targetNode(index, gateway, own))),
      );
      const jobs = targets.flatMap((node, t) =>
        [0, 1].map((c) => new SshJob({ node, command: `echo hop2-${t}-${c}` })),
      );
      const during = await runAndSample(jobs);
      expect(during.counts).toEqual(plus(baseline, { gw: 2, t1: 2, t2: 2 }));
      expect((await settle(baseline)).counts).toEqual(baseline);
      expect(await gone(during.keys)).toEqual([]);
      expect([...gateways, ...targets].map((node) => node.connectionCount)).toEqual([1, 1, 1, 1, 1, 1]);
      expect([...gateways, ...targets].some((node) => node.isConnected())).toBe(false);
    });

    it('a 4-hop chain: each hop has its connection during the run, none after', async () => {
      const baseline = (await ourConnections()).counts;
      const nodes = chain();
      const during = await runAndSample(
        nodes.map((node, hop) => new SshJob({ node, command: `echo hop${hop}-0` })),
      );
      expect(during.counts).toEqual(plus(baseline, { gw: 2, t1: 1, t2: 1 }));
      expect((await settle(baseline)).counts).toEqual(baseline);
      expect(await gone(during.keys)).toEqual([]);
      expect(nodes.map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
      expect(nodes.some((node) => node.isConnected())).toBe(false);
    });
  });
});

// ------------------------------------------------------------------------------------------------
// A script ends on its own after its run (DESIGN §4), unless it kept its connections

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const EXIT_SCRIPT = fileURLToPath(new URL('./fixtures/exit-script.ts', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Script {
  child: ChildProcess;
  exited: Promise<Exit>;
  /** Resolves when the script has printed 'done' (its run is over). */
  done: Promise<void>;
  output(): string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The bed's options for the child, as JSON (its formatter is its own). */
function nodeJson(host: { hostname: string; port: number }): string {
  return JSON.stringify({
    hostname: host.hostname,
    port: host.port,
    username: 'root',
    keys: [bed.keys.ed25519],
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
    connectTimeout: 10_000,
  });
}

/** Runs fixtures/exit-script.ts: one SshJob on the loopback node, or on target 1 through the gateway. */
function startScript(
  mode: 'release' | 'close' | 'keep',
  where: 'loopback' | 'behind gateway' = 'loopback',
): Script {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  env.JOBGRAPH_EXIT_MODE = mode;
  if (where === 'loopback') {
    env.JOBGRAPH_EXIT_NODE = nodeJson(bed.loopback);
    delete env.JOBGRAPH_EXIT_GATEWAY;
  } else {
    env.JOBGRAPH_EXIT_NODE = nodeJson(bed.targets[0]);
    env.JOBGRAPH_EXIT_GATEWAY = nodeJson(bed.gateway);
  }
  const child = spawn(process.execPath, ['--conditions=@jobgraph/source', '--import', 'tsx', EXIT_SCRIPT], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let sawDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    sawDone = resolve;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('done\n')) sawDone();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, done, output: () => output };
}

/** The promise's value, or 'timeout' after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a script ends on its own after its run (child process, test bed)', () => {
  it.each([
    ['keepConnection: false', 'release', 'loopback'],
    ['keepConnection: true + closeSshInScheduler', 'close', 'loopback'],
    ['keepConnection: false', 'release', 'behind gateway'],
    ['keepConnection: true + closeSshInScheduler', 'close', 'behind gateway'],
  ] as const)(
    '%s (%s, %s): exits with code 0',
    async (_name, mode, where) => {
      const script = startScript(mode, where);
      const outcome = await within(script.exited, 20_000);
      if (outcome === 'timeout') script.child.kill('SIGKILL');
      expect(outcome, script.output()).toEqual({ code: 0, signal: null });
      expect(script.output()).toBe('exit-test\ndone\n');
    },
    40_000,
  );

  it('keepConnection: true without closing: the open connection keeps the process alive (the contract)', async () => {
    const script = startScript('keep');
    expect(await within(script.done, 20_000), script.output()).toBeUndefined();
    // the run is over; the process is still there a while later
    expect(await within(script.exited, 3_000)).toBe('timeout');
    expect(script.child.exitCode).toBeNull();
    script.child.kill('SIGTERM');
    expect(await within(script.exited, 10_000)).toEqual({ code: null, signal: 'SIGTERM' });
  }, 40_000);
});
