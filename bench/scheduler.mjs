// The scheduler benchmark: each case runs REPEAT times in a fresh Node process; we report the
// median of the in-process build and run() times, of the whole-process wall time, and the
// largest peak RSS. Run it with `npx -y pnpm@10 bench` (builds the packages first).
//
// Then the start-up of a script of 10,000 independent no-op jobs, whole process: from the built
// JavaScript on plain node, from the TypeScript sources through tsx (as a new user runs a script:
// the tsx CLI, which starts a second node; the same without tsx's transform cache, as a first run;
// node --import tsx, one process), the built JavaScript through the tsx CLI (a TypeScript script
// of a user's, importing the installed package), and, when ASYNCIOJOBS_SRC names an asynciojobs
// source tree (not installed: put on PYTHONPATH), asynciojobs' same script
// (bench/asynciojobs-case.py) in the same rounds; with the targets of issue 10: built JS ≤ 0.4 ×
// asynciojobs' whole process, import('@jobgraph/core') < 60 ms.
//
//   node bench/scheduler.mjs                    # both parts
//   node bench/scheduler.mjs startup            # the start-up part only
//   ASYNCIOJOBS_SRC=/tmp/asynciojobs-src node bench/scheduler.mjs startup
//   BENCH_PYTHON=/usr/bin/python3 …             # default: the interpreter `python3` runs (resolved
//                                               # once, so that a pyenv shim's ~0.1 s is not counted)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const caseScript = fileURLToPath(new URL('./scheduler-case.mjs', import.meta.url));
const startupOnly = process.argv[2] === 'startup';

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
for (const args of startupOnly ? [] : CASES) {
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
if (!startupOnly) {
  console.log(
    `${'case'.padEnd(22)}${pad('jobs', 9)}${pad('edges', 9)}${pad('build ms', 10)}${pad('run ms', 9)}${pad('wall ms', 9)}${pad('RSS MB', 8)}`,
  );
}
for (const r of rows) {
  console.log(
    `${r.case.padEnd(22)}${pad(r.jobs, 9)}${pad(r.edges, 9)}${pad(r.build.toFixed(1), 10)}${pad(r.run.toFixed(1), 9)}${pad(r.wall.toFixed(0), 9)}${pad(r.rss.toFixed(0), 8)}${r.ok ? '' : '  FAILED'}`,
  );
}

// ---- Start-up: 10,000 independent no-op jobs, whole process ----

const STARTUP_JOBS = 10_000;
const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));
const tsxLoader = import.meta.resolve('tsx');
const pythonCase = fileURLToPath(new URL('./asynciojobs-case.py', import.meta.url));
const asynciojobsSrc = process.env.ASYNCIOJOBS_SRC;

/** The interpreter `python3` stands for (a pyenv shim is a bash script that costs ~0.1 s a run). */
function pythonExecutable() {
  if (process.env.BENCH_PYTHON !== undefined) return process.env.BENCH_PYTHON;
  const child = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`python3 not found: ${child.stderr}`);
  return child.stdout.trim();
}

const startupCases = [
  { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
  {
    name: 'jobgraph, built JS (node)',
    command: process.execPath,
    args: [caseScript, 'independent', STARTUP_JOBS],
    ours: true,
  },
  {
    name: 'jobgraph, sources, tsx CLI',
    command: process.execPath,
    args: [tsxCli, caseScript, 'independent', STARTUP_JOBS],
    env: { BENCH_CORE: 'source' },
  },
  {
    name: '  same, tsx cache disabled',
    command: process.execPath,
    args: [tsxCli, caseScript, 'independent', STARTUP_JOBS],
    env: { BENCH_CORE: 'source', TSX_DISABLE_CACHE: '1' },
  },
  {
    name: 'jobgraph, built JS, tsx CLI',
    command: process.execPath,
    args: [tsxCli, caseScript, 'independent', STARTUP_JOBS],
  },
  {
    name: 'jobgraph, sources, node --import tsx',
    command: process.execPath,
    args: ['--import', tsxLoader, caseScript, 'independent', STARTUP_JOBS],
    env: { BENCH_CORE: 'source' },
  },
];
let asynciojobsVersion;
if (asynciojobsSrc !== undefined) {
  if (!existsSync(join(asynciojobsSrc, 'asynciojobs', '__init__.py'))) {
    throw new Error(`ASYNCIOJOBS_SRC=${asynciojobsSrc}: no asynciojobs/__init__.py there`);
  }
  const python = pythonExecutable();
  const pyproject = join(asynciojobsSrc, 'pyproject.toml');
  asynciojobsVersion = existsSync(pyproject)
    ? /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(pyproject, 'utf8'))?.[1]
    : undefined;
  const pythonVersion = spawnSync(python, ['-c', 'import platform; print(platform.python_version())'], {
    encoding: 'utf8',
  }).stdout.trim();
  startupCases.push(
    { name: `python ${pythonVersion} -c pass`, command: python, args: ['-c', 'pass'] },
    {
      name: `asynciojobs ${asynciojobsVersion ?? '?'} (python)`,
      command: python,
      args: [pythonCase, 'independent', STARTUP_JOBS],
      env: { PYTHONPATH: asynciojobsSrc },
      asynciojobs: true,
    },
  );
}

