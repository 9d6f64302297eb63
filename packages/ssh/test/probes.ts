/**
 * Probes of the connections the tests open on the bed: polling with a bound, this process's TCP
 * connections to the loopback sshd, flag files that hold a remote command until the test raises
 * them, and a command that says which connection (and which sshd process) serves it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { bed } from './bed.js';

const execFileAsync = promisify(execFile);

/** Polls (every `step` ms, at most `limit` ms) until `check` holds. */
export async function until(
  check: () => boolean | Promise<boolean>,
  limit = 20_000,
  step = 25,
): Promise<void> {
  const deadline = Date.now() + limit;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, step));
  }
}

/** This process's established TCP connections to the loopback sshd, as `ss` sees them. */
export async function loopbackConnections(): Promise<number> {
  const { stdout } = await execFileAsync('ss', ['-Htnp', 'state', 'established'], { timeout: 10_000 });
  return stdout.split('\n').filter((line) => {
    const [, , , peer, ...users] = line.trim().split(/\s+/);
    return peer?.endsWith(`:${bed.loopback.port}`) && users.join(' ').includes(`pid=${process.pid},`);
  }).length;
}

/**
 * A maker of flag files for a test file (call it at the top level): in a directory of its own
 * under the bed's work dir, the one place every bed host sees (the namespace hosts have their own
 * /tmp, with the work dir mounted in it); removed after the file's tests.
 */
export function flagFiles(prefix: string): () => { path: string; raise: () => Promise<void> } {
  let dir = '';
  let count = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(bed.workDir, prefix));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return () => {
    const path = join(dir, `flag-${++count}`);
    return { path, raise: () => writeFile(path, '') };
  };
}

/** Prints `<tag> <$SSH_CONNECTION> <$PPID>`, then waits (at most 60 s) for `flag` (none: no wait). */
export function waiting(tag: string, flag = '/'): string {
  return `echo "${tag} $SSH_CONNECTION $PPID"; i=0; while [ ! -e ${flag} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`;
}

/** What `waiting(tag)` printed, by tag: the connection (`$SSH_CONNECTION`) and the sshd serving it. */
export function served(...stdouts: string[]): Map<string, { connection: string; sshd: number }> {
  const found = new Map<string, { connection: string; sshd: number }>();
  for (const line of stdouts.join('\n').split('\n')) {
    const [tag, ...rest] = line.trim().split(/\s+/);
    if (tag === undefined || rest.length !== 5) continue;
    found.set(tag, { connection: rest.slice(0, 4).join(' '), sshd: Number(rest[4]) });
  }
  return found;
}
