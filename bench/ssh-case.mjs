// One SSH benchmark case, in its own process so that wall time and peak RSS are the whole process's.
// Needs the test bed up (`node --import tsx test/testbed/cli.ts start`; bench/ssh.mjs does it).
// Usage: node bench/ssh-case.mjs import                (Node's start-up and the imports only)
//        node bench/ssh-case.mjs sequential node|job [commands=200]
//        node bench/ssh-case.mjs fanout shared|paths [nodes=50]
//        node bench/ssh-case.mjs transfer <dir>      (pushes <dir>/source.bin to <dir>/remote.bin,
//                                                      pulls it back to <dir>/back.bin)
//        node bench/ssh-case.mjs concurrent <commands> <seconds> [maxConnections]
//                                                     (that many `sleep <seconds>` at once on one node)
//        node bench/ssh-case.mjs gateway <targets=3> <commands=20>
//                                                     (targets behind the bed's gateway: t1, t2, then t1
//                                                      again on connections of its own…; each runs that
//                                                      many `true` one after the other, all at once)
//        node bench/ssh-case.mjs cat <hosts=200> <file>
//                                                     (a Fleet of that many hosts, each a connection of
//                                                      its own to the loopback sshd, runs `cat <file>`
//                                                      at once; every host's output read line by line)
// Env: BENCH_BED_INFO = the bed's TestbedInfo JSON file (default /tmp/jobgraph-testbed/info.json),
//      BENCH_KEY = rsa (default, an RSA-3072 key as in apssh's figures) | ed25519.
// Prints one JSON line: {"case", "variant", "ms", "connectMs", ..., "ok", "maxRssKb"} (peak RSS so far).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Scheduler } from '../packages/core/dist/index.js';
import { Fleet, loadPrivateKeys, Pull, Push, Run, SshJob, SshNode } from '../packages/ssh/dist/index.js';

const [kind, variant, arg] = process.argv.slice(2);
const bed = JSON.parse(readFileSync(process.env.BENCH_BED_INFO ?? '/tmp/jobgraph-testbed/info.json', 'utf8'));
const keyPath = bed.keys[process.env.BENCH_KEY ?? 'rsa'];
if (keyPath === undefined) throw new Error(`no key ${process.env.BENCH_KEY} in the bed`);

/** How every node of the bed is reached, as a user would write it (strict host-key checking). */
const access = (keys) => ({
  username: 'root',
  keys,
  knownHosts: bed.knownHosts,
  hostKeyPolicy: 'strict',
  agent: false,
});

/** A node on the bed's loopback sshd. */
const loopbackNode = (keys, extra = {}) =>
  new SshNode({ ...extra, hostname: bed.loopback.hostname, port: bed.loopback.port, ...access(keys) });

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
    () => new SshJob({ node: loopbackNode(keys, { shareConnection: false }), command: 'true', scheduler }),
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
} else if (kind === 'concurrent') {
  const count = Number(variant ?? 12);
  const seconds = arg ?? '1';
  const maxConnections = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
  const keys = await loadPrivateKeys([keyPath]);
  const node = loopbackNode(keys, maxConnections === undefined ? {} : { maxConnections });
  const scheduler = new Scheduler({ critical: false });
  const jobs = Array.from(
    { length: count },
    () => new SshJob({ node, command: `sleep ${seconds}`, scheduler, critical: false }),
  );
  const t1 = performance.now();
  await scheduler.run();
  Object.assign(result, {
    commands: count,
    runMs: performance.now() - t1,
    connections: node.connectionCount,
    failures: jobs.filter((job) => job.result() !== 0).length,
  });
  result.ok = result.failures === 0;
} else if (kind === 'gateway') {
  const targets = Number(variant ?? 3);
  const count = Number(arg ?? 20);
  const keys = await loadPrivateKeys([keyPath]);
  const common = access(keys);
  const gateway = new SshNode({ hostname: bed.gateway.hostname, port: bed.gateway.port, ...common });
  // the bed has two targets: a third is the first again, on connections of its own
  const nodes = Array.from({ length: targets }, (_, index) => {
    const target = bed.targets[index % bed.targets.length];
    return new SshNode({
      hostname: target.hostname,
      port: target.port,
      gateway,
      shareConnection: index < bed.targets.length,
      ...common,
    });
  });
  const scheduler = new Scheduler({ critical: false });
  const jobs = nodes.map(
    (node) => new SshJob({ node, commands: Array.from({ length: count }, () => new Run('true')), scheduler }),
  );
  const t1 = performance.now();
  const ok = await scheduler.run();
  Object.assign(result, {
    targets,
    commands: targets * count,
    runMs: performance.now() - t1,
    ok: ok && jobs.every((job) => job.result() === 0),
  });
} else if (kind === 'cat') {
  const count = Number(variant ?? 200);
  const file = arg;
  const keys = await loadPrivateKeys([keyPath]);
  const fleet = new Fleet(
    Array.from({ length: count }, (_, index) => ({
      name: `h${index}`,
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
    })),
    {
      defaults: { ...access(keys), shareConnection: false },
    },
  );
  const t1 = performance.now();
  const results = await fleet.run(`cat ${file}`);
  let lines = 0;
  let failures = 0;
  for (const host of results) {
    if (host.exitCode !== 0) failures++;
    // read line by line, as parallel-ssh's benchmark iterates over each host's output
    for (const line of host.stdout.split('\n')) if (line.length > 0) lines++;
  }
  const t2 = performance.now();
  await fleet.close();
  Object.assign(result, {
    hosts: count,
    lines,
    runMs: t2 - t1,
    perHostMs: (t2 - t1) / count,
    failures,
    ok: failures === 0,
  });
} else {
  throw new Error(
    `unknown case ${kind}: import | sequential | fanout | transfer | concurrent | gateway | cat`,
  );
}

result.ms = performance.now() - t0;
result.maxRssKb = process.resourceUsage().maxRSS;
process.stdout.write(`${JSON.stringify(result)}\n`);
