/**
 * The integration test bed: real OpenSSH sshd servers on this machine.
 *
 * - `loopback`: an sshd on 127.0.0.1 at a free high port, in the root network namespace.
 * - `gateway` (`jgtb-gw`) and two targets (`jgtb-t1`, `jgtb-t2`): separate hosts in network namespaces,
 *   each with its own sshd on port 22, its own host key, its own host name (UTS namespace) and its
 *   own `/root` and `/tmp` (a mount namespace: `<work dir>/disks/<host>/{root,tmp}` bound over them,
 *   the work dir itself mounted back in its `/tmp`; `TestbedHost.disk`), so that one path on two
 *   hosts holds two files. Other paths (`/home`, `/etc`…) are this machine's.
 *   The targets are reachable only through an SSH tunnel via the gateway: the root namespace has no
 *   route to them (an `unreachable` route, so nothing leaks to the machine's default route) and the
 *   gateway does not forward IP.
 *
 * Everything lives in a fixed work dir ({@link TESTBED_DIR}) and every namespace / veth is named with the
 * prefix {@link NETNS_PREFIX}, so that a later start can clean up what an interrupted run left behind,
 * without ever touching anything else (the machine's own sshd, ~/.ssh, other namespaces).
 *
 * Needs root (it is in CI and on the developers' machines), `ip netns`, and Debian's apt to install
 * openssh-server when /usr/sbin/sshd is missing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { removeSudoUsers, setupSudoUsers, sudoMissing, type TestbedSudoUsers } from './sudo-users.js';

/** The fixed work dir (fixed so that the cleanup of an interrupted run can find it). */
export const TESTBED_DIR = '/tmp/jobgraph-testbed';
/** Prefix of every network namespace and veth link of the bed. */
export const NETNS_PREFIX = 'jgtb-';
/** The private address block of the bed; the root namespace gets an `unreachable` route for it. */
export const TESTBED_BLOCK = '10.231.0.0/16';
/** Passphrase of the `ed25519Pass` client key. */
export const KEY_PASSPHRASE = 'jobgraph-pass';

const SSHD = '/usr/sbin/sshd';
const MARKER = '.jobgraph-testbed';
/** Lock serialising starts and stops across processes (beside the work dir, which a cleanup removes). */
const LOCK_DIR = `${TESTBED_DIR}.lock`;
/** Name of the user entry of a bed held up by the CLI (`cli.ts start`) until `cli.ts stop`. */
const DETACHED_USER = 'detached';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const POLICY_RC_D_TEXT =
  '#!/bin/sh\n# jobgraph-testbed: no service starts during its apt-get install\nexit 101\n';

/** One SSH server of the bed. */
export interface TestbedHost {
  /** Short name: 'loopback', 'gw', 't1', 't2' (also the stem of its files in the work dir). */
  name: string;
  /** Address to connect to (from the root namespace for loopback and gateway, from the gateway for targets). */
  hostname: string;
  port: number;
  username: string;
  /** Its network namespace, or null for the loopback host (root namespace). */
  netns: string | null;
  /** What `hostname` prints on that host (namespace hosts have their own UTS namespace). */
  nodename: string;
  /** Its public host key line, e.g. `ssh-ed25519 AAAA... comment`. */
  hostKey: string;
  /** Path of its sshd_config (`sshd -T -f` it to see the effective settings). */
  sshdConfig: string;
  /** Path of its sshd log (`-E`). */
  log: string;
  /** Path of its sshd pid file. */
  pidFile: string;
  /**
   * Namespace hosts: the directory on this machine that holds the host's own `/root` and `/tmp`
   * (`<disk>/root`, `<disk>/tmp`), bind-mounted over them in the mount namespace its sshd runs in,
   * so that each host has files of its own; the bed's work dir stays visible in its `/tmp`.
   * null for the loopback host (this machine's own disk).
   */
  disk: string | null;
}

/** What a test gets from `inject('testbed')`. JSON-serialisable. */
export interface TestbedInfo {
  workDir: string;
  loopback: TestbedHost;
  gateway: TestbedHost;
  /** Reachable only through the gateway; their `hostname` is also their address as seen from the gateway. */
  targets: [TestbedHost, TestbedHost];
  /** Private key paths (OpenSSH format); every one of them is authorized on every host as root. */
  keys: {
    ed25519: string;
    /** Protected by {@link TestbedInfo.keys.passphrase}. */
    ed25519Pass: string;
    passphrase: string;
    rsa: string;
  };
  /** known_hosts listing every host (`[127.0.0.1]:PORT` for loopback, plain addresses for the others). */
  knownHosts: string;
  /** The same entries, hashed (`ssh-keygen -H`). */
  knownHostsHashed: string;
  /**
   * An ssh_config for the OpenSSH client (`ssh -F`): defaults for every host of the bed (root, id_ed25519,
   * the bed's known_hosts, StrictHostKeyChecking yes, BatchMode yes), and aliases `jgtb-lo`, `jgtb-gw`,
   * `jgtb-t1`, `jgtb-t2` (the targets with ProxyJump jgtb-gw).
   */
  sshConfig: string;
  /** Public host key line per host name ('loopback', 'gw', 't1', 't2'). */
  hostKeys: Record<string, string>;
  netns: true;
  /**
   * Non-root users on every host of the bed (same machine, same /etc/passwd), logging in with the bed's
   * client keys: one whose sudo needs its password, one with NOPASSWD (see sudo-users.ts).
   */
  sudo: TestbedSudoUsers;
}

