// The 15-line example of the root README, typechecked and runnable as it is.
import { Job, type JobContext, Scheduler, Sequence, sleep } from '@jobgraph/core';

const work =
  (ms: number) =>
  ({ signal }: JobContext) =>
    sleep(ms, signal);
const watch = async ({ signal }: JobContext) => {
  while (!signal.aborted) await sleep(50, signal).catch(() => {});
};

const lease = new Job(() => 'lease ok', { label: 'check lease' });
const prepare = new Scheduler({ label: 'prepare nodes', jobsWindow: 2 });
for (const node of ['fit01', 'fit02', 'fit03']) prepare.add(new Job(work(100), { label: node, retries: 1 }));
const capture = new Job(watch, { label: 'capture', forever: true, required: lease });
const measure = new Job(work(200), { label: 'measure', timeout: 5_000 });

const jobs = [new Sequence([lease, prepare, measure]), capture];
const scheduler = new Scheduler({ critical: false, timeout: 60_000, jobs });
console.log(await scheduler.run(), scheduler.why()); // true FINE
console.log(scheduler.debrief()); // the listing, with the badge of each job
