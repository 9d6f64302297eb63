/**
 * A testbed-style experiment that runs anywhere: no remote host needed.
 *
 *   check lease ─▶ prepare nodes (nested scheduler, 3 at a time) ─▶ measure ─▶ collect ─▶ report
 *                                                   capture (forever, stopped at the end) ─┘
 *
 * Run it with `npx -y pnpm@10 demo`. It prints the progress, the debrief, and writes
 * the job graph to examples/out/local-experiment.svg.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Job, PrintJob, Scheduler, Sequence, sleep } from '@jobgraph/core';

const NODES = ['fit01', 'fit02', 'fit03', 'fit04', 'fit05'];
const samples: number[] = [];

const checkLease = new Job(
  async ({ signal }) => {
    await sleep(50, signal);
    return 'lease ok until 18:00';
  },
  { label: 'check lease' },
);

// Preparing the nodes is a scheduler of its own, nested in the main one, with its own window.
const prepare = new Scheduler({ label: 'prepare nodes', jobsWindow: 3 });
for (const [rank, node] of NODES.entries()) {
  prepare.add(
    new Job(
      async ({ signal }) => {
        await sleep(40 + 20 * rank, signal);
        return `${node} ready`;
      },
      { label: `prepare ${node}`, retries: 1, timeout: 2_000 },
    ),
  );
}

// A capture that would run forever: it is stopped (through its signal) once the rest is done.
const capture = new Job(
  async ({ signal }) => {
    while (!signal.aborted) {
      samples.push(Math.round(Math.random() * 100));
      await sleep(20, signal).catch(() => undefined);
    }
  },
  { label: 'capture', forever: true, critical: false },
);

const measure = new Job(
  async ({ signal }) => {
    await sleep(200, signal);
    return `${samples.length} samples`;
  },
  { label: 'measure' },
);

const collect = new Job(() => samples.reduce((sum, value) => sum + value, 0) / Math.max(samples.length, 1), {
  label: 'collect results',
});

const main = new Scheduler({
  label: 'experiment',
  critical: false,
  timeout: 30_000,
  verbose: true,
  jobs: [
    new Sequence([checkLease, prepare, measure, collect]),
    capture.requires(checkLease),
    new PrintJob('experiment over', { label: 'report', required: collect }),
  ],
});

const ok = await main.run();
process.stdout.write(`\n${main.debrief()}`);
process.stdout.write(`mean sample: ${Number(collect.result()).toFixed(1)}\n`);
await mkdir(new URL('./out/', import.meta.url), { recursive: true });
const svg = await main.exportAsSvgfile(fileURLToPath(new URL('./out/local-experiment.svg', import.meta.url)));
process.stdout.write(`job graph written to ${svg}\n`);
process.exitCode = ok ? 0 : 1;