export interface TestbedOptions {
  /** Bound on apt-get update + install of openssh-server, default 300 s. */
  installTimeoutMs?: number;
  /** Bound on each sshd to accept connections, default 10 s. */
  acceptTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Hold the bed up after this process exits, until `stopTestbed({ detach: true })` (the CLI's `start`). */
  detach?: boolean;
}

interface NetnsHostSpec {
  name: 'gw' | 't1' | 't2';
  netns: string;
  /** Address the tests connect to. */
  address: string;
  /** Every address the host's sshd listens on. */
  listen: string[];
}

const GATEWAY: NetnsHostSpec = {
  name: 'gw',
  netns: `${NETNS_PREFIX}gw`,
  address: '10.231.1.2',
  listen: ['10.231.1.2', '10.231.2.1', '10.231.3.1'],
};
const TARGETS: [NetnsHostSpec, NetnsHostSpec] = [
  { name: 't1', netns: `${NETNS_PREFIX}t1`, address: '10.231.2.2', listen: ['10.231.2.2'] },
  { name: 't2', netns: `${NETNS_PREFIX}t2`, address: '10.231.3.2', listen: ['10.231.3.2'] },
];

// ---------------------------------------------------------------------------------------------------------
// Running commands

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** Runs a command to completion, bounded by `timeoutMs` (then SIGTERM, SIGKILL 2 s later). Never rejects. */
function runRaw(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult & { timedOut: boolean; error?: Error }> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        env: options.env ?? ENV,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', timedOut: false, error: error as Error });
      return;
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    }, options.timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        timedOut,
        ...(spawnError === undefined ? {} : { error: spawnError }),
      });
    });
  });
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}

