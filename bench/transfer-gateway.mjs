// 1 GiB through a gateway (issue 12, deliverable 4): Push then Pull of a 1 GiB random file to a
// bed target behind the bed's gateway, jobgraph (one SshJob) against OpenSSH `sftp -J` (put then
// get), alternating, each run in a fresh process, medians. sha256 of the remote and of the pulled
// copy checked against the source's after every run, outside the timings.
// Run it with `npx -y pnpm@10 bench:transfer` (builds the packages first; uses the built dist/).
// The test bed must be up or startable (`node --import tsx test/testbed/cli.ts start`); a bed
// already up is joined, one started here is left up (others use it).
// Env: BENCH_REPEAT (default 3), BENCH_MIB (default 1024), BENCH_SFTP_FIRST=1 (sftp first in each
//      round; default jobgraph first), BENCH_TMPDIR (default /dev/shm: the
//      bed's hosts share this machine's disk, so source, "remote" and pulled copies are all here).
// One case alone: node bench/transfer-gateway.mjs case <bed info.json> <dir>
//   (pushes <dir>/source.bin to <dir>/remote.bin on t1 through gw, pulls it to <dir>/back.bin;
//    prints one JSON line)
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gnuTime, killTimed, makeFile, median, sha256, testbed, timed } from './common.mjs';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === 'case') {
  // ---- case A, in its own process: one SshJob, Push then Pull, through the gateway ----
  const [bedInfo, dir] = process.argv.slice(3);
  const t0 = performance.now();
  const { Scheduler } = await import('../packages/core/dist/index.js');
  const { loadPrivateKeys, Pull, Push, SshJob, SshNode } = await import('../packages/ssh/dist/index.js');
  const tImported = performance.now();
  const bed = JSON.parse(readFileSync(bedInfo, 'utf8'));
  const keys = await loadPrivateKeys([bed.keys.ed25519]);
  const common = {
    username: 'root',
    keys,
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
  };
  const gateway = new SshNode({ ...common, hostname: bed.gateway.hostname, port: bed.gateway.port });
  const target = bed.targets[0];
  const node = new SshNode({ ...common, hostname: target.hostname, port: target.port, gateway });
  const scheduler = new Scheduler({ critical: false });
  const times = {};
  scheduler.on('cmd:start', (event) => {
    times[`start${event.index}`] = performance.now();
  });
  scheduler.on('cmd:done', (event) => {
    times[`done${event.index}`] = performance.now();
  });
  const job = new SshJob({
    node,
    commands: [
      new Push(join(dir, 'source.bin'), join(dir, 'remote.bin')),
      new Pull(join(dir, 'remote.bin'), join(dir, 'back.bin')),
    ],
    scheduler,
  });
  const t1 = performance.now();
  const ok = await scheduler.run();
  const t2 = performance.now();
  process.stdout.write(
    `${JSON.stringify({
      importMs: tImported - t0,
      runMs: t2 - t1,
      pushMs: times.done1 - t1, // includes both connections (gateway, then target through it)
      pullMs: times.done2 - times.start2,
      ms: t2 - t0,
      ok: ok && job.result() === 0,
      maxRssKb: process.resourceUsage().maxRSS,
    })}\n`,
  );
  process.exit(ok ? 0 : 1);
}

// ---- the driver ----
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const MIB = Number(process.env.BENCH_MIB ?? 1024);
const SFTP_FIRST = process.env.BENCH_SFTP_FIRST === '1'; // sftp before jobgraph in each round
const RSS_TARGET_MB = 200;
const RATIO_TARGET = 1.3;
const base = process.env.BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const tmp = mkdtempSync(join(base, 'jobgraph-bench-transfer-'));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killTimed();
    cleanup();
    process.exit(130);
  });
}

