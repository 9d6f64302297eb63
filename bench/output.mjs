// Output that cannot blow the controller's memory (issue 12): 1 GiB printed by a command on the
// bed's loopback sshd, through the real `jobgraph ssh` binary, into /dev/null and into a pipe read
// slower than the network. Prints wall time, throughput and the peak RSS of the jobgraph process
// (GNU time's %M: the largest of the process tree, i.e. the node running the CLI).
// Run it with `node bench/output.mjs` while the test bed is up (`node --import tsx
// test/testbed/cli.ts start`); BENCH_SIZE=256M for a shorter run.
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../packages/cli/bin/jobgraph.js', import.meta.url));
const MB = 1024 * 1024;
const SIZE = parseSize(process.env.BENCH_SIZE ?? '1G');
const TIME = '/usr/bin/time';
const LINE = 'a line of text, about eighty characters long, as a log or a build prints them';

function parseSize(text) {
  const match = /^(\d+)([KMG]?)$/.exec(text);
  if (!match) throw new Error(`BENCH_SIZE: expected e.g. 1G, 256M, not ${text}`);
  return Number(match[1]) * { '': 1, K: 1024, M: MB, G: 1024 * MB }[match[2]];
}

/** The bed's ssh config (its loopback sshd is `jgtb-lo`), or an exit with how to start the bed. */
async function bedConfig() {
  const info = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/testbed/cli.ts', 'info'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', (code) => resolve(code === 0 ? out : undefined));
  });
  try {
    return JSON.parse(info).sshConfig;
  } catch {
    console.error('the test bed is not up: node --import tsx test/testbed/cli.ts start');
    process.exit(1);
  }
}

/**
 * Runs `jobgraph ssh <args>` under GNU time; stdout to /dev/null (`rate` undefined) or to a pipe
 * this process reads at most `rate` bytes a second. Resolves with the figures.
 */
function run(args, rate) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const stdout = rate === undefined ? openSync('/dev/null', 'w') : 'pipe';
    const child = spawn(TIME, ['-f', 'maxrss=%M', process.execPath, bin, ...args], {
      cwd: root,
      stdio: ['ignore', stdout, 'pipe'],
    });
    let received = 0;
    let sincePause = 0;
    child.stdout?.on('data', (chunk) => {
      received += chunk.length;
      sincePause += chunk.length;
      if (sincePause >= MB) {
        sincePause = 0;
        child.stdout.pause();
        const due = Number(started / 1_000_000n) + (received / rate) * 1000;
        setTimeout(
          () => child.stdout.resume(),
          Math.max(1, due - Number(process.hrtime.bigint() / 1_000_000n)),
        );
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? Number.NaN) * 1024;
      if (code !== 0) reject(new Error(`jobgraph exited ${code}: ${stderr.trim()}`));
      else resolve({ seconds, rss, received: rate === undefined ? undefined : received });
    });
  });
}

if (!existsSync(TIME)) {
  console.error(`${TIME} (GNU time) is needed for the peak RSS`);
  process.exit(1);
}
const config = await bedConfig();
const ssh = (command) => ['ssh', '-F', config, '-t', 'jgtb-lo', command];
const gib = (SIZE / (1024 * MB)).toFixed(2);
const cases = [
  ['at rest (`true`)', ssh('true'), undefined, 0],
  [`${gib} GiB zeros, -r > /dev/null`, ['-r', ...ssh(`head -c ${SIZE} /dev/zero`)], undefined, SIZE],
  [`${gib} GiB zeros, -r | 100 MB/s`, ['-r', ...ssh(`head -c ${SIZE} /dev/zero`)], 100 * MB, SIZE],
  [`${gib} GiB text, -r | 100 MB/s`, ['-r', ...ssh(`yes '${LINE}' | head -c ${SIZE}`)], 100 * MB, SIZE],
  [`${gib / 4} GiB text, host: > /dev/null`, ssh(`yes '${LINE}' | head -c ${SIZE / 4}`), undefined, SIZE / 4],
];
// the CLI's options come first, the command last: -r before ssh's arguments is an option of ssh
console.log(
  `node ${process.version}, jobgraph ssh on the bed's loopback sshd, peak RSS of the jobgraph process`,
);
console.log('case                               seconds    MB/s   peak RSS');
for (const [name, args, rate, bytes] of cases) {
  const argv = args[0] === '-r' ? [args[1], '-r', ...args.slice(2)] : args;
  const { seconds, rss, received } = await run(argv, rate);
  if (received !== undefined && received !== bytes)
    throw new Error(`${name}: read ${received} bytes, not ${bytes}`);
  const speed = bytes === 0 ? '-' : (bytes / MB / seconds).toFixed(0);
  console.log(
    `${name.padEnd(34)} ${seconds.toFixed(2).padStart(7)} ${speed.padStart(7)} ${(rss / MB).toFixed(0).padStart(7)} MB`,
  );
}
