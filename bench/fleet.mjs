// The Fleet benchmark (issue 11): `fleet.run('true')` over 50 connections to the loopback sshd,
// against the same work as 50 SshJobs in a Scheduler (the existing 50-node fan-out), in the same
// run. Both use 50 SshNodes with `shareConnection: false` (50 connections, one per node: without it
// the 50 nodes, which name one destination, would share one connection), the same parsed key, and
// no formatter output. Each case runs REPEAT times, alternating, each in a fresh Node process
// (`node bench/fleet.mjs case …`); the medians of the in-process time (build + run + close) and of
// the whole process are printed with their ratio. Starts the test bed if it is not up (and then
// stops it at the end); a bed already up is left as it was.
// Run it with `npx -y pnpm@10 build && node bench/fleet.mjs`.
// Env: BENCH_REPEAT (default 5), BENCH_HOSTS (default 50), BENCH_KEY = ed25519 (default) | rsa.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 50);
const KEY = process.env.BENCH_KEY ?? 'ed25519';
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const silent = { line: () => undefined, event: () => undefined };

/** One case, in this process: prints one JSON line. */
async function runCase([kind, count, bedInfo]) {
  const t0 = performance.now();
  const { Scheduler } = await import('../packages/core/dist/index.js');
  const { Fleet, loadPrivateKeys, SshJob, SshNode } = await import('../packages/ssh/dist/index.js');
  const bed = JSON.parse(readFileSync(bedInfo, 'utf8'));
  const keys = await loadPrivateKeys([bed.keys[KEY]]);
  const settings = {
    hostname: bed.loopback.hostname,
    port: bed.loopback.port,
    username: 'root',
    keys,
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
    formatter: silent,
    shareConnection: false,
  };
  const n = Number(count);
  const t1 = performance.now();
  let ok;
  if (kind === 'fleet') {
    const fleet = new Fleet(Array.from({ length: n }, (_, i) => ({ ...settings, name: `lo${i}` })));
    const results = await fleet.run('true');
    ok = results.length === n && results.every((result) => result.ok);
    await fleet.close();
  } else if (kind === 'scheduler') {
    const scheduler = new Scheduler({ critical: false });
    const jobs = Array.from(
      { length: n },
      () => new SshJob({ node: new SshNode(settings), command: 'true', scheduler }),
    );
    ok = (await scheduler.run()) && jobs.every((job) => job.result() === 0);
  } else {
    throw new Error(`unknown case ${kind}: fleet | scheduler`);
  }
  const t2 = performance.now();
  process.stdout.write(
    `${JSON.stringify({ kind, importMs: t1 - t0, runMs: t2 - t1, ok, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
}

/** Runs a command to its end; resolves with its stdout and its wall time. */
function run(command, args) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout, wallMs: performance.now() - start })
        : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`)),
    );
  });
}

const testbed = async (command) =>
  (await run(process.execPath, ['--import', 'tsx', join(root, 'test', 'testbed', 'cli.ts'), command])).stdout;

if (process.argv[2] === 'case') {
  await runCase(process.argv.slice(3));
} else {
  // a bed already up (tests, another bench) is joined and left up
  const wasUp = await testbed('info').then(
    () => true,
    () => false,
  );
  try {
    await testbed('start');
    const bedInfo = '/tmp/jobgraph-testbed/info.json';
    const cases = ['scheduler', 'fleet'];
    const figures = Object.fromEntries(cases.map((kind) => [kind, { run: [], wall: [], rss: 0 }]));
    for (let round = 0; round < REPEAT; round++) {
      for (const kind of cases) {
        const { stdout, wallMs } = await run(process.execPath, [self, 'case', kind, String(HOSTS), bedInfo]);
        const result = JSON.parse(stdout.trim());
        if (!result.ok) throw new Error(`${kind}: a host failed`);
        figures[kind].run.push(result.runMs);
        figures[kind].wall.push(wallMs);
        figures[kind].rss = Math.max(figures[kind].rss, result.maxRssKb);
      }
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `node ${process.version}, ${HOSTS} connections to the loopback sshd (${KEY} key), ${REPEAT} runs per case (medians)`,
    );
    console.log('case                                  run ms   wall ms   RSS MB');
    const names = {
      scheduler: `${HOSTS} SshJobs in a Scheduler`,
      fleet: `fleet.run('true') over ${HOSTS} hosts`,
    };
    for (const kind of cases) {
      const { run: runs, wall, rss } = figures[kind];
      console.log(
        `${names[kind].padEnd(36)} ${median(runs).toFixed(0).padStart(7)} ${median(wall).toFixed(0).padStart(9)} ${(rss / 1024).toFixed(0).padStart(8)}`,
      );
    }
    const ratio = median(figures.fleet.run) / median(figures.scheduler.run);
    console.log(
      `  fleet / scheduler: ${ratio.toFixed(2)} (target: no slower, ≤ 1.00 within noise: ${ratio <= 1.05 ? 'met' : 'MISSED'})`,
    );
  } finally {
    if (!wasUp) await testbed('stop').catch((error) => console.error(error.message));
  }
}
