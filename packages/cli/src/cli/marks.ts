/**
 * `--mark`: after a run with `-o DIR`, `DIR/0ok/<host>` for each target that returned 0 and
 * `DIR/1failed/<host>` for the others (`<host>:<port>` when the port is not 22), so that a second
 * pass can take `-t DIR/1failed`. Each file holds the exit code, or why there is none.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SubdirFormatter } from '@jobgraph/ssh';
import type { Outcome } from './fanout.js';

/** What a mark file holds: the exit code, or why there is none. */
function markText(outcome: Outcome): string {
  if (outcome.result !== undefined) return `${outcome.result}\n`;
  const why = outcome.error instanceof Error ? outcome.error.message : String(outcome.error ?? '');
  return `${outcome.status}${why === '' ? '' : `: ${why.replace(/\s*\n\s*/g, ' ')}`}\n`;
}

/**
 * Writes the marks of `outcomes`; a host's stale mark from an earlier run in the same directory
 * (in the other mark directory) is removed, so each host is marked once, with its latest result.
 */
export async function writeMarks(formatter: SubdirFormatter, outcomes: readonly Outcome[]): Promise<void> {
  const ok = join(formatter.runName, '0ok');
  const failed = join(formatter.runName, '1failed');
  for (const outcome of outcomes) {
    // the name of the host's output file, with the port when it is not 22: `-t DIR/1failed` must
    // reach the same hosts (the gateway, as with apssh, is given again with -g)
    const { hostname, port } = outcome.target.host;
    const name = `${basename(formatter.outFile(hostname))}${port === 22 ? '' : `:${port}`}`;
    const succeeded = outcome.status === 'succeeded';
    const [into, stale] = succeeded ? [ok, failed] : [failed, ok];
    await mkdir(into, { recursive: true });
    await rm(join(stale, name), { force: true });
    await writeFile(join(into, name), markText(outcome));
  }
}
