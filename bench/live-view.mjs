// The cost of the live view (issue 13): a 200-job run (jobs of 0.5-3 s, each printing a line every
// 50 ms: 2,000-4,000 output lines a second in all, a window of 50 jobs at once), with and without
// the live view drawing on a terminal-like sink (120 × 40, every byte written counted); the extra
// CPU of the process while the view runs, as a share of one CPU over the run's wall time
// (target: under 5 %). From the TypeScript sources:
//
//   node --import tsx bench/live-view.mjs          # BENCH_REPEAT=3
import { Writable } from 'node:stream';
import { attachLiveView } from '../packages/cli/src/cli/live-view.ts';
import { Job, Scheduler } from '../packages/core/src/index.ts';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const JOBS = 200;

/** A terminal that takes everything and counts it. */
function terminal() {
  let bytes = 0;
  const stream = new Writable({
    write(chunk, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40, getWindowSize: () => [120, 40] });
  return { stream, bytes: () => bytes };
}

/** The scheduler: job i lasts 0.5-3 s (fixed per i), printing a line every 50 ms. */
function scheduler() {
  const jobs = Array.from({ length: JOBS }, (_, i) => {
    const lasts = 500 + ((i * 7919) % 2500);
    return new Job(
      (ctx) =>
        new Promise((resolve) => {
          const started = Date.now();
          let n = 0;
          const timer = setInterval(() => {
            n += 1;
            ctx.emit({
              type: 'cmd:line',
              node: `root@fit${String(i % 40).padStart(2, '0')}`,
              stream: 'stdout',
              line: `sample ${n} of job ${i}\n`,
            });
            if (Date.now() - started >= lasts) {
              clearInterval(timer);
              resolve(n);
            }
          }, 50);
        }),
      { label: `measure ${i}` },
    );
  });
  return new Scheduler({ jobs, jobsWindow: 50, critical: false });
}

async function once(live) {
  const s = scheduler();
  const term = terminal();
  const stop = live ? attachLiveView(s, { stream: term.stream }) : undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await s.run();
  stop?.();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000, bytes: term.bytes() };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  `node ${process.version}: ${JOBS} jobs (window 50), a line every 50 ms each; ${REPEAT} runs each way, interleaved`,
);
const plain = [];
const live = [];
for (let i = 0; i < REPEAT; i++) {
  plain.push(await once(false));
  live.push(await once(true));
}
const p = { wall: median(plain.map((r) => r.wall)), cpu: median(plain.map((r) => r.cpu)) };
const l = {
  wall: median(live.map((r) => r.wall)),
  cpu: median(live.map((r) => r.cpu)),
  bytes: median(live.map((r) => r.bytes)),
};
const share = ((l.cpu - p.cpu) / l.wall) * 100;
console.log(`without the view: wall ${(p.wall / 1000).toFixed(2)} s, CPU ${p.cpu.toFixed(0)} ms`);
console.log(
  `with the view:    wall ${(l.wall / 1000).toFixed(2)} s, CPU ${l.cpu.toFixed(0)} ms, ${(l.bytes / 1024).toFixed(0)} KiB drawn (${(l.bytes / 1024 / (l.wall / 1000)).toFixed(0)} KiB/s)`,
);
console.log(
  `the view's CPU: ${(l.cpu - p.cpu).toFixed(0)} ms = ${share.toFixed(2)} % of one CPU over the run (target < 5 %: ${share < 5 ? 'met' : 'MISSED'})`,
);
