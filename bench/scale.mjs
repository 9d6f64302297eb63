// Scale from one controller (issue 12): one Node.js process runs `true` on N hosts (default 500) at
// once, each an SshNode with a connection of its own (`shareConnection: false`), all kept open until
// every host is done (as a Scheduler's run does), then closed. Prints the wall time, the peak RSS of
// the controller, the cost per host, and the floor that sshd's own CPU sets: the user+system time
// of every sshd process of the run (read from /proc: the listeners' own times and those of the
// children they reaped, i.e. every per-connection sshd and the `true` it ran), divided by the CPUs.
//
// The N hosts are N connections spread over E endpoints (default 10): S sshd processes of this
// script's own (default 5, copies of the bed's loopback sshd config with their own ports and pid
// files, the bed's host key and authorized_keys; never the bed's sshds) listening on 127.0.0.1 on
// E/S ports each. Why not 500 sshds: on one machine every handshake's CPU is spent on the same cores
// whatever the number of listeners, and a listener is only the accept loop (sshd forks a process per
// connection anyway); 500 listeners would add ~2 GB of idle processes and measure nothing more.
// Several endpoints rather than one: jobgraph paces handshakes per destination (8 at once), so a
// fan-out over 10 destinations has 80 handshakes in flight, as a fan-out over many hosts does, and
// no one listener's MaxStartups (the default 10:30:100 here) is the limit.
//
// Needs the test bed up (for its keys): `node --import tsx test/testbed/cli.ts start`.
// Runs from the TypeScript sources (tsx, condition @jobgraph/source): no build needed; tsx adds
// ~40 MB to the controller's RSS.
// Run: `node bench/scale.mjs`. Env: BENCH_HOSTS (500), BENCH_SSHDS (5), BENCH_ENDPOINTS (10).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 500);
const SSHDS = Number(process.env.BENCH_SSHDS ?? 5);
const ENDPOINTS = Math.max(SSHDS, Number(process.env.BENCH_ENDPOINTS ?? 10));
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const BED = '/tmp/jobgraph-testbed/info.json';

/** The controller: prints one JSON line. */
async function runCase([endpointList, hosts, knownHosts]) {
  const { SshNode, closeAll, loadPrivateKeys } = await import('../packages/ssh/src/index.ts');
  const { handshakeTuning } = await import('../packages/ssh/src/ssh-node/handshake-retry.ts');
  const bed = JSON.parse(readFileSync(BED, 'utf8'));
  const keys = await loadPrivateKeys([bed.keys.ed25519]);
  const endpoints = endpointList.split(',').map(Number);
  let retries = 0;
  handshakeTuning.onRetry = () => {
    retries++;
  };
  const silent = { line: () => undefined, event: () => undefined };
  const n = Number(hosts);
  const nodes = Array.from(
    { length: n },
    (_, i) =>
      new SshNode({
        hostname: '127.0.0.1',
        port: endpoints[i % endpoints.length],
        username: 'root',
        keys,
        knownHosts,
        hostKeyPolicy: 'strict',
        agent: false,
        formatter: silent,
        shareConnection: false,
      }),
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.allSettled(nodes.map((node) => node.run('true')));
  const t1 = performance.now();
  await closeAll();
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const failures = results.filter((r) => r.status === 'rejected' || r.value.exitCode !== 0);
  const firstFailure = failures[0]?.reason?.message;
  process.stdout.write(
    `${JSON.stringify({ runMs: t1 - t0, closeMs: t2 - t1, failures: failures.length, firstFailure, retries, cpuMs: (cpu.user + cpu.system) / 1000, processCpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
}

/** utime+stime+cutime+cstime of a process, in ms. */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11..14] are utime, stime, cutime, cstime (fields 14..17 of proc(5), counted from 1)
  const ticks = fields.slice(11, 15).reduce((sum, value) => sum + Number(value), 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

const childrenOf = (pid) =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean),
  );

const listening = (port) =>
  new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });

/** Busy and total CPU time of the machine so far, in ms (from /proc/stat's first line). */
function machineCpu() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: busy * 10, totalMs: (busy + idle + iowait) * 10 };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, limit, what) {
  const deadline = Date.now() + limit;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limit} ms`);
    await sleep(50);
  }
}

/** Ports free now on 127.0.0.1. */
async function freePorts(count) {
  const { createServer } = await import('node:net');
  const servers = [];
  const ports = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push(server.address().port);
  }
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