try {
  // three copies of the file at once (source, remote, pulled) plus a Push/Pull temporary
  const { bavail, bsize } = statfsSync(tmp);
  if (bavail * bsize < 3.2 * MIB * 2 ** 20)
    throw new Error(
      `${base}: ${((bavail * bsize) / 2 ** 30).toFixed(1)} GiB free, need ~${((3.2 * MIB) / 1024).toFixed(1)} GiB (BENCH_TMPDIR)`,
    );
  // a bed already up (tests, other sessions) is joined; one started here is left up
  const bed = JSON.parse(await testbed('info').catch(() => testbed('start')));
  if (!bed.netns || bed.gateway === undefined || !bed.targets?.length)
    throw new Error('the test bed has no gateway/targets (network namespaces unavailable?)');
  const target = bed.targets[0];
  const gw = bed.gateway;
  const bedInfo = join(tmp, 'testbed.json');
  writeFileSync(bedInfo, JSON.stringify(bed));

  const source = join(tmp, 'source.bin');
  makeFile(source, MIB);
  const sourceHash = await sha256(source);
  const remote = join(tmp, 'remote.bin'); // "remote": the bed's hosts share this machine's disk
  const back = join(tmp, 'back.bin');
  const batch = join(tmp, 'sftp-batch');
  writeFileSync(batch, `put ${source} ${remote}\nget ${remote} ${back}\n`);
  // `sftp -F /dev/null -J root@gw` starts the jump ssh with `-F /dev/null` and none of the
  // command line's -i/-o: it would use ~/.ssh's keys and known_hosts. So the jump host's options
  // go in a small ssh_config of ours, and that file is the -F (it names no other host).
  const sshConfig = join(tmp, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      'Host jgbench-gw',
      `  HostName ${gw.hostname}`,
      `  Port ${gw.port}`,
      '  User root',
      `  IdentityFile ${bed.keys.ed25519}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${bed.knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  const sftpArgs = [
    ...[
      '-q',
      '-F',
      sshConfig,
      '-b',
      batch,
      '-J',
      'jgbench-gw',
      '-i',
      bed.keys.ed25519,
      '-P',
      String(target.port),
    ],
    ...['-o', `UserKnownHostsFile=${bed.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'],
    ...['-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'],
    `root@${target.hostname}`,
  ];

  /** After a transfer: both copies must have the source's sha256; then they go. */
  const checkCopies = async (what) => {
    for (const copy of [remote, back]) {
      const hash = existsSync(copy) ? await sha256(copy) : 'missing';
      if (hash !== sourceHash) throw new Error(`${what}: ${copy} differs from the source (${hash})`);
    }
    rmSync(remote, { force: true });
    rmSync(back, { force: true });
  };

  const runOurs = async () => {
    const { stdout, wallMs, rssKb, cpuS } = await timed(process.execPath, [self, 'case', bedInfo, tmp], {
      tmp,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop());
    if (!result.ok) throw new Error(`jobgraph: the job failed: ${stdout}`);
    await checkCopies('jobgraph');
    return { ...result, wallMs, cpuS, rssMb: (rssKb ?? result.maxRssKb) / 1024 };
  };
  const runSftp = async () => {
    const { wallMs, rssKb, cpuS } = await timed('sftp', sftpArgs, { tmp });
    await checkCopies('sftp -J');
    return { ok: true, wallMs, cpuS, rssMb: rssKb === undefined ? Number.NaN : rssKb / 1024 };
  };

  const ours = [];
  const theirs = [];
  for (let round = 0; round < REPEAT; round++) {
    if (SFTP_FIRST) {
      theirs.push(await runSftp());
      ours.push(await runOurs());
    } else {
      ours.push(await runOurs());
      theirs.push(await runSftp());
    }
    const a = ours.at(-1);
    const b = theirs.at(-1);
    console.error(
      `round ${round + 1}/${REPEAT}: jobgraph ${(a.wallMs / 1000).toFixed(2)} s (push ${(a.pushMs / 1000).toFixed(2)}, pull ${(a.pullMs / 1000).toFixed(2)}), ${a.rssMb.toFixed(0)} MB; sftp -J ${(b.wallMs / 1000).toFixed(2)} s, ${b.rssMb.toFixed(0)} MB`,
    );
  }

  const total = 2 * MIB; // MiB moved: put + get
  const row = (name, runs) => {
    const wall = median(runs.map((r) => r.wallMs)) / 1000;
    const rss = Math.max(...runs.map((r) => r.rssMb));
    const cpu = runs.every((r) => r.cpuS !== undefined) ? median(runs.map((r) => r.cpuS)) : Number.NaN;
    return { name, wall, rate: total / wall, rss, cpu, walls: runs.map((r) => r.wallMs / 1000) };
  };
  const a = row('jobgraph SshJob Push+Pull', ours);
  const b = row('sftp -J put+get (OpenSSH)', theirs);
  console.log(
    `node ${process.version}, ${cpus().length} CPUs; ${MIB} MiB up then down, t1 ${target.hostname} through gw ${gw.hostname}, ed25519 key, files in ${base}; ${REPEAT} runs each, alternating${SFTP_FIRST ? ', sftp first' : ''} (medians; RSS = max peak${gnuTime ? ', GNU time' : ''})`,
  );
  console.log(
    `${'case'.padEnd(28)}${'wall s'.padStart(8)}${'MiB/s'.padStart(8)}${'RSS MB'.padStart(8)}${'CPU s'.padStart(8)}  runs (s)`,
  );
  for (const r of [a, b]) {
    console.log(
      `${r.name.padEnd(28)}${r.wall.toFixed(2).padStart(8)}${r.rate.toFixed(0).padStart(8)}${r.rss.toFixed(0).padStart(8)}${r.cpu.toFixed(2).padStart(8)}  ${r.walls.map((w) => w.toFixed(2)).join(' ')}`,
    );
  }
  const m = (key) => median(ours.map((r) => r[key])) / 1000;
  console.log(
    `jobgraph in-process: imports ${(m('importMs') * 1000).toFixed(0)} ms, push ${m('pushMs').toFixed(2)} s (connections included), pull ${m('pullMs').toFixed(2)} s`,
  );
  const ratio = a.wall / b.wall;
  console.log(
    `jobgraph / sftp -J: ${ratio.toFixed(2)}× whole process (target ≤ ${RATIO_TARGET}×: ${ratio <= RATIO_TARGET ? 'met' : 'MISSED'})`,
  );
  console.log(
    `jobgraph peak RSS: ${a.rss.toFixed(0)} MB (target < ${RSS_TARGET_MB} MB: ${a.rss < RSS_TARGET_MB ? 'met' : 'MISSED'})`,
  );
  console.log('sha256 of every remote and pulled copy: identical to the source');
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  cleanup();
}
