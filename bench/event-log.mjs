// The cost of the JSON Lines event log (issue 13): 10,000-job runs of the scheduler benchmark's
// cases, each in a fresh process, without and with jsonLinesSink writing every event into a file;
// medians of BENCH_REPEAT (default 5) runs of run() (the log's flush included) and of the whole
// process (start-up, import, build, run), and their ratios (target: ≤ 1.5). Uses the built dist/:
//
//   npx -y pnpm@10 build && node bench/event-log.mjs
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const caseScript = fileURLToPath(new URL('./scheduler-case.mjs', import.meta.url));
const CASES = [
  ['independent', 10_000],
  ['chain', 10_000],
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function runOnce(args, sink) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [caseScript, ...args.map(String)], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_SINK: sink ? 'jsonl' : '' },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`case ${args.join(' ')} failed: ${child.stderr}`);
  return { ...JSON.parse(child.stdout.trim().split('\n').pop()), wallMs };
}

console.log(
  `node ${process.version}, ${REPEAT} runs a case: medians of run() (the log's flush included) and of the whole process`,
);
console.log(
  'case                 run(): without   with log   ratio   whole process: without   with log   ratio   peak RSS without / with',
);
let worst = 0;
let worstWall = 0;
for (const args of CASES) {
  const plain = [];
  const logged = [];
  // interleaved, so that a change in the machine's load weighs on both alike
  for (let i = 0; i < REPEAT; i++) {
    plain.push(runOnce(args, false));
    logged.push(runOnce(args, true));
  }
  const a = median(plain.map((r) => r.runMs));
  const b = median(logged.map((r) => r.runMs));
  const wa = median(plain.map((r) => r.wallMs));
  const wb = median(logged.map((r) => r.wallMs));
  const rss = (runs) => Math.max(...runs.map((r) => r.maxRssKb)) / 1024;
  worst = Math.max(worst, b / a);
  worstWall = Math.max(worstWall, wb / wa);
  console.log(
    `${`${args[0]} ${args[1]}`.padEnd(20)} ${`${a.toFixed(1)} ms`.padStart(16)} ${`${b.toFixed(1)} ms`.padStart(10)} ${(b / a).toFixed(2).padStart(7)}   ${`${wa.toFixed(0)} ms`.padStart(22)} ${`${wb.toFixed(0)} ms`.padStart(10)} ${(wb / wa).toFixed(2).padStart(7)}   ${rss(plain).toFixed(0)} / ${rss(logged).toFixed(0)} MB`,
  );
}
const verdict = (ratio) => (ratio <= 1.5 ? 'met' : 'MISSED');
console.log(
  `worst ratio: run() ${worst.toFixed(2)} (target ≤ 1.5: ${verdict(worst)}); whole process ${worstWall.toFixed(2)} (${verdict(worstWall)})`,
);
