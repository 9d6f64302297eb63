/**
 * `--mark`: after a run with `-o DIR`, `DIR/0ok/<host>` for each target that returned 0 and
 * `DIR/1failed/<host>` for the others (named as the output files: targets/names.ts), so that a second
 * pass can take `-t DIR/1failed`. Each file holds the exit code, or why there is none.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../targets/resolve.js';
import type { Outcome } from './fanout.js';

/** What a mark file holds: the exit code, or why there is none. */
function markText(outcome: Outcome): string {
  if (outcome.result !== undefined) return `${outcome.result}\n`;
  const why = outcome.error instanceof Error ? outcome.error.message : String(outcome.error ?? '');
  return `${outcome.status}${why === '' ? '' : `: ${why.replace(/\s*\n\s*/g, ' ')}`}\n`;
}

/**
 * Writes the marks of `outcomes` into `directory`, each under its target's name (the name of its
 * output file, itself a target: `-t DIR/1failed` reaches the same hosts; a gateway given with -g,
 * as with apssh, is given again). A target's stale mark from an earlier run into the same
 * directory (in the other mark directory) is removed, so each is marked once, with its latest result.
 */
export async function writeMarks(
  directory: string,
  outcomes: readonly Outcome[],
  names: ReadonlyMap<Target, string>,
): Promise<void> {
  const ok = join(directory, '0ok');
  const failed = join(directory, '1failed');
  for (const outcome of outcomes) {
    const name = (names.get(outcome.target) ?? outcome.target.host.alias).replace(/[/\\\0]/g, '_');
    const succeeded = outcome.status === 'succeeded';
    const [into, stale] = succeeded ? [ok, failed] : [failed, ok];
    await mkdir(into, { recursive: true });
    await rm(join(stale, name), { force: true });
    await writeFile(join(into, name), markText(outcome));
  }
}
