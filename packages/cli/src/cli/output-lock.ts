/**
 * A lock on an output of a run (`--log FILE`, `--report DIR`): two runs writing one file at once
 * interleaved their lines, and both exited 0. The lock is a file made exclusively (`FILE.lock`,
 * `DIR/.jobgraph.lock`) holding `pid@host`. One left by a process of this machine that is gone
 * (killed, crashed) is taken over; one of a live process, or of another machine (a shared file
 * system, where no process can be checked), is refused, saying how to remove it.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { UsageError } from './errors.js';

/** What this process writes into its locks. */
function owner(): string {
  return `${process.pid}@${hostname()}`;
}

/** Whether process `pid` of this machine still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** The lock's holder, `pid N` (or `pid N on HOST`), while a live process of it holds it; undefined when free or stale. */
export function lockHolder(lock: string): string | undefined {
  let holder: string;
  try {
    holder = readFileSync(lock, 'utf8').trim();
  } catch {
    return undefined;
  }
  const [pid, host] = holder.split('@');
  if (holder === '' || (host === hostname() && !(Number(pid) > 0 && alive(Number(pid))))) return undefined;
  return host === hostname() ? `pid ${pid}` : `pid ${pid} on ${host}`;
}

/**
 * Takes the lock at `lock` for `what` (`the log run.jsonl`).
 * @returns its release (idempotent; also done when the process exits)
 * @throws UsageError `cannot write WHAT: another jobgraph run (pid N) is writing it (LOCK)…`
 */
export function lockOutput(lock: string, what: string): () => void {
  const mine = owner();
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${mine}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST' || attempt > 0) {
        throw new UsageError(
          `cannot write ${what}: cannot make its lock ${lock}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      const who = lockHolder(lock);
      if (who !== undefined) {
        throw new UsageError(
          `cannot write ${what}: another jobgraph run (${who}) is writing it (${lock}); if that run is gone, remove ${lock}`,
        );
      }
      // left by a process that is gone (or half-written by one that died making it): taken over
      unlinkSync(lock);
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(lock, 'utf8').trim() === mine) unlinkSync(lock);
    } catch {
      // gone already
    }
  };
  process.on('exit', release);
  return release;
}