function startupOnce(item) {
  const started = process.hrtime.bigint();
  const child = spawnSync(item.command, item.args.map(String), {
    encoding: 'utf8',
    env: { ...process.env, ...item.env },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${item.name} failed: ${child.stderr}`);
  const last = child.stdout.trim().split('\n').pop();
  const result = last?.startsWith('{') ? JSON.parse(last) : {};
  return { ...result, wallMs, rssMb: result.maxRssKb === undefined ? undefined : result.maxRssKb / 1024 };
}

// round-robin: each round runs every case once, so that the load of a shared machine spreads
const startupRuns = new Map(startupCases.map((item) => [item, []]));
for (let round = 0; round < REPEAT; round++) {
  for (const item of startupCases) startupRuns.get(item).push(startupOnce(item));
}

const medianOf = (item, field) => {
  const values = startupRuns.get(item).map((run) => run[field]);
  return values.some((value) => value === undefined) ? undefined : median(values);
};
const show = (value, digits = 1) => (value === undefined ? '-' : value.toFixed(digits));

console.log('');
console.log(
  `Start-up: ${STARTUP_JOBS.toLocaleString('en')} independent no-op jobs, whole process, ${REPEAT} rounds (medians; RSS = max peak)`,
);
console.log(
  `${'case'.padEnd(38)}${pad('start ms', 9)}${pad('import ms', 10)}${pad('build ms', 9)}${pad('run ms', 8)}${pad('wall ms', 9)}${pad('RSS MB', 8)}`,
);
for (const item of startupCases) {
  const rss = startupRuns.get(item).map((run) => run.rssMb);
  const ok = startupRuns.get(item).every((run) => run.ok !== false);
  console.log(
    `${item.name.padEnd(38)}${pad(show(medianOf(item, 'startMs')), 9)}${pad(show(medianOf(item, 'importMs')), 10)}` +
      `${pad(show(medianOf(item, 'buildMs')), 9)}${pad(show(medianOf(item, 'runMs')), 8)}${pad(show(medianOf(item, 'wallMs'), 0), 9)}` +
      `${pad(rss.some((value) => value === undefined) ? '-' : Math.max(...rss).toFixed(0), 8)}${ok ? '' : '  FAILED'}`,
  );
}
console.log(
  "start = process start to the script's first line; import = import('@jobgraph/core') (python: import asynciojobs)",
);

const ours = startupCases.find((item) => item.ours);
const importMs = medianOf(ours, 'importMs');
console.log(
  `import('@jobgraph/core'), built JS: ${importMs.toFixed(1)} ms in-process (target < 60 ms: ${importMs < 60 ? 'met' : 'MISSED'})`,
);
const theirs = startupCases.find((item) => item.asynciojobs);
if (theirs === undefined) {
  console.log('asynciojobs: not run (ASYNCIOJOBS_SRC=<an asynciojobs source tree> to compare)');
} else {
  const ratio = medianOf(ours, 'wallMs') / medianOf(theirs, 'wallMs');
  const runRatio = medianOf(ours, 'runMs') / medianOf(theirs, 'runMs');
  console.log(
    `jobgraph built JS / asynciojobs, whole process: ${medianOf(ours, 'wallMs').toFixed(0)} / ${medianOf(theirs, 'wallMs').toFixed(0)} ms = ` +
      `${ratio.toFixed(2)}× (target ≤ 0.40×: ${ratio <= 0.4 ? 'met' : 'MISSED'}); run() alone: ${runRatio.toFixed(2)}×`,
  );
}
