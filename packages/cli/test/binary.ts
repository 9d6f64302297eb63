/**
 * Spawning the real `jobgraph` binary (packages/cli/bin/jobgraph.js) from tests, and temporary
 * directories that are removed after the file's tests.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The repository root. */
export const root = resolve(import.meta.dirname, '../../..');
/** The binary. */
export const bin = join(root, 'packages/cli/bin/jobgraph.js');

/** How the binary ended, and what it printed. */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as the bytes that came (binary output). */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Where and how to spawn. */
export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the binary (SIGKILL) after this many ms: a hang fails the test instead of stalling it. @default 60_000 */
  limitMs?: number;
}

/** Starts the binary; `done` settles when it has exited and its output is closed. */
export function start(
  args: readonly string[],
  options: SpawnOptions = {},
): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutChunks: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdoutChunks.push(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 60_000);
  const done = new Promise<Outcome>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      const stdoutBytes = Buffer.concat(stdoutChunks);
      resolvePromise({ code, signal, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
  });
  return { child, done };
}

/** Runs the binary to its end. */
export function jobgraph(args: readonly string[], options: SpawnOptions = {}): Promise<Outcome> {
  return start(args, options).done;
}

/** pgrep -f `pattern`: the pids (none: empty). */
export function pgrep(pattern: string): Promise<number[]> {
  return new Promise((resolvePromise) => {
    execFile('pgrep', ['-f', pattern], (_error, stdout) => {
      resolvePromise(
        stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map(Number),
      );
    });
  });
}

/** SIGKILLs every process whose command line matches `pattern` (what a failed test left running). */
export async function killMatching(pattern: string): Promise<void> {
  for (const pid of await pgrep(pattern)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Polls `check` every 50 ms until it is true; false if `limitMs` passes first. */
export async function eventually(check: () => Promise<boolean>, limitMs = 20_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((wake) => setTimeout(wake, 50));
  }
  return check();
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A new temporary directory, removed after the test file. */
export async function tempDir(prefix = 'jobgraph-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
