/**
 * `--mark` files across passes, in-process: the names of targets change with the targets beside
 * them (a clash adds the user), and a pass must not leave an earlier pass's mark of the same
 * target behind under its other name.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshNode } from '@jobgraph/ssh';
import { afterAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../src/cli/fanout.js';
import { writeMarks } from '../src/cli/marks.js';
import { parseTargets } from '../src/targets/grammar.js';
import { targetNames } from '../src/targets/names.js';
import { resolveTargets, type Target } from '../src/targets/resolve.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function pass(directory: string, text: string, exitCodes: Record<string, number>): Promise<void> {
  const { selected } = await resolveTargets(parseTargets(text), [], { login: 'root' });
  const names = targetNames(selected);
  const outcomes: Outcome[] = selected.map((target: Target) => {
    const result = exitCodes[names.get(target) ?? ''];
    if (result === undefined) throw new Error(`no exit code given for ${names.get(target)}`);
    return {
      target,
      node: undefined as unknown as SshNode, // marks never look at the node
      status: result === 0 ? 'succeeded' : 'failed',
      result,
      error: undefined,
    };
  });
  await writeMarks(directory, outcomes, names);
}

async function marks(directory: string): Promise<Record<string, string[]>> {
  const list = async (sub: string) => (await readdir(join(directory, sub)).catch(() => [])).sort();
  return { ok: await list('0ok'), failed: await list('1failed') };
}

describe('writeMarks', () => {
  it('a second pass on fewer targets replaces the first pass mark kept under a longer name', async () => {
    const out = await mkdtemp(join(tmpdir(), 'jobgraph-marks-'));
    temps.push(out);
    // pass 1: root's and bob's fit01 clash on "fit01": both get their user
    await pass(out, 'fit01 bob@fit01 fit02', { 'root@fit01': 1, 'bob@fit01': 0, fit02: 0 });
    expect(await marks(out)).toEqual({ ok: ['bob@fit01', 'fit02'], failed: ['root@fit01'] });
    // pass 2 on root's alone: now named fit01; its mark moves, root@fit01 does not linger
    await pass(out, 'root@fit01', { fit01: 0 });
    expect(await marks(out)).toEqual({ ok: ['bob@fit01', 'fit01', 'fit02'], failed: [] });
    expect(await readFile(join(out, '0ok', 'fit01'), 'utf8')).toBe('0\n');
  });

  it('a command with no exit code (a signal) is marked failed with why, not -1', async () => {
    const out = await mkdtemp(join(tmpdir(), 'jobgraph-marks-'));
    temps.push(out);
    await pass(out, 'fit01', { fit01: -1 });
    expect(await readFile(join(out, '1failed', 'fit01'), 'utf8')).toBe(
      'failed: ended by a signal, or lost its connection\n',
    );
  });

  it("never removes the mark of another target of the same run that holds one of this one's names", async () => {
    const out = await mkdtemp(join(tmpdir(), 'jobgraph-marks-'));
    temps.push(out);
    // fit01 direct and gw->fit01 clash up to "root@fit01"; the direct one keeps that name, the
    // gatewayed one's other forms include it and must not delete it
    await pass(out, 'fit01 gw->fit01', { 'root@fit01': 0, 'root@gw->root@fit01': 1 });
    expect(await marks(out)).toEqual({ ok: ['root@fit01'], failed: ['root@gw->root@fit01'] });
  });
});

describe('the file names of targets', () => {
  it("keep clear of the other targets' stderr files and of the mark directories", async () => {
    const { selected } = await resolveTargets(parseTargets('a,a.err,0ok,1failed,b'), [], { login: 'root' });
    const byTarget = targetNames(selected);
    const names = selected.map((target) => byTarget.get(target));
    // `a.err` was a's stderr file (the two streams mixed, or lost), `0ok` a mark directory (EEXIST)
    expect(names).toEqual(['a', 'root@a.err', 'root@0ok', 'root@1failed', 'b']);
    const files = names.flatMap((name) => [name, `${name}.err`]);
    expect(new Set(files).size).toBe(files.length);
  });
});
