/**
 * `--mark`: after a run with `-o DIR`, `DIR/0ok/<host>` for each target that returned 0 and
 * `DIR/1failed/<host>` for the others (named as the output files: targets/names.ts), so that a second
 * pass can take `-t DIR/1failed`. Each file holds the exit code, or why there is none.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { earlierNameForms } from '../targets/names.js';
import type { Target } from '../targets/resolve.js';
import { messageOf } from './errors.js';
import { noExitCode, type Outcome } from './fanout.js';

/** What a mark file holds: the exit code, or why there is none. */
function markText(outcome: Outcome): string {
  if (outcome.result === -1) return `${outcome.status}: ${noExitCode(outcome)}\n`;
  if (outcome.result !== undefined) return `${outcome.result}\n`;
  const why = outcome.error instanceof Error ? outcome.error.message : String(outcome.error ?? '');
  return `${outcome.status}${why === '' ? '' : `: ${why.replace(/\s*\n\s*/g, ' ')}`}\n`;
}

/** A name as a file name: no directory separators. */
const asFileName = (name: string) => name.replace(/[/\\\0]/g, '_');

/**
 * Writes the marks of `outcomes` into `directory`, each under its target's name (the name of its
 * output file, itself a target: `-t DIR/1failed` reaches the same hosts; a gateway given with -g,
 * or written in the target, as with apssh, is given again with -g). A target's stale mark from an
 * earlier run into the same directory is removed, in either mark directory and under any name the
 * target had then (`root@fit01` beside `bob@fit01` in pass 1, `fit01` alone in pass 2), so each
 * target is marked once, with its latest result. The names of this run's targets are never removed.
 */
export async function writeMarks(
  directory: string,
  outcomes: readonly Outcome[],
  names: ReadonlyMap<Target, string>,
): Promise<void> {
  const ok = join(directory, '0ok');
  const failed = join(directory, '1failed');
  const current = new Set([...names.values()].map(asFileName));
  // every target is marked that can be: one mark that cannot be written stops none of the others
  let first: unknown;
  for (const outcome of outcomes) {
    try {
      await markOne(outcome);
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) {
    throw new Error(`cannot write every --mark in ${directory}: ${messageOf(first)}`, { cause: first });
  }

  async function markOne(outcome: Outcome): Promise<void> {
    const name = asFileName(names.get(outcome.target) ?? outcome.target.host.alias);
    const succeeded = outcome.status === 'succeeded';
    const [into, other] = succeeded ? [ok, failed] : [failed, ok];
    const earlier = earlierNameForms(outcome.target, current).map(asFileName);
    await mkdir(into, { recursive: true });
    await Promise.all([
      rm(join(other, name), { force: true }),
      ...earlier.flatMap((form) => [
        rm(join(into, form), { force: true }),
        rm(join(other, form), { force: true }),
      ]),
    ]);
    await writeFile(join(into, name), markText(outcome));
  }
}
