/**
 * The fault matrix's harness: sshds of our own (on loopback or in a namespace, killed at will,
 * never the bed's), the processes an sshd serves, this process's TCP connections to an endpoint,
 * remote processes found by a marker, an unhandled-rejection trap, and a bounded `until`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, expect, inject } from 'vitest';
import '../testbed/global-setup.js';
import { Scheduler } from '../../packages/core/src/index.js';
import { SshJob, type SshJobOptions, SshNode, type SshNodeOptions } from '../../packages/ssh/src/index.js';
import { common, RecordingFormatter } from '../../packages/ssh/test/bed.js';

export const bed = inject('testbed');
export const execFileAsync = promisify(execFile);
export { RecordingFormatter };

/** Polls (every `step` ms, at most `limit` ms) until `check` holds; throws naming `what` otherwise. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  limit = 15_000,
  step = 50,
): Promise<void> {
  const deadline = Date.now() + limit;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${limit} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, step));
  }
}

/** Awaits `promise`, failing (instead of hanging) if it takes longer than `limit` ms. */
export async function within<T>(what: string, limit: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${limit} ms`)), limit);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until each node's command has its channel open (a `session-start` event on the node's
 * RecordingFormatter, as `access()` gives): the remote process shows up (pgrep) before the exec
 * request's answer reaches the client, and a fault in between is a failure to start, not a command
 * lost while running.
 */
export async function sessionsOpen(...nodes: ReadonlyArray<{ readonly formatter: unknown }>): Promise<void> {
  await until('the sessions open', () =>
    nodes.every((node) =>
      (node.formatter as RecordingFormatter).events.some((event) => event.kind === 'session-start'),
    ),
  );
}

/**
 * The markers of a test file's remote commands (call at the top level): the commands still running
 * under a marker pushed there are killed after each test, whatever its outcome.
 */
export function killMarkedAfterEach(): string[] {
  const markers: string[] = [];
  afterEach(async () => {
    for (const each of markers.splice(0)) await killMarked(each);
  });
  return markers;
}

/**
 * Collects the unhandled rejections of each test of the file and fails the test that had one
 * (call at the top level of a test file).
 */
export function trapUnhandledRejections(): void {
  const caught: unknown[] = [];
  const listener = (reason: unknown): void => {
    caught.push(reason);
  };
  beforeEach(() => {
    caught.length = 0;
    process.on('unhandledRejection', listener);
  });
  afterEach(async () => {
    // a rejection left unhandled shows up after the microtasks of the test's end
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('unhandledRejection', listener);
    expect(caught.map(String)).toEqual([]);
  });
}

/** The message of an error, checked to be one line. */
export function oneLine(error: unknown): string {
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

/** This process's established TCP connections to `host:port`, as `ss` sees them. */
export async function connectionsTo(host: string, port: number): Promise<number> {
  const { stdout } = await execFileAsync('ss', ['-Htnp', 'state', 'established'], { timeout: 10_000 });
  return stdout.split('\n').filter((line) => {
    const [, , , peer, ...users] = line.trim().split(/\s+/);
    return peer === `${host}:${port}` && users.join(' ').includes(`pid=${process.pid},`);
  }).length;
}

/** The pids whose command line matches `pattern` (pgrep -f), none: empty. */
export async function pgrep(pattern: string): Promise<number[]> {
  const { stdout } = await execFileAsync('pgrep', ['-f', pattern]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

/**
 * The remote commands running with `marker` in their command line, one pid each: the marked
 * processes whose parent is not marked and that lead their session (a command's login shell,
 * which sshd made a session of; not what it runs, nor the hang-up guard it started, which its
 * subshell left to be adopted: remote-process.ts). For "is it gone", `pgrep` is stricter: no
 * marked process at all.
 */
export async function commandsRunning(marker: string): Promise<number[]> {
  const marked = await pgrep(markerPattern(marker));
  const stats = await Promise.all(
    marked.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // pid (comm) state ppid pgrp session …
      const fields = /^\d+ \(.*\) \S+ (\d+) (\d+) (\d+)/.exec(stat);
      return { parent: Number(fields?.[1] ?? 0), session: Number(fields?.[3] ?? 0) };
    }),
  );
  return marked.filter((pid, i) => !marked.includes(stats[i]?.parent ?? 0) && stats[i]?.session === pid);
}

/** A pgrep pattern for `marker` that does not match the pgrep (or a shell) that carries it. */
export function markerPattern(marker: string): string {
  return `[${marker[0]}]${marker.slice(1)}`;
}

/** SIGKILLs what a test left running with `marker` in its command line, and what runs under it. */
export async function killMarked(marker: string): Promise<void> {
  const marked = await pgrep(markerPattern(marker));
  const under = (await Promise.all(marked.map((pid) => descendants(pid)))).flat().map((p) => p.pid);
  for (const pid of [...marked, ...under]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A unique marker for remote command lines of a test. */
export function marker(tag: string): string {
  return `jgfault-${tag}-${process.pid}-${Date.now().toString(36)}`;
}

/** Every descendant of `pid` (children, grandchildren…), from /proc. */
export async function descendants(pid: number): Promise<{ pid: number; comm: string }[]> {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^(\d+) \((.*)\) \S+ (\d+)/.exec(stat);
    if (match) parents.set(Number(match[1]), { ppid: Number(match[3]), comm: match[2] ?? '' });
  }
  const found: { pid: number; comm: string }[] = [];
  const walk = (parent: number): void => {
    for (const [child, { ppid, comm }] of parents)
      if (ppid === parent) {
        found.push({ pid: child, comm });
        walk(child);
      }
  };
  walk(pid);
  return found;
}

/** An sshd of our own: a copy of a bed host's configuration on another port (or address). */
export interface OwnSshd {
  readonly host: string;
  readonly port: number;
  readonly netns: string | null;
  /** The listening sshd (not a wrapper). */
  readonly pid: number;
  /** A known_hosts file that knows this sshd (and the bed's hosts). */
  readonly knownHosts: string;
  /** What sshd wrote on its standard error so far (-e: its log). */
  log(): string;
  /** The processes it serves: connections (sshd children) and what runs under them. */
  served(): Promise<{ pid: number; comm: string }[]>;
  /** SIGKILLs the listener and every sshd process under it (the commands they run are left). */
  kill(): Promise<void>;
  /** Kills everything (commands too), waits for the process to end; idempotent. */
  stop(): Promise<void>;
}

export interface OwnSshdOptions {
  /** Which bed host's configuration and host key: 'loopback', 'gw', 't1', 't2'. */
  like: 'loopback' | 'gw' | 't1' | 't2';
  port: number;
  /** Listen address (default: the bed host's own). */
  host?: string;
  /** Run in this network namespace (default: the bed host's). */
  netns?: string | null;
  /** Extra sshd_config lines. */
  extra?: string[];
  /** A shell prefix run before sshd in a private mount namespace (e.g. mounting a tmpfs). */
  mountSetup?: string;
}

const started: OwnSshd[] = [];
afterAll(async () => {
  for (const sshd of started.splice(0)) await sshd.stop();
});

/** Starts an sshd of our own, returns once it listens; stopped after the file's tests at the latest. */
export async function startSshd(options: OwnSshdOptions): Promise<OwnSshd> {
  const info =
    options.like === 'loopback'
      ? bed.loopback
      : options.like === 'gw'
        ? bed.gateway
        : bed.targets.find((t) => t.name === options.like);
  if (!info) throw new Error(`no bed host ${options.like}`);
  const host = options.host ?? info.hostname;
  const netns = options.netns === undefined ? info.netns : options.netns;
  const dir = await mkdtemp(join(tmpdir(), 'jgfault-sshd-'));
  const base = await readFile(info.sshdConfig, 'utf8');
  const config = [
    ...base.split('\n').filter((line) => !/^(ListenAddress|Port|PidFile)\b/.test(line)),
    `ListenAddress ${host}`,
    `Port ${options.port}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    ...(options.extra ?? []),
  ].join('\n');
  const configFile = join(dir, 'sshd_config');
  await writeFile(configFile, `${config}\n`);
  const knownHosts = join(dir, 'known_hosts');
  const entry = options.port === 22 ? host : `[${host}]:${options.port}`;
  const bedKnown = await readFile(bed.knownHosts, 'utf8');
  await writeFile(knownHosts, `${bedKnown.trimEnd()}\n${entry} ${info.hostKey}\n`);
  const sshd = `exec /usr/sbin/sshd -f ${configFile} -D -e`;
  const script = options.mountSetup ? `${options.mountSetup} && ${sshd}` : sshd;
  const inner = options.mountSetup
    ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script]
    : ['sh', '-c', script];
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...inner] : inner;
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk) => {
    log += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // every wrapper execs: the child's pid ends up being sshd's
  const pid = child.pid as number;
  const listening = async (): Promise<boolean> => {
    const ss = netns ? ['ip', 'netns', 'exec', netns, 'ss', '-Htln'] : ['ss', '-Htln'];
    const { stdout } = await execFileAsync(ss[0] as string, ss.slice(1)).catch(() => ({ stdout: '' }));
    return stdout.split('\n').some((line) => line.trim().split(/\s+/)[3] === `${host}:${options.port}`);
  };
  let stopped = false;
  const sshdProcesses = async () => (await descendants(pid)).filter((p) => p.comm === 'sshd');
  const self: OwnSshd = {
    host,
    port: options.port,
    netns,
    pid,
    knownHosts,
    log: () => log,
    served: () => descendants(pid),
    async kill() {
      const under = await sshdProcesses();
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      for (const { pid: each } of under) {
        try {
          process.kill(each, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const under = await descendants(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      for (const { pid: each } of under) {
        try {
          process.kill(each, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await within('our sshd exiting', 5_000, exited).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  started.push(self);
  try {
    await until(
      `sshd on ${host}:${options.port} listening (log: ${log})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`our sshd exited: ${log}`);
        return listening();
      },
      10_000,
    );
  } catch (error) {
    await self.stop();
    throw error;
  }
  return self;
}

/** What every node of the matrix needs: the bed's key, strict host keys, no agent, a recorder. */
export function access(extra: Partial<SshNodeOptions> = {}): Omit<SshNodeOptions, 'hostname'> {
  // the same as the ssh package's tests give their nodes
  return common(extra);
}

/**
 * A free TCP port number in a range of our own (pid-based, to keep parallel files apart; slot < 16),
 * below Linux's ephemeral range (32768–60999), where an outgoing connection's local port could
 * already hold it ("Address already in use": it happened once).
 */
export function portFor(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= 16) throw new Error(`portFor: slot 0-15, got ${slot}`);
  return 20_000 + ((process.pid * 16) % 12_000) + slot;
}

/** How a pair of jobs ended: the faulty one (non-critical) and a healthy one beside it. */
export interface PairOutcome {
  ok: boolean;
  error: unknown;
  message: string;
  healthy: RecordingFormatter;
  healthyResult: unknown;
  elapsed: number;
  debrief: string;
}

/**
 * Runs `faulty` (a non-critical SshJob on the faulty node) beside a healthy job on the bed's
 * loopback sshd in one Scheduler, bounded by `limit` ms: a hang fails the test.
 */
export async function runPair(
  node: SshNode,
  commands: NonNullable<SshJobOptions['commands']>,
  options: { limit: number; healthyCommand?: string; healthyNode?: SshNode; critical?: boolean } = {
    limit: 20_000,
  },
): Promise<PairOutcome> {
  const healthy = new RecordingFormatter();
  const healthyNode =
    options.healthyNode ??
    new SshNode({
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      ...access({ formatter: healthy }),
    });
  const faultyJob = new SshJob({ node, commands, label: 'faulty', critical: options.critical ?? false });
  const healthyJob = new SshJob({
    node: healthyNode,
    command: options.healthyCommand ?? 'echo healthy',
    label: 'healthy',
    critical: false,
  });
  const scheduler = new Scheduler({ critical: false, jobs: [faultyJob, healthyJob] });
  const started = Date.now();
  const ok = await within('the run', options.limit, scheduler.run());
  const elapsed = Date.now() - started;
  const error = faultyJob.raisedException();
  if (process.env.JGFAULT_PRINT) process.stderr.write(`JGFAULT ${String((error as Error)?.message)}\n`);
  return {
    ok,
    error,
    message: error instanceof Error ? oneLine(error) : '',
    healthy: options.healthyNode ? (healthyNode.formatter as RecordingFormatter) : healthy,
    healthyResult: healthyJob.raisedException() ?? healthyJob.result(),
    elapsed,
    debrief: scheduler.debrief(),
  };
}

/** A host of our own: a network namespace joined to this machine by a veth pair. */
export interface OwnHost {
  readonly netns: string;
  /** The veth end on this machine's side (set it down to cut the link). */
  readonly hostVeth: string;
  readonly address: string;
  setLink(up: boolean): Promise<void>;
  /** Deletes the namespace (and with it the veth pair); idempotent. */
  remove(): Promise<void>;
}

const hosts: OwnHost[] = [];
afterAll(async () => {
  for (const host of hosts.splice(0)) await host.remove();
});

/** Creates a namespace `jgf<pid><slot>` at 10.239.<n>.2 (this machine: .1), in a /30 of its own. */
export async function createHost(slot: number): Promise<OwnHost> {
  const id = `${process.pid % 100_000}${slot}`;
  const netns = `jgf${id}`;
  const hostVeth = `jgfa${id}`;
  const peer = `jgfb${id}`;
  const subnet = (process.pid * 4 + slot) % 250;
  const address = `10.239.${subnet}.2`;
  const ip = (...args: string[]) => execFileAsync('ip', args, { timeout: 10_000 });
  let removed = false;
  const host: OwnHost = {
    netns,
    hostVeth,
    address,
    async setLink(up) {
      await ip('link', 'set', hostVeth, up ? 'up' : 'down');
    },
    async remove() {
      if (removed) return;
      removed = true;
      await ip('link', 'del', hostVeth).catch(() => undefined);
      await ip('netns', 'del', netns).catch(() => undefined);
    },
  };
  hosts.push(host);
  // leftovers of a crashed run with the same pid
  await ip('link', 'del', hostVeth).catch(() => undefined);
  await ip('netns', 'del', netns).catch(() => undefined);
  await ip('netns', 'add', netns);
  await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peer);
  await ip('link', 'set', peer, 'netns', netns);
  await ip('addr', 'add', `10.239.${subnet}.1/30`, 'dev', hostVeth);
  await ip('link', 'set', hostVeth, 'up');
  await ip('netns', 'exec', netns, 'ip', 'addr', 'add', `${address}/30`, 'dev', peer);
  await ip('netns', 'exec', netns, 'ip', 'link', 'set', peer, 'up');
  await ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up');
  return host;
}
