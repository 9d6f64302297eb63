// The scheduler benchmark: each case runs REPEAT times in a fresh Node process; we report the
// median of the in-process build and run() times, of the whole-process wall time, and the
// largest peak RSS. Run it with `npx -y pnpm@10 bench` (builds the packages first).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const caseScript = fileURLToPath(new URL('./scheduler-case.mjs', import.meta.url));

const CASES = [
  ['independent', 10_000],
  ['independent', 100_000],
  ['chain', 10_000],
  ['chain', 100_000],
  ['rchain', 10_000],
  ['window', 10_000],
  ['layered', 100, 100],
  // for the scaling table
  ['independent', 1_000],
  ['chain', 1_000],
  ['layered', 32, 32],
  ['layered', 316, 32],
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function runOnce(args) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [caseScript, ...args.map(String)], { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`case ${args.join(' ')} failed: ${child.stderr}`);
  const result = JSON.parse(child.stdout.trim().split('\n').pop());
  return { ...result, wallMs, rssMb: result.maxRssKb / 1024 };
}

const rows = [];
for (const args of CASES) {
  const runs = Array.from({ length: REPEAT }, () => runOnce(args));
  const first = runs[0];
  rows.push({
    case: `${args[0]} ${args.slice(1).join('×')}`,
    jobs: first.jobs,
    edges: first.edges,
    build: median(runs.map((r) => r.buildMs)),
    run: median(runs.map((r) => r.runMs)),
    wall: median(runs.map((r) => r.wallMs)),
    rss: Math.max(...runs.map((r) => r.rssMb)),
    ok: runs.every((r) => r.ok),
  });
}

const pad = (text, n) => String(text).padStart(n);
console.log(`node ${process.version}, ${REPEAT} runs per case (medians; RSS = max peak)`);
console.log(
  `${'case'.padEnd(22)}${pad('jobs', 9)}${pad('edges', 9)}${pad('build ms', 10)}${pad('run ms', 9)}${pad('wall ms', 9)}${pad('RSS MB', 8)}`,
);
for (const r of rows) {
  console.log(
    `${r.case.padEnd(22)}${pad(r.jobs, 9)}${pad(r.edges, 9)}${pad(r.build.toFixed(1), 10)}${pad(r.run.toFixed(1), 9)}${pad(r.wall.toFixed(0), 9)}${pad(r.rss.toFixed(0), 8)}${r.ok ? '' : '  FAILED'}`,
  );
}
