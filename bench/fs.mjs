// The remote file-system benchmark (issue 11): `node.fs` over SFTP against `node.run('cat …')`,
// and `fs.glob('**/*.log')` over a tree of 10,000 files. Starts (or joins) the test bed, makes the
// files (the loopback sshd serves this machine's disk), runs each case REPEAT times in a fresh
// Node process (`node bench/fs.mjs case …`), prints the medians; stops the bed at the end if it was not up before.
// Run it with `npx -y pnpm@10 build && node bench/fs.mjs`.
// Env: BENCH_REPEAT (default 5), BENCH_TMPDIR (default /dev/shm if present, else the OS temp dir).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const READS = 200;
const FILES = 10_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** One case, in this process: prints one JSON line. */
async function runCase([kind, dir, bedInfo]) {
  const { SshNode } = await import('../packages/ssh/dist/index.js');
  const bed = JSON.parse(readFileSync(bedInfo, 'utf8'));
  const node = new SshNode({
    hostname: bed.loopback.hostname,
    port: bed.loopback.port,
    username: 'root',
    keys: [bed.keys.ed25519],
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
    formatter: { line: () => undefined, event: () => undefined },
  });
  await node.connect();
  const file = join(dir, 'small.txt');
  const expected = readFileSync(file, 'utf8');
  let ok = true;
  const t0 = performance.now();
  if (kind === 'readText') {
    for (let i = 0; i < READS; i++) ok &&= (await node.fs.readText(file)) === expected;
  } else if (kind === 'cat') {
    for (let i = 0; i < READS; i++) {
      let text = '';
      const result = await node.run(`cat ${file}`, {
        onLine: (line) => (text += line.linenl),
        printStdout: false,
      });
      ok &&= result.exitCode === 0 && text === expected;
    }
  } else if (kind === 'glob') {
    const found = await node.fs.glob('**/*.log', { cwd: join(dir, 'tree') });
    ok = found.length === FILES;
  }
  const ms = performance.now() - t0;
  await node.close();
  process.stdout.write(`${JSON.stringify({ kind, ms, ok })}\n`);
}

/** Runs a command to its end; resolves with its stdout. */
function run(command, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`)),
    );
  });
}

const testbed = (command) =>
  run(process.execPath, ['--import', 'tsx', join(root, 'test', 'testbed', 'cli.ts'), command]);

/** 10,000 .log files (and as many .txt) in 10 × 10 × 10 directories, 10 of each per leaf. */
function makeTree(dir) {
  let count = 0;
  for (let a = 0; a < 10; a++)
    for (let b = 0; b < 10; b++)
      for (let c = 0; c < 10; c++) {
        const leaf = join(dir, `a${a}`, `b${b}`, `c${c}`);
        mkdirSync(leaf, { recursive: true });
        for (let f = 0; f < 10; f++) {
          writeFileSync(join(leaf, `f${f}.log`), '');
          writeFileSync(join(leaf, `f${f}.txt`), '');
          count++;
        }
      }
  return count;
}

if (process.argv[2] === 'case') {
  await runCase(process.argv.slice(3));
} else {
  const base = process.env.BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dir = mkdtempSync(join(base, 'jobgraph-bench-fs-'));
  // a bed already up (tests, another bench) is joined and left up
  const wasUp = await testbed('info').then(
    () => true,
    () => false,
  );
  try {
    const bed = JSON.parse(await testbed('start'));
    const bedInfo = join(dir, 'testbed.json');
    writeFileSync(bedInfo, JSON.stringify(bed));
    writeFileSync(join(dir, 'small.txt'), 'a small file of settings\nkey = value\n');
    makeTree(join(dir, 'tree'));
    const cases = ['readText', 'cat', 'glob'];
    const times = Object.fromEntries(cases.map((kind) => [kind, []]));
    for (let round = 0; round < REPEAT; round++) {
      for (const kind of cases) {
        const result = JSON.parse((await run(process.execPath, [self, 'case', kind, dir, bedInfo])).trim());
        if (!result.ok) throw new Error(`${kind}: wrong result`);
        times[kind].push(result.ms);
      }
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const [readText, cat, glob] = cases.map((kind) => median(times[kind]));
    console.log(`node ${process.version}, ${REPEAT} runs per case (medians, connected node, in-process ms)`);
    console.log(
      `fs.readText ×${READS}        ${readText.toFixed(0).padStart(6)} ms  (${(readText / READS).toFixed(2)} ms each)`,
    );
    console.log(
      `node.run('cat …') ×${READS}  ${cat.toFixed(0).padStart(6)} ms  (${(cat / READS).toFixed(2)} ms each)`,
    );
    const ratio = cat / readText;
    console.log(`  ratio ${ratio.toFixed(1)}× (target ≥ 3×: ${ratio >= 3 ? 'met' : 'MISSED'})`);
    console.log(
      `fs.glob('**/*.log'), ${FILES} files  ${glob.toFixed(0).padStart(6)} ms  (target < 2000 ms: ${glob < 2000 ? 'met' : 'MISSED'})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!wasUp) await testbed('stop').catch((error) => console.error(error.message));
  }
}
