// What the benchmark drivers share: medians, the test bed's CLI, a timed child process, big random
// files and their sha256, the CPU time an sshd spent.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** The median of some numbers (the upper one of an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** GNU time, when installed: {@link timed} measures peak RSS and CPU with it. */
export const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** The child process being timed, if any. */
let running;

/**
 * Runs a command, timing it from spawn to exit; with GNU time, its peak RSS (KB) and CPU (user +
 * system seconds, children included). It runs in a process group of its own, so that
 * {@link killTimed} ends it and its children (GNU time's child, sftp's jump ssh) alike.
 * @returns `{ stdout, wallMs, rssKb?, cpuS? }`; rejects when it exits with another status than 0
 */
export function timed(command, args, { env = process.env, tmp }) {
  const rssFile = gnuTime ? join(tmp, 'rss.txt') : undefined;
  const [file, argv] = gnuTime
    ? [gnuTime, ['-f', '%M %U %S', '-o', rssFile, command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      running = undefined;
      if (status !== 0) {
        reject(new Error(`${command} ${args.join(' ')} failed (exit ${status}): ${stdout}${stderr}`));
        return;
      }
      const [rssKb, user, sys] = rssFile
        ? readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
        : [];
      resolve({ stdout, wallMs, rssKb, cpuS: user === undefined ? undefined : user + sys });
    });
  });
}

/** Ends the command {@link timed} is running, if any, with its children (an interrupted benchmark). */
export function killTimed() {
  try {
    if (running?.pid !== undefined) process.kill(-running.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Runs the test bed's CLI (`start` and `info` print the TestbedInfo JSON on stdout). */
export function testbed(command) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test', 'testbed', 'cli.ts'), command],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`testbed ${command} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}

/** The sha256 of a file, read in 1 MiB chunks. */
export function sha256(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** A file of `mib` MiB of random bytes (incompressible). */
export function makeFile(path, mib) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (let i = 0; i < mib; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU time (ms, user + system) a process has used, with that of the children it has reaped:
 * for an sshd listener, every connection it served that has ended (their sessions and the
 * commands they ran included), read from /proc/<pid>/stat (utime, stime, cutime, cstime).
 */
export function cpuWithChildrenMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command name (which may hold spaces), from field 3 (state) on
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The pids of the processes whose parent is `pid`. */
function childrenOf(pid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Waits (at most `limit` ms) until `pid` has no child left: the connections it served have all
 * ended and been reaped, so that their CPU time is in its own ({@link cpuWithChildrenMs}).
 */
export async function childrenReaped(pid, limit = 10_000) {
  const deadline = Date.now() + limit;
  while (childrenOf(pid).length > 0) {
    if (Date.now() > deadline) throw new Error(`sshd ${pid} still has children after ${limit} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
