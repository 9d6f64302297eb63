// One benchmark case, in its own process so that wall time and peak RSS are the whole process's.
// Usage: node bench/scheduler-case.mjs <independent|chain|rchain|layered|window> <size> [width]
// Prints one JSON line: {"case", "jobs", "edges", "startMs", "importMs", "buildMs", "runMs", "ok",
// "maxRssKb"}: startMs = from the process's start to this file's first line (Node's start-up, and
// tsx's when run through it), importMs = `import('@jobgraph/core')`, maxRssKb = peak RSS so far.
// It imports the built dist/ of @jobgraph/core; with BENCH_CORE=source, the TypeScript sources
// (run it through tsx then: `npx tsx bench/scheduler-case.mjs independent 10000`).
// With BENCH_SINK=jsonl, the run is logged by jsonLinesSink into a temporary file (its flush is
// counted in runMs): bench/event-log.mjs compares the two.
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const startMs = performance.now();
const core =
  process.env.BENCH_CORE === 'source' ? '../packages/core/src/index.ts' : '../packages/core/dist/index.js';
const { Job, Scheduler, jsonLinesSink } = await import(core);
const importMs = performance.now() - startMs;

const [kind, sizeText, widthText] = process.argv.slice(2);
const size = Number(sizeText);
const noop = async () => undefined;

const t0 = performance.now();
const scheduler = new Scheduler({ critical: false, ...(kind === 'window' ? { jobsWindow: 100 } : {}) });
let edges = 0;
if (kind === 'independent' || kind === 'window') {
  for (let i = 0; i < size; i++) scheduler.add(new Job(noop));
} else if (kind === 'chain') {
  let previous;
  for (let i = 0; i < size; i++) {
    previous = scheduler.add(new Job(noop, previous === undefined ? {} : { required: previous }));
  }
  edges = size - 1;
} else if (kind === 'rchain') {
  // created in reverse order: the worst case of asynciojobs' multi-pass scan
  const jobs = Array.from({ length: size }, () => new Job(noop));
  for (let i = 1; i < size; i++) jobs[i - 1].requires(jobs[i]);
  for (const job of jobs) scheduler.add(job);
  edges = size - 1;
} else if (kind === 'layered') {
  const width = Number(widthText ?? size);
  let previous = [];
  for (let layer = 0; layer < size; layer++) {
    const current = [];
    for (let i = 0; i < width; i++) {
      const job = new Job(noop);
      if (previous.length > 0) job.requires(previous);
      current.push(scheduler.add(job));
    }
    edges += previous.length * width;
    previous = current;
  }
} else {
  throw new Error(`unknown case ${kind}`);
}
const t1 = performance.now();
let finishLog = async () => undefined;
if (process.env.BENCH_SINK === 'jsonl') {
  const file = join(tmpdir(), `jobgraph-bench-${process.pid}.jsonl`);
  const out = createWriteStream(file);
  const stop = scheduler.onAny(jsonLinesSink(out));
  finishLog = async () => {
    stop();
    await new Promise((resolve) => out.end(resolve));
    rmSync(file);
  };
}
const ok = await scheduler.run();
await finishLog();
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    case: kind,
    jobs: scheduler.size,
    edges,
    startMs,
    importMs,
    buildMs: t1 - t0,
    runMs: t2 - t1,
    ok,
    maxRssKb: process.resourceUsage().maxRSS,
  })}\n`,
);
