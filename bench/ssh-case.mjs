// One SSH benchmark case, in its own process so that wall time and peak RSS are the whole process's.
// Needs the test bed up (`node --import tsx test/testbed/cli.ts start`; bench/ssh.mjs does it).
// Usage: node bench/ssh-case.mjs import                (Node's start-up and the imports only)
//        node bench/ssh-case.mjs sequential node|job [commands=200]
//        node bench/ssh-case.mjs fanout shared|paths [nodes=50]
//        node bench/ssh-case.mjs transfer <dir>      (pushes <dir>/source.bin to <dir>/remote.bin,
//                                                      pulls it back to <dir>/back.bin)
// Env: BENCH_BED_INFO = the bed's TestbedInfo JSON file (default /tmp/jobgraph-testbed/info.json),
//      BENCH_KEY = rsa (default, an RSA-3072 key as in apssh's figures) | ed25519.
// Prints one JSON line: {"case", "variant", "ms", "connectMs", ..., "ok", "maxRssKb"} (peak RSS so far).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Scheduler } from '../packages/core/dist/index.js';
import { loadPrivateKeys, Pull, Push, Run, SshJob, SshNode } from '../packages/ssh/dist/index.js';

const [kind, variant, arg] = process.argv.slice(2);
const bed = JSON.parse(readFileSync(process.env.BENCH_BED_INFO ?? '/tmp/jobgraph-testbed/info.json', 'utf8'));
const keyPath = bed.keys[process.env.BENCH_KEY ?? 'rsa'];
if (keyPath === undefined) throw new Error(`no key ${process.env.BENCH_KEY} in the bed`);

/** A node on the bed's loopback sshd, as a user would write it (strict host-key checking). */
const loopbackNode = (keys, shareConnection = true) =>
  new SshNode({
    shareConnection,
    hostname: bed.loopback.hostname,
    port: bed.loopback.port,
    username: 'root',
    keys,
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
  });

const t0 = performance.now();
const result = { case: kind, variant };

if (kind === 'import') {
  // only Node's start-up and the imports: the floor of every whole-process figure
  result.ok = true;
} else if (kind === 'sequential') {
  const count = Number(arg ?? 200);
  const keys = await loadPrivateKeys([keyPath]);
  const node = loopbackNode(keys);
  if (variant === 'node') {
    await node.connect();
    const t1 = performance.now();
    let failures = 0;
    for (let i = 0; i < count; i++) {
      const { exitCode } = await node.run('true');
      if (exitCode !== 0) failures++;
    }
    const t2 = performance.now();
    await node.close();
    Object.assign(result, {
      commands: count,
      connectMs: t1 - t0,
      runMs: t2 - t1,
      perCommandMs: (t2 - t1) / count,
      closeMs: performance.now() - t2,
      ok: failures === 0,
    });
  } else if (variant === 'job') {
    const scheduler = new Scheduler({ critical: false });
    const commands = Array.from({ length: count }, () => new Run('true'));
    const job = new SshJob({ node, commands, scheduler });
    const t1 = performance.now();
    const ok = await scheduler.run();
    // the run includes the connect; the close is started by the job's shutdown
    Object.assign(result, { commands: count, runMs: performance.now() - t1, ok: ok && job.result() === 0 });
  } else {
    throw new Error(`unknown variant ${variant}: node | job`);
  }
} else if (kind === 'fanout') {
  const count = Number(arg ?? 50);
  // shared: the keys are read and parsed once and given to every node (apssh's fast form);
  // paths: every node is given the key file's path and loads it itself
  const keys = variant === 'shared' ? await loadPrivateKeys([keyPath]) : [keyPath];
  if (variant !== 'shared' && variant !== 'paths')
    throw new Error(`unknown variant ${variant}: shared | paths`);
  const scheduler = new Scheduler({ critical: false });
  const jobs = Array.from(
    { length: count },
    // 50 connections, as apssh opens: nodes of one destination would otherwise share one
    () => new SshJob({ node: loopbackNode(keys, false), command: 'true', scheduler }),
  );
  const t1 = performance.now();
  const ok = await scheduler.run();
  Object.assign(result, {
    nodes: count,
    buildMs: t1 - t0,
    runMs: performance.now() - t1,
    ok: ok && jobs.every((job) => job.result() === 0),
  });
} else if (kind === 'transfer') {
  const dir = variant;
  const keys = await loadPrivateKeys([keyPath]);
  const node = loopbackNode(keys);
  const scheduler = new Scheduler({ critical: false });
  const times = {};
  const mark = (name) => () => {
    times[name] = performance.now();
  };
  // one job, as a user would write it: Push, then Pull, on one connection
  const job = new SshJob({
    node,
    commands: [
      new Push(join(dir, 'source.bin'), join(dir, 'remote.bin')),
      new Pull(join(dir, 'remote.bin'), join(dir, 'back.bin')),
    ],
    scheduler,
  });
  scheduler.on('cmd:start', (event) => mark(`start${event.index}`)());
  scheduler.on('cmd:done', (event) => mark(`done${event.index}`)());
  const t1 = performance.now();
  const ok = await scheduler.run();
  const t2 = performance.now();
  Object.assign(result, {
    runMs: t2 - t1,
    // the connection opens within the Push (lazily, as for any first command)
    pushMs: times.done1 - t1,
    pullMs: times.done2 - times.start2,
    ok: ok && job.result() === 0,
  });
} else {
  throw new Error(`unknown case ${kind}: import | sequential | fanout | transfer`);
}

result.ms = performance.now() - t0;
result.maxRssKb = process.resourceUsage().maxRSS;
process.stdout.write(`${JSON.stringify(result)}\n`);
