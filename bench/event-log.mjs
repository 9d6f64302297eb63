// The cost of the JSON Lines event log (issue 13): 10,000-job runs of the scheduler benchmark's
// cases, each in a fresh process, without and with jsonLinesSink writing every event into a file;
// medians of BENCH_REPEAT (default 5) runs, and the ratio (target: ≤ 1.5). Uses the built dist/:
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
  const child = spawnSync(process.execPath, [caseScript, ...args.map(String)], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_SINK: sink ? 'jsonl' : '' },
  });
  if (child.status !== 0) throw new Error(`case ${args.join(' ')} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

console.log(`node ${process.version}, ${REPEAT} runs a case, medians of run() (the log's flush included)`);
console.log(
  'case                 without log   with --log (jsonLinesSink)   ratio   peak RSS without / with',
);
let worst = 0;
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
  const rss = (runs) => Math.max(...runs.map((r) => r.maxRssKb)) / 1024;
  worst = Math.max(worst, b / a);
  console.log(
    `${`${args[0]} ${args[1]}`.padEnd(20)} ${`${a.toFixed(1)} ms`.padStart(11)}   ${`${b.toFixed(1)} ms`.padStart(26)}   ${(b / a).toFixed(2).padStart(5)}   ${rss(plain).toFixed(0)} / ${rss(logged).toFixed(0)} MB`,
  );
}
console.log(`worst ratio ${worst.toFixed(2)} (target ≤ 1.5: ${worst <= 1.5 ? 'met' : 'MISSED'})`);