/** Runs a command that must succeed; a failure rejects with a one-line error naming `step`. */
async function run(
  step: string,
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<string> {
  const result = await runRaw(command, args, options);
  const what = `${path.basename(command)} ${args.slice(0, 3).join(' ')}`.trim();
  if (result.error) throw new Error(`testbed: ${step} failed: cannot run ${what}: ${result.error.message}`);
  if (result.timedOut) {
    throw new Error(
      `testbed: ${step} did not finish within ${Math.round(options.timeoutMs / 1000)} s (${what})`,
    );
  }
  if (result.code !== 0) {
    const why = lastLine(result.stderr) || lastLine(result.stdout) || `signal ${result.signal ?? '?'}`;
    throw new Error(`testbed: ${step} failed: ${what} exited ${result.code ?? result.signal}: ${why}`);
  }
  return result.stdout;
}

const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
/** The environment of every command: ours, with the sbin dirs on PATH (sysctl, ip, unshare). */
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: [process.env.PATH ?? '/usr/bin:/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':'),
};

/** `ip ARGS`, bounded. */
function ip(step: string, ...args: string[]): Promise<string> {
  return run(step, IP, args, { timeoutMs: 10_000 });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Processes

/** A live process's executable and command line (joined by spaces), or null when it is gone or a zombie. */
async function processInfo(pid: number): Promise<{ exe: string; cmdline: string } | null> {
  try {
    const statText = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = statText.charAt(statText.lastIndexOf(')') + 2);
    if (state === 'Z' || state === 'X') return null;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
    return { exe, cmdline };
  } catch {
    return null;
  }
}

/**
 * Is this an sshd listener of ours? Its executable is sshd and its command line has `-f <workDir>/...`
 * (sshd's listener rewrites its title to `sshd: /usr/sbin/sshd -D -f CFG ... [listener] ...`, which keeps
 * that part; per-connection children become `sshd: root@notty` and are found as the listener's children).
 */
function isOurSshd(info: { exe: string; cmdline: string } | null, workDir: string): boolean {
  return info?.exe.startsWith(SSHD) === true && info.cmdline.includes(` -f ${workDir}/`);
}

async function allPids(): Promise<number[]> {
  const entries = await readdir('/proc');
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** Direct children of `pid` (by /proc/N/stat's ppid). */
async function childrenOf(pids: ReadonlySet<number>): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await allPids()) {
    try {
      const statText = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (pids.has(ppid)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM the given processes, wait (bounded) for them to exit, SIGKILL what is left, wait again. */
async function terminate(pids: readonly number[], what: string, timeoutMs = 5_000): Promise<void> {
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  const alive = async (): Promise<number[]> => {
    const left: number[] = [];
    for (const pid of pids) if ((await processInfo(pid)) !== null) left.push(pid);
    return left;
  };
  const deadline = Date.now() + timeoutMs;
  let left = await alive();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await alive();
  }
  if (left.length === 0) return;
  for (const pid of left) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 3_000;
  while (left.length > 0 && Date.now() < killDeadline) {
    await sleep(50);
    left = await alive();
  }
  if (left.length > 0) {
    throw new Error(`testbed: ${what}: process(es) ${left.join(', ')} did not exit after SIGKILL within 3 s`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup

/** Our sshd listeners: by pid file in the work dir, and by a /proc scan for `sshd -f <workDir>/...`. */
async function ourSshdPids(workDir: string): Promise<number[]> {
  const pids = new Set<number>();
  if (existsSync(workDir)) {
    for (const entry of await readdir(workDir)) {
      if (!entry.endsWith('.pid')) continue;
      const pid = Number((await readFile(path.join(workDir, entry), 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 1) continue;
      if (isOurSshd(await processInfo(pid), workDir)) pids.add(pid);
    }
  }
  // An interrupted start may have killed us between the spawn and sshd writing its pid file.
  for (const pid of await allPids()) {
    if (isOurSshd(await processInfo(pid), workDir)) pids.add(pid);
  }
  return [...pids];
}

async function ourNamespaces(): Promise<string[]> {
  const out = await ip('listing network namespaces', 'netns', 'list');
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX));
}

async function ourRootLinks(): Promise<string[]> {
  const out = await ip('listing links', '-o', 'link', 'show');
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const match = /^\d+:\s+([^:@\s]+)[@:]/.exec(line);
    const name = match?.[1];
    if (name?.startsWith(NETNS_PREFIX)) names.push(name);
  }
  return names;
}

async function hasOurUnreachableRoute(): Promise<boolean> {
  const out = await ip('listing routes', 'route', 'show', 'type', 'unreachable', 'exact', TESTBED_BLOCK);
  return out.trim() !== '';
}

/** Refuses to go on with a work dir that is not the bed's (no marker). */
async function checkMarker(workDir: string): Promise<void> {
  if (existsSync(workDir) && !existsSync(path.join(workDir, MARKER))) {
    // An empty dir is what a start killed between its mkdir and its marker leaves behind.
    if ((await readdir(workDir)).length === 0) await rm(workDir, { recursive: true });
    else
      throw new Error(
        `testbed: ${workDir} exists but is not a test bed work dir (no ${MARKER}); not touching it`,
      );
  }
}

/**
 * Removes everything of the bed: its sshd processes (and their sessions), every `jgtb-` namespace (and the
 * processes in it), `jgtb-` veth links, its unreachable route, a policy-rc.d of its own, and the work dir.
 * Touches nothing else.
 */
async function cleanup(workDir: string): Promise<void> {
  await checkMarker(workDir);
  const listeners = await ourSshdPids(workDir);
  // Their per-connection children first (they outlive a SIGTERMed listener until their client leaves).
  const sessions = await childrenOf(new Set(listeners));
  await terminate([...sessions, ...listeners], 'stopping the sshd servers of the bed');
  await removeSudoUsers(run, terminate);

  for (const ns of await ourNamespaces()) {
    const pids = (await ip(`listing processes in ${ns}`, 'netns', 'pids', ns))
      .split(/\s+/)
      .filter((word) => /^\d+$/.test(word))
      .map(Number);
    await terminate(pids, `stopping the processes in ${ns}`);
    await ip(`deleting network namespace ${ns}`, 'netns', 'delete', ns);
  }
  for (const link of await ourRootLinks()) {
    // Gone already if its peer's namespace was deleted just now.
    const result = await runRaw(IP, ['link', 'delete', link], { timeoutMs: 10_000 });
    if (result.code !== 0 && (await ourRootLinks()).includes(link)) {
      throw new Error(`testbed: deleting link ${link} failed: ${lastLine(result.stderr)}`);
    }
  }
  if (await hasOurUnreachableRoute()) {
    await ip('deleting the unreachable route', 'route', 'delete', 'unreachable', TESTBED_BLOCK);
  }
  await removeOwnPolicyRcD();
  await rm(workDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------
// Sharing: concurrent runs (several vitest runs on one machine, a bed held up by the CLI) use one bed.

/** A process, told apart from a later one with a reused pid by its start time. */
interface ProcessId {
  pid: number;
  /** Field 22 of /proc/PID/stat. */
  startTime: string;
}

async function processStartTime(pid: number): Promise<string | null> {
  const statText = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (statText === null) return null;
  return statText.slice(statText.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

async function thisProcess(): Promise<ProcessId> {
  return { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '' };
}

async function isAlive(id: ProcessId): Promise<boolean> {
  return (await processInfo(id.pid)) !== null && (await processStartTime(id.pid)) === id.startTime;
}

async function readJson<T>(file: string): Promise<T | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Serialises the starts and stops of the bed across processes (mkdir lock; a dead holder's lock is taken). */
async function withLock<T>(what: string, timeoutMs: number, body: () => Promise<T>): Promise<T> {
  const holderFile = path.join(LOCK_DIR, 'holder');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK_DIR, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`testbed: ${what}: cannot create the lock ${LOCK_DIR}: ${String(error)}`);
      }
    }
    const holder = await readJson<ProcessId>(holderFile);
    const stale = holder
      ? !(await isAlive(holder))
      : Date.now() - (await stat(LOCK_DIR).catch(() => ({ mtimeMs: 0 }))).mtimeMs > 10_000;
    if (stale) {
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `testbed: ${what}: pid ${holder?.pid ?? '?'} has held ${LOCK_DIR} for over ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await sleep(200);
  }
  try {
    await writeFile(holderFile, JSON.stringify(await thisProcess()));
    return await body();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Who uses the bed: live processes (their dead ones are forgotten here) and whether the CLI holds it up. */
async function users(workDir: string): Promise<{ live: ProcessId[]; detached: boolean }> {
  const dir = path.join(workDir, 'users');
  const live: ProcessId[] = [];
  let detached = false;
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (entry === DETACHED_USER) {
      detached = true;
      continue;
    }
    const id = await readJson<ProcessId>(path.join(dir, entry));
    if (id && (await isAlive(id))) live.push(id);
    else await rm(path.join(dir, entry), { force: true });
  }
  return { live, detached };
}

async function addUser(workDir: string, detached: boolean): Promise<void> {
  const dir = path.join(workDir, 'users');
  await mkdir(dir, { recursive: true });
  const me = await thisProcess();
  if (detached) await writeFile(path.join(dir, DETACHED_USER), 'held up by test/testbed/cli.ts start\n');
  else await writeFile(path.join(dir, `${me.pid}.json`), JSON.stringify(me));
}

async function removeUser(workDir: string, detached: boolean): Promise<void> {
  const dir = path.join(workDir, 'users');
  await rm(path.join(dir, detached ? DETACHED_USER : `${process.pid}.json`), { force: true });
}

/** The bed's description when it is complete and its four sshd servers still run, else null. */
async function runningBed(workDir: string): Promise<TestbedInfo | null> {
  const info = await readJson<TestbedInfo>(path.join(workDir, 'info.json'));
  if (!info) return null;
  for (const host of [info.loopback, info.gateway, ...info.targets]) {
    const pid = Number((await readFile(host.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1 || !isOurSshd(await processInfo(pid), workDir)) return null;
  }
  const namespaces = await ourNamespaces();
  if (![GATEWAY, ...TARGETS].every((host) => namespaces.includes(host.netns))) return null;
  return info;
}

async function removeOwnPolicyRcD(): Promise<void> {
  const text = await readFile(POLICY_RC_D, 'utf8').catch(() => null);
  if (text === POLICY_RC_D_TEXT) await rm(POLICY_RC_D, { force: true });
}

// ---------------------------------------------------------------------------------------------------------
// Installing openssh-server

async function ensureInstalled(timeoutMs: number, log: (line: string) => void): Promise<void> {
  const packages: string[] = [];
  if (!existsSync(SSHD)) packages.push('openssh-server');
  if (!existsSync('/usr/bin/ssh') || !existsSync('/usr/bin/ssh-keygen') || !existsSync('/usr/bin/sftp')) {
    packages.push('openssh-client');
  }
  if (!existsSync('/usr/sbin/ip') && !existsSync('/usr/bin/ip') && !existsSync('/bin/ip'))
    packages.push('iproute2');
  if (sudoMissing()) packages.push('sudo');
  if (packages.length === 0) return;

  log(`testbed: installing ${packages.join(' ')} with apt-get`);
  const deadline = Date.now() + timeoutMs;
  const env = { ...ENV, DEBIAN_FRONTEND: 'noninteractive' };
  const left = (): number => Math.max(1_000, deadline - Date.now());
  const step = `installing ${packages.join(' ')}`;
  // Keep the package's postinst from starting the system ssh service on port 22.
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) {
    await writeFile(POLICY_RC_D, POLICY_RC_D_TEXT);
    await chmod(POLICY_RC_D, 0o755);
  }
  try {
    await run(`${step} (apt-get update)`, 'apt-get', ['update'], { timeoutMs: left(), env });
    const install = ['install', '-y', '--no-install-recommends', ...packages];
    try {
      await run(`${step} (apt-get install)`, 'apt-get', install, { timeoutMs: left(), env });
    } catch (error) {
      // An install interrupted by an earlier killed run leaves dpkg half-configured.
      if (!String(error).includes('dpkg --configure -a')) throw error;
      await run(`${step} (dpkg --configure -a)`, 'dpkg', ['--configure', '-a'], { timeoutMs: left(), env });
      await run(`${step} (apt-get install)`, 'apt-get', install, { timeoutMs: left(), env });
    }
  } finally {
    if (ownPolicy) await removeOwnPolicyRcD();
  }
  if (!existsSync(SSHD)) throw new Error(`testbed: ${step}: apt-get succeeded but ${SSHD} is still missing`);
}

// ---------------------------------------------------------------------------------------------------------
// Keys and configuration

async function keygen(
  step: string,
  file: string,
  type: 'ed25519' | 'rsa',
  passphrase: string,
  comment: string,
) {
  const args = [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '3072'] : []),
    '-N',
    passphrase,
    '-C',
    comment,
    '-f',
    file,
  ];
  await run(step, 'ssh-keygen', args, { timeoutMs: 30_000 });
}

function sshdConfigText(workDir: string, name: string, listen: readonly string[], port: number): string {
  return [
    `# jobgraph test bed: sshd of host '${name}'`,
    ...listen.map((address) => `ListenAddress ${address}`),
    `Port ${port}`,
    'AddressFamily inet',
    `HostKey ${workDir}/${name}_host_ed25519_key`,
    `PidFile ${workDir}/${name}.pid`,
    `AuthorizedKeysFile ${workDir}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'X11Forwarding yes',
    'X11UseLocalhost yes',
    'XAuthLocation /usr/bin/xauth',
    'AllowTcpForwarding yes',
    // Debian's bash sources root's (slow) .bashrc for ssh sessions when SHLVL < 2.
    'SetEnv SHLVL=1',
    // Fan-out tests open many connections at once (the default 10:30:100 drops some at random).
    'MaxStartups 100:30:200',
    // As in Debian's shipped sshd_config: no motd / last-login text in pty sessions.
    'PrintMotd no',
    'PrintLastLog no',
    'LogLevel VERBOSE',
    // MaxSessions stays at its default (10): tests must meet what users meet.
    '',
  ].join('\n');
}

function sshClientConfigText(info: Omit<TestbedInfo, 'sshConfig'>): string {
  const [t1, t2] = info.targets;
  return [
    '# jobgraph test bed: ssh -F <this file> jgtb-lo | jgtb-gw | jgtb-t1 | jgtb-t2 (or their addresses)',
    'Host jgtb-lo',
    `  HostName ${info.loopback.hostname}`,
    `  Port ${info.loopback.port}`,
    'Host jgtb-gw',
    `  HostName ${info.gateway.hostname}`,
    'Host jgtb-t1',
    `  HostName ${t1.hostname}`,
    '  ProxyJump jgtb-gw',
    'Host jgtb-t2',
    `  HostName ${t2.hostname}`,
    '  ProxyJump jgtb-gw',
    'Host *',
    '  User root',
    `  IdentityFile ${info.keys.ed25519}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${info.knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  BatchMode yes',
    '  ConnectTimeout 10',
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Starting sshd and waiting for it

/**
 * Polls HOST:PORT until it sends an `SSH-2.0` banner, up to DEADLINE_MS; exits 0 when it does, 1 when not.
 * Plain JavaScript run with `node -e` (inside a namespace with `ip netns exec`).
 */
const BANNER_PROBE = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const deadline = Date.now() + Number(ms);
let last = 'no attempt';
function attempt() {
  if (Date.now() > deadline) { console.error(last); process.exit(1); }
  const socket = net.connect({ host, port: Number(port) });
  let data = '';
  let done = false;
  const retry = (why) => { if (done) return; done = true; last = why; socket.destroy(); setTimeout(attempt, 100); };
  socket.setTimeout(2000, () => retry('timeout'));
  socket.on('data', (chunk) => {
    data += chunk;
    if (data.startsWith('SSH-2.0-')) { done = true; socket.destroy(); process.exit(0); }
    if (data.length >= 8 && !data.startsWith('SSH-')) retry('not an ssh banner: ' + JSON.stringify(data.slice(0, 40)));
  });
  socket.on('error', (error) => retry(error.code || error.message));
  socket.on('close', () => retry('closed before the banner'));
}
attempt();
`;

class SshdExited extends Error {
  readonly log: string;
  constructor(message: string, log: string) {
    super(message);
    this.log = log;
  }
}

/** Errors of spawned sshd servers (an 'error' event may come before anyone waits for the child). */
const spawnErrors = new WeakMap<ChildProcess, Error>();

/** Spawns an sshd (detached, so that it outlives a CLI `start`), returning the child. */
function spawnSshd(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, {
    detached: true,
    stdio: 'ignore',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  child.on('error', (error) => {
    spawnErrors.set(child, error);
  });
  child.unref();
  return child;
}

/** Waits until the host's sshd sends its banner, or rejects (one line) when it exits or the bound passes. */
async function waitAccepting(
  child: ChildProcess,
  host: { name: string; address: string; port: number; probeNetns: string | null },
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  let onExit: ((code: number | null, sig: NodeJS.Signals | null) => void) | undefined;
  let onError: ((error: Error) => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = (code, sig) => {
      void readFile(logFile, 'utf8')
        .catch(() => '')
        .then((log) => {
          const why = lastLine(log) || `exit ${code ?? sig}`;
          reject(
            new SshdExited(`testbed: sshd on ${host.name} exited at start: ${why} (see ${logFile})`, log),
          );
        });
    };
    onError = (error) => reject(new Error(`testbed: cannot start sshd on ${host.name}: ${error.message}`));
    const early = spawnErrors.get(child);
    if (early) onError(early);
    else if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
    else {
      child.once('exit', onExit);
      child.once('error', onError);
    }
  });
  exited.catch(() => {});
  const probeArgs = ['-e', BANNER_PROBE, host.address, String(host.port), String(timeoutMs)];
  const probe = host.probeNetns
    ? runRaw(IP, ['netns', 'exec', host.probeNetns, process.execPath, ...probeArgs], {
        timeoutMs: timeoutMs + 5_000,
      })
    : runRaw(process.execPath, probeArgs, { timeoutMs: timeoutMs + 5_000 });
  try {
    const result = await Promise.race([probe, exited]);
    if (result.code !== 0) {
      const from = host.probeNetns ? ` from ${host.probeNetns}` : '';
      throw new Error(
        `testbed: sshd on ${host.name} did not accept connections${from} within ${Math.round(timeoutMs / 1000)} s` +
          ` (${lastLine(result.stderr) || 'no answer'}; see ${logFile})`,
      );
    }
  } finally {
    if (onExit) child.off('exit', onExit);
    if (onError) child.off('error', onError);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('testbed: no free port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The network

async function buildNetwork(): Promise<void> {
  const step = 'building the network namespaces';
  // Nothing of 10.231/16 but the gateway link is reachable from the root namespace; without this route the
  // targets' addresses would go out through the machine's default route.
  await ip(`${step} (unreachable route)`, 'route', 'add', 'unreachable', TESTBED_BLOCK);
  for (const host of [GATEWAY, ...TARGETS]) {
    await ip(`${step} (netns ${host.netns})`, 'netns', 'add', host.netns);
    await ip(`${step} (lo in ${host.netns})`, '-n', host.netns, 'link', 'set', 'lo', 'up');
  }
  const gw = GATEWAY.netns;
  // Links are named after the host at their other end.
  await ip(
    `${step} (veth root-gw)`,
    'link',
    'add',
    `${NETNS_PREFIX}gw`,
    'type',
    'veth',
    'peer',
    'name',
    `${NETNS_PREFIX}root`,
    'netns',
    gw,
  );
  await ip(`${step} (address root)`, 'addr', 'add', '10.231.1.1/24', 'dev', `${NETNS_PREFIX}gw`);
  await ip(`${step} (link root)`, 'link', 'set', `${NETNS_PREFIX}gw`, 'up');
  await ip(`${step} (address gw)`, '-n', gw, 'addr', 'add', '10.231.1.2/24', 'dev', `${NETNS_PREFIX}root`);
  await ip(`${step} (link gw)`, '-n', gw, 'link', 'set', `${NETNS_PREFIX}root`, 'up');
  for (const [index, target] of TARGETS.entries()) {
    const subnet = `10.231.${index + 2}`;
    const toTarget = `${NETNS_PREFIX}${target.name}`;
    const toGw = `${NETNS_PREFIX}gw`;
    await ip(
      `${step} (veth gw-${target.name})`,
      '-n',
      gw,
      'link',
      'add',
      toTarget,
      'type',
      'veth',
      'peer',
      'name',
      toGw,
      'netns',
      target.netns,
    );
    await ip(`${step} (address gw)`, '-n', gw, 'addr', 'add', `${subnet}.1/24`, 'dev', toTarget);
    await ip(`${step} (link gw)`, '-n', gw, 'link', 'set', toTarget, 'up');
    await ip(
      `${step} (address ${target.name})`,
      '-n',
      target.netns,
      'addr',
      'add',
      `${subnet}.2/24`,
      'dev',
      toGw,
    );
    await ip(`${step} (link ${target.name})`, '-n', target.netns, 'link', 'set', toGw, 'up');
  }
  // No IP forwarding in the gateway: the targets are reachable only through an SSH tunnel via it.
  await run(
    `${step} (ip_forward off in ${gw})`,
    IP,
    ['netns', 'exec', gw, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0'],
    {
      timeoutMs: 10_000,
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Start / stop

/**
 * Starts the bed and returns its description. When another live process (a concurrent vitest run) or the
 * CLI uses a bed that is up, joins it instead; otherwise first cleans up what an interrupted earlier run left
 * behind, then starts afresh. Every wait is bounded; a failure rejects with a one-line error naming the step.
 */
export async function startTestbed(options: TestbedOptions = {}): Promise<TestbedInfo> {
  const workDir = TESTBED_DIR;
  const log = options.log ?? (() => {});
  const installTimeoutMs = options.installTimeoutMs ?? 300_000;
  if (process.getuid?.() !== 0) throw new Error('testbed: needs root (sshd as root, ip netns)');
  const detach = options.detach === true;

  return withLock('starting', installTimeoutMs + 120_000, async () => {
    await checkMarker(workDir);
    const current = await users(workDir);
    if (current.live.length > 0 || current.detached) {
      const running = await runningBed(workDir);
      if (running) {
        const by = [...current.live.map((id) => `pid ${id.pid}`), ...(current.detached ? ['the CLI'] : [])];
        log(`testbed: joining the bed already up (used by ${by.join(', ')})`);
        if (running.gateway.disk === undefined) {
          throw new Error(
            'testbed: the bed up is from an older version (its hosts share one disk); stop it first: node --import tsx test/testbed/cli.ts stop --force',
          );
        }
        if (running.sudo?.runAsNobody === undefined) {
          // Started by a version of the bed without (all) the sudo users: add them to it.
          running.sudo = await setupSudoUsers(workDir, path.join(workDir, 'authorized_keys'), run);
          await writeFile(path.join(workDir, 'info.json'), `${JSON.stringify(running, null, 2)}\n`, {
            mode: 0o600,
          });
          await chmod(path.join(workDir, 'info.json'), 0o600);
        }
        await addUser(workDir, detach);
        return running;
      }
      if (current.live.length > 0) {
        throw new Error(
          `testbed: the bed in ${workDir} is used by pid ${current.live.map((id) => id.pid).join(', ')} but is not` +
            ' up: wait for it, or `node --import tsx test/testbed/cli.ts stop --force`',
        );
      }
    }
    await cleanup(workDir);
    await ensureInstalled(installTimeoutMs, log);
    // sshd's privilege separation dir: root-owned, not group/world-writable.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    if (((await stat('/run/sshd')).mode & 0o022) !== 0) await chmod('/run/sshd', 0o755);

    await mkdir(workDir, { mode: 0o700 });
    await writeFile(
      path.join(workDir, MARKER),
      'made by jobgraph test/testbed/testbed.ts; removed by stopTestbed()\n',
    );
    try {
      const info = await startIn(workDir, options.acceptTimeoutMs ?? 10_000, log);
      await addUser(workDir, detach);
      return info;
    } catch (error) {
      await cleanup(workDir).catch(() => {});
      throw error;
    }
  });
}

async function startIn(
  workDir: string,
  acceptTimeoutMs: number,
  log: (line: string) => void,
): Promise<TestbedInfo> {
  const file = (name: string): string => path.join(workDir, name);
  const names = ['loopback', GATEWAY.name, ...TARGETS.map((t) => t.name)];

  log('testbed: generating keys');
  const keys = {
    ed25519: file('id_ed25519'),
    ed25519Pass: file('id_ed25519_pass'),
    passphrase: KEY_PASSPHRASE,
    rsa: file('id_rsa'),
  };
  await Promise.all([
    ...names.map((name) =>
      keygen(
        `generating the host key of ${name}`,
        file(`${name}_host_ed25519_key`),
        'ed25519',
        '',
        `jobgraph-testbed host ${name}`,
      ),
    ),
    keygen('generating the client key id_ed25519', keys.ed25519, 'ed25519', '', 'jobgraph-testbed client'),
    keygen(
      'generating the client key id_ed25519_pass',
      keys.ed25519Pass,
      'ed25519',
      KEY_PASSPHRASE,
      'jobgraph-testbed client (passphrase)',
    ),
    keygen('generating the client key id_rsa', keys.rsa, 'rsa', '', 'jobgraph-testbed client (rsa)'),
  ]);
  const pub = async (key: string): Promise<string> => (await readFile(`${key}.pub`, 'utf8')).trim();
  await writeFile(
    file('authorized_keys'),
    `${[await pub(keys.ed25519), await pub(keys.ed25519Pass), await pub(keys.rsa)].join('\n')}\n`,
  );
  log('testbed: adding the sudo users');
  const sudo = await setupSudoUsers(workDir, file('authorized_keys'), run);
  const hostKeys: Record<string, string> = {};
  for (const name of names) hostKeys[name] = await pub(file(`${name}_host_ed25519_key`));

  const hostInfo = (
    name: string,
    hostname: string,
    port: number,
    netns: string | null,
    nodename: string,
  ): TestbedHost => ({
    name,
    hostname,
    port,
    username: 'root',
    netns,
    nodename,
    hostKey: hostKeys[name] ?? '',
    sshdConfig: file(`${name}.sshd_config`),
    log: file(`${name}.log`),
    pidFile: file(`${name}.pid`),
    disk: netns === null ? null : file(`disks/${name}`),
  });

  // The loopback host, at a free high port (retried when another process takes it meanwhile).
  log('testbed: starting the loopback sshd');
  let loopback: TestbedHost | undefined;
  for (let attempt = 1; loopback === undefined; attempt++) {
    const port = await freePort();
    const host = hostInfo('loopback', '127.0.0.1', port, null, osHostname());
    await writeFile(host.sshdConfig, sshdConfigText(workDir, host.name, ['127.0.0.1'], port));
    await rm(host.log, { force: true });
    const child = spawnSshd(SSHD, ['-D', '-f', host.sshdConfig, '-E', host.log]);
    try {
      await waitAccepting(
        child,
        { name: 'loopback', address: '127.0.0.1', port, probeNetns: null },
        host.log,
        acceptTimeoutMs,
      );
      loopback = host;
    } catch (error) {
      const busy = error instanceof SshdExited && /Address already in use|Cannot bind/.test(error.log);
      if (!busy || attempt >= 5) throw error;
      log(`testbed: port ${port} was taken, retrying`);
    }
  }

  log('testbed: building the network namespaces');
  await buildNetwork();

  const nsHosts: TestbedHost[] = [];
  const started: Array<{ child: ChildProcess; host: TestbedHost; probeNetns: string | null }> = [];
  for (const spec of [GATEWAY, ...TARGETS]) {
    const host = hostInfo(spec.name, spec.address, 22, spec.netns, spec.netns);
    nsHosts.push(host);
    await writeFile(host.sshdConfig, sshdConfigText(workDir, host.name, spec.listen, 22));
    const disk = host.disk as string;
    // the host's /tmp holds a mount point for the work dir (under /tmp too), so that its sshd
    // still reads its config, keys and authorized_keys there
    const workDirInTmp = path.relative('/tmp', workDir);
    await mkdir(path.join(disk, 'root'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(disk, 'tmp', workDirInTmp), { recursive: true });
    await chmod(path.join(disk, 'tmp'), 0o1777);
    // Own network namespace, own UTS namespace (so `hostname` tells the hosts apart), own mount
    // namespace with its own /root and /tmp (so that files tell them apart; the mounts go away
    // with the namespace's last process: nothing is left in this machine's mount table), then
    // exec sshd. /root first: once /tmp is covered, the disk's path under /tmp is out of reach.
    const child = spawnSshd(IP, [
      'netns',
      'exec',
      spec.netns,
      'unshare',
      '--uts',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      [
        'hostname "$1"',
        'mount --bind "$5/root" /root',
        'mount --bind "$6" "$5/tmp/$7"',
        'mount --rbind "$5/tmp" /tmp',
        'exec "$2" -D -f "$3" -E "$4"',
      ].join(' && '),
      'sh',
      spec.netns,
      SSHD,
      host.sshdConfig,
      host.log,
      disk,
      workDir,
      workDirInTmp,
    ]);
    // Targets are probed from the gateway: that also proves the gateway reaches them.
    started.push({ child, host, probeNetns: spec === GATEWAY ? null : GATEWAY.netns });
  }
  log('testbed: waiting for the namespace sshd servers');
  await Promise.all(
    started.map(({ child, host, probeNetns }) =>
      waitAccepting(
        child,
        { name: host.netns ?? host.name, address: host.hostname, port: 22, probeNetns },
        host.log,
        acceptTimeoutMs,
      ),
    ),
  );
  const [gateway, t1, t2] = nsHosts;
  if (!gateway || !t1 || !t2) throw new Error('testbed: internal error: namespace hosts missing');

  // known_hosts, plain and hashed.
  const knownHosts = file('known_hosts');
  const knownHostsHashed = file('known_hosts_hashed');
  const hostPattern = (host: TestbedHost): string =>
    host.port === 22 ? host.hostname : `[${host.hostname}]:${host.port}`;
  const knownText = [loopback, gateway, t1, t2]
    .map((host) => `${hostPattern(host)} ${host.hostKey}`)
    .join('\n');
  await writeFile(knownHosts, `${knownText}\n`);
  await writeFile(knownHostsHashed, `${knownText}\n`);
  await run('hashing known_hosts_hashed', 'ssh-keygen', ['-H', '-f', knownHostsHashed], {
    timeoutMs: 10_000,
  });
  await rm(`${knownHostsHashed}.old`, { force: true });

  const partial: Omit<TestbedInfo, 'sshConfig'> = {
    workDir,
    loopback,
    gateway,
    targets: [t1, t2],
    keys,
    knownHosts,
    knownHostsHashed,
    hostKeys,
    netns: true,
    sudo,
  };
  const sshConfig = file('ssh_config');
  await writeFile(sshConfig, sshClientConfigText(partial));
  const info: TestbedInfo = { ...partial, sshConfig };
  // 0600: it holds the sudo user's password, and the work dir is traversable by that user.
  await writeFile(file('info.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  log('testbed: up');
  return info;
}

/** The description of the running bed (from its work dir), or null when none is running. */
export async function testbedInfo(): Promise<TestbedInfo | null> {
  const text = await readFile(path.join(TESTBED_DIR, 'info.json'), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as TestbedInfo);
}

export interface StopOptions {
  /** Drop the CLI's hold (`cli.ts stop`) rather than this process's use. */
  detach?: boolean;
  /** Tear the bed down even when other live processes still use it. */
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Stops the bed: drops this process's use of it and, when nobody else uses it (or with `force`), kills only
 * the sshd servers it started (by pid file; their sessions too) and waits for them to exit (bounded), deletes
 * its namespaces, veth links and route, and removes the work dir.
 */
export async function stopTestbed(options: StopOptions = {}): Promise<void> {
  const workDir = TESTBED_DIR;
  const log = options.log ?? (() => {});
  await withLock('stopping', 60_000, async () => {
    await checkMarker(workDir);
    await removeUser(workDir, options.detach === true);
    const left = await users(workDir);
    if (!options.force && (left.live.length > 0 || left.detached)) {
      const by = [...left.live.map((id) => `pid ${id.pid}`), ...(left.detached ? ['the CLI'] : [])];
      log(`testbed: left up for ${by.join(', ')}`);
      return;
    }
    await cleanup(workDir);
    log('testbed: stopped');
  });
}
