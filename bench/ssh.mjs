// The SSH benchmark: starts the test bed (a real sshd on loopback), runs each case REPEAT times,
// each in a fresh Node process, and reports the medians of the in-process time and of the
// whole-process wall time, and the largest peak RSS; runs OpenSSH's `sftp -b` (put + get of the
// same file) as the reference of the transfer case; stops the bed at the end, also on failure
// (unless it was up before: then it is left up).
// Run it with `npx -y pnpm@10 bench:ssh` (builds the packages first).
// Env: BENCH_REPEAT (default 5), BENCH_KEY = rsa (default, RSA-3072 as in apssh's figures) | ed25519,
//      BENCH_TMPDIR = where the 200 MiB files go (default /dev/shm if present, else the OS temp dir).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killTimed, makeFile, median, sha256, testbed, timed } from './common.mjs';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const KEY = process.env.BENCH_KEY ?? 'rsa';
const MIB = 200;
const caseScript = fileURLToPath(new URL('./ssh-case.mjs', import.meta.url));
const tmp = mkdtempSync(
  join(process.env.BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'jobgraph-bench-ssh-'),
);
let bedStarted = false;
const cleanup = async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (bedStarted) {
    bedStarted = false;
    await testbed('stop').catch((error) => console.error(error.message));
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killTimed();
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  // a bed already up (tests, another bench) is joined and left up
  bedStarted = await testbed('info').then(
    () => false,
    () => true,
  );
  const bed = JSON.parse(await testbed('start'));
  const bedInfo = join(tmp, 'testbed.json');
  writeFileSync(bedInfo, JSON.stringify(bed));
  const env = { ...process.env, BENCH_BED_INFO: bedInfo, BENCH_KEY: KEY };
  const source = join(tmp, 'source.bin');
  makeFile(source, MIB);
  const sourceHash = await sha256(source);
  const remote = join(tmp, 'remote.bin'); // "remote": the sshd is on this machine
  const back = join(tmp, 'back.bin');
  const batch = join(tmp, 'sftp-batch');
  writeFileSync(batch, `put ${source} ${remote}\nget ${remote} ${back}\n`);

  /** After a transfer: both copies must have the source's sha256; then they go. */
  const checkCopies = async (what) => {
    for (const copy of [remote, back]) {
      const hash = existsSync(copy) ? await sha256(copy) : 'missing';
      if (hash !== sourceHash) throw new Error(`${what}: ${copy} differs from the source (${hash})`);
    }
    rmSync(remote, { force: true });
    rmSync(back, { force: true });
  };

  const runCase = async (args) => {
    const { stdout, wallMs } = await timed(process.execPath, [caseScript, ...args.map(String)], { env, tmp });
    const result = JSON.parse(stdout.trim().split('\n').pop());
    if (args[0] === 'transfer') await checkCopies('transfer');
    return { ...result, wallMs, rssMb: result.maxRssKb / 1024 };
  };
  const runSftp = async () => {
    const args = [
      ...['-q', '-F', '/dev/null', '-b', batch, '-i', bed.keys[KEY], '-P', String(bed.loopback.port)],
      ...['-o', `UserKnownHostsFile=${bed.knownHosts}`, '-o', 'StrictHostKeyChecking=yes'],
      ...['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', `root@${bed.loopback.hostname}`],
    ];
    const { wallMs, rssKb } = await timed('sftp', args, { env: process.env, tmp });
    await checkCopies('sftp -b');
    return { ok: true, wallMs, rssMb: rssKb === undefined ? Number.NaN : rssKb / 1024 };
  };

  const CASES = [
    { name: 'import only', args: ['import'] },
    { name: 'sequential node.run ×200', args: ['sequential', 'node', 200], target: 500 },
    { name: 'sequential SshJob 200 Run', args: ['sequential', 'job', 200], target: 500 },
    { name: 'fanout 50 nodes, keys once', args: ['fanout', 'shared', 50], target: 700 },
    { name: 'fanout 50 nodes, key paths', args: ['fanout', 'paths', 50] },
    { name: `transfer ${MIB} MiB push+pull`, args: ['transfer', tmp] },
    { name: `sftp -b put+get (OpenSSH)`, sftp: true },
  ];
  // Rounds: every case once per round, so that the load of this shared machine spreads evenly.
  const runs = CASES.map(() => []);
  for (let round = 0; round < REPEAT; round++) {
    for (const [index, item] of CASES.entries()) {
      runs[index].push(item.sftp ? await runSftp() : await runCase(item.args));
    }
  }

  const pad = (text, n) => String(text).padStart(n);
  const fmt = (value, digits = 0) =>
    value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
  const keyBits = KEY === 'rsa' ? 'RSA-3072' : 'ed25519';
  console.log(
    `node ${process.version}, ${REPEAT} runs per case (medians; RSS = max peak); loopback sshd :${bed.loopback.port}, ${keyBits} client key`,
  );
  console.log(
    `${'case'.padEnd(30)}${pad('in-proc ms', 11)}${pad('wall ms', 9)}${pad('RSS MB', 8)}${pad('target', 8)}  details`,
  );
  const summary = {};
  for (const [index, item] of CASES.entries()) {
    const list = runs[index];
    const m = (key) =>
      list.every((r) => typeof r[key] === 'number') ? median(list.map((r) => r[key])) : undefined;
    const wall = m('wallMs');
    const row = {
      inProc: m('ms'),
      wall,
      rss: Math.max(...list.map((r) => r.rssMb)),
      ok: list.every((r) => r.ok),
    };
    summary[item.args?.slice(0, 2).join(' ') ?? 'sftp'] = row;
    const details = [];
    if (m('connectMs') !== undefined) details.push(`connect ${fmt(m('connectMs'))} ms`);
    if (m('perCommandMs') !== undefined) details.push(`${fmt(m('perCommandMs'), 2)} ms/command`);
    if (item.args?.[0] === 'fanout' || item.args?.[1] === 'job') details.push(`run() ${fmt(m('runMs'))} ms`);
    if (m('pushMs') !== undefined) {
      details.push(`push ${fmt(m('pushMs'))} ms, pull ${fmt(m('pullMs'))} ms`);
      details.push(`${fmt((2 * MIB) / (m('runMs') / 1000))} MiB/s`);
    }
    if (item.sftp) details.push(`${fmt((2 * MIB) / (wall / 1000))} MiB/s incl. start-up`);
    const verdict = item.target === undefined ? '' : wall < item.target ? 'met' : 'MISSED';
    console.log(
      `${item.name.padEnd(30)}${pad(fmt(row.inProc), 11)}${pad(fmt(wall), 9)}${pad(fmt(row.rss), 8)}${pad(item.target ? `<${item.target}` : '', 8)} ${verdict.padEnd(7)}${details.join(', ')}${row.ok ? '' : '  FAILED'}`,
    );
  }
  const ours = summary[`transfer ${tmp}`];
  const sftp = summary.sftp;
  const ratio = ours.wall / sftp.wall;
  console.log(
    `transfer / sftp -b: ${ratio.toFixed(2)}× whole process (target ≤ 1.30×: ${ratio <= 1.3 ? 'met' : 'MISSED'}), ` +
      `${(ours.inProc / sftp.wall).toFixed(2)}× counting our in-process time only`,
  );
  if (!Object.values(summary).every((row) => row.ok)) process.exitCode = 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