async function main() {
  let bed;
  try {
    bed = JSON.parse(readFileSync(BED, 'utf8'));
  } catch {
    throw new Error('the test bed is not up: node --import tsx test/testbed/cli.ts start');
  }
  const dir = mkdtempSync(join(tmpdir(), 'jobgraph-scale-'));
  const sshds = [];
  try {
    const ports = await freePorts(ENDPOINTS);
    const base = readFileSync(bed.loopback.sshdConfig, 'utf8')
      .split('\n')
      .filter((line) => !/^(Port|PidFile|MaxStartups|LogLevel)\b/.test(line));
    writeFileSync(
      join(dir, 'known_hosts'),
      ports.map((port) => `[127.0.0.1]:${port} ${bed.loopback.hostKey}\n`).join(''),
    );
    for (let s = 0; s < SSHDS; s++) {
      const mine = ports.filter((_, i) => i % SSHDS === s);
      const config = [
        ...base,
        ...mine.map((port) => `Port ${port}`),
        `PidFile ${join(dir, `sshd${s}.pid`)}`,
        'MaxStartups 10:30:100',
        'LogLevel ERROR',
      ].join('\n');
      writeFileSync(join(dir, `sshd${s}.config`), config);
      const child = spawn('/usr/sbin/sshd', ['-f', join(dir, `sshd${s}.config`), '-D', '-e'], {
        stdio: 'ignore', // (its log would only show this script's port probes)
      });
      sshds.push({ child, exited: new Promise((resolve) => child.once('exit', resolve)) });
    }
    for (const port of ports) await until(() => listening(port), 10_000, `sshd on port ${port}`);
    const before = sshds.map(({ child }) => cpuOf(child.pid));
    const machine0 = machineCpu();
    const start = performance.now();
    const result = await new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@jobgraph/source',
          self,
          'case',
          ports.join(','),
          String(HOSTS),
          join(dir, 'known_hosts'),
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(JSON.parse(stdout.trim()))
          : reject(new Error(`the controller exited with ${code}`)),
      );
    });
    const processMs = performance.now() - start;
    const machine1 = machineCpu();
    // every per-connection sshd gone and reaped: its CPU is then in its listener's cutime/cstime
    await until(
      () => sshds.every(({ child }) => childrenOf(child.pid).length === 0),
      30_000,
      'sshd children',
    );
    const sshdCpuMs = sshds.reduce((sum, { child }, i) => sum + cpuOf(child.pid) - before[i], 0);
    const cpus = availableParallelism();
    const floorMs = sshdCpuMs / cpus;
    const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `node ${process.version}, ${cpus} CPUs: \`true\` on ${HOSTS} hosts (own connections) over ${ENDPOINTS} endpoints of ${SSHDS} sshds (MaxStartups 10:30:100), maxHandshakes 8`,
    );
    console.log(
      `failures                       ${result.failures}${result.firstFailure ? ` (${result.firstFailure})` : ''}`,
    );
    console.log(`handshakes retried             ${result.retries}`);
    console.log(
      `wall: connect + run, all hosts ${fmt(result.runMs)}  (close: ${fmt(result.closeMs)}; whole process ${fmt(processMs)})`,
    );
    console.log(`controller peak RSS            ${(result.maxRssKb / 1024).toFixed(0)} MB`);
    console.log(
      `controller CPU                 ${fmt(result.cpuMs)}  (${(result.cpuMs / HOSTS).toFixed(2)} ms per host)`,
    );
    console.log(
      `sshd CPU (all processes)       ${fmt(sshdCpuMs)}  (${(sshdCpuMs / HOSTS).toFixed(2)} ms per host)`,
    );
    console.log(`per host (wall / hosts)        ${(result.runMs / HOSTS).toFixed(2)} ms`);
    console.log(`sshd floor (sshd CPU / ${cpus} CPUs) ${fmt(floorMs)}`);
    // what else ran on the machine meanwhile (other processes share the CPUs the floor counts on)
    const othersMs = machine1.busyMs - machine0.busyMs - sshdCpuMs - result.processCpuMs;
    const idleShare = 1 - (machine1.busyMs - machine0.busyMs) / (machine1.totalMs - machine0.totalMs);
    console.log(
      `other processes' CPU meanwhile ${fmt(Math.max(0, othersMs))}  (CPUs idle ${(idleShare * 100).toFixed(0)}% of the controller's whole process time)`,
    );
    // the same floor with only the CPU that the other processes left (a shared machine)
    const leftCpus = Math.max(0.1, cpus - Math.max(0, othersMs) / processMs);
    console.log(
      `sshd floor on the CPU left     ${fmt(sshdCpuMs / leftCpus)}  (${leftCpus.toFixed(2)} CPUs left by the others; wall / that floor ${(result.runMs / (sshdCpuMs / leftCpus)).toFixed(2)})`,
    );
    const ratio = result.runMs / floorMs;
    console.log(
      `wall / floor                   ${ratio.toFixed(2)}  (target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'}); RSS target < 500 MB: ${result.maxRssKb / 1024 < 500 ? 'met' : 'MISSED'}; zero failures: ${result.failures === 0 ? 'met' : 'MISSED'}`,
    );
    if (result.failures > 0) process.exitCode = 1;
  } finally {
    // only the sshds this script started, by pid
    for (const { child } of sshds) child.kill('SIGTERM');
    await Promise.all(sshds.map(({ exited }) => exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'case') await runCase(process.argv.slice(3));
else await main();
