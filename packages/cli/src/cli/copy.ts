/**
 * `jobgraph push LOCAL… @:REMOTE` and `jobgraph pull @:REMOTE… LOCAL`: appush and appull. Paths
 * may hold `{host}`, `{fqdn}` and `{user}`, replaced for each target.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostFormatter, Pull, Push, shortenHostname } from '@jobgraph/ssh';
import { z } from 'zod';
import type { Target } from '../targets/resolve.js';
import { UsageError } from './errors.js';
import {
  chooseKeys,
  dryRunText,
  errorLines,
  exitCodeOfFanout,
  listText,
  type Outcome,
  runFanout,
  selectTargets,
  summaryLine,
} from './fanout.js';
import type { Io } from './run.js';
import { targetOptions, targetOptionsSchema, validate } from './target-options.js';

/** The options of push and pull besides the target options. */
export const copyOptionsSchema = targetOptionsSchema.extend({
  recursive: z.boolean().default(false),
  preserve: z.boolean().default(false),
});

const REMOTE = '@:';
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = ['host', 'fqdn', 'user'];

/** Checks the placeholders of a path: only {host}, {fqdn} and {user}. */
function checkPlaceholders(path: string): void {
  for (const [, name] of path.matchAll(PLACEHOLDER)) {
    if (!KNOWN.includes(name ?? '')) {
      throw new UsageError(`${path}: unknown placeholder {${name}}: expected {host}, {fqdn} or {user}`);
    }
  }
}

/** `path` for one target: {host} its short name, {fqdn} its full name, {user} its login. */
export function expandPath(path: string, target: Target): string {
  const values: Record<string, string> = {
    host: shortenHostname(target.host.hostname),
    fqdn: target.host.hostname,
    user: target.host.user,
  };
  return path.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** `@:logs/x` → `logs/x`; `@:` alone is the remote home. */
function remotePath(text: string): string {
  const path = text.slice(REMOTE.length);
  return path === '' ? '.' : path;
}

interface CopyPlan {
  readonly remotes: readonly string[];
  readonly locals: readonly string[];
}

/** Splits the arguments of push (`LOCAL… @:REMOTE`) or pull (`@:REMOTE… LOCAL`), checking each side. */
function planOf(mode: 'push' | 'pull', paths: readonly string[]): CopyPlan {
  const usage =
    mode === 'push'
      ? 'expected LOCAL… @:REMOTE (e.g. setup.sh @:/tmp/)'
      : 'expected @:REMOTE… LOCAL (e.g. @:/var/log/syslog logs/{host}.log)';
  if (paths.length < 2) throw new UsageError(`${mode} needs at least two paths: ${usage}`);
  const last = paths[paths.length - 1] as string;
  const first = paths.slice(0, -1);
  for (const path of paths) checkPlaceholders(path);
  if (mode === 'push') {
    if (!last.startsWith(REMOTE))
      throw new UsageError(`${last} is not remote: it should start with @: (${usage})`);
    const remote = first.find((path) => path.startsWith(REMOTE));
    if (remote !== undefined)
      throw new UsageError(`${remote}: only the last path is remote when pushing (${usage})`);
    return { remotes: [remotePath(last)], locals: first };
  }
  const local = first.find((path) => !path.startsWith(REMOTE));
  if (local !== undefined) throw new UsageError(`${local} is not remote: it should start with @: (${usage})`);
  if (last.startsWith(REMOTE))
    throw new UsageError(`${last}: the last path is local when pulling (${usage})`);
  return { remotes: first.map(remotePath), locals: [last] };
}

/**
 * A progress line on a terminal, `push: 12/40 done, 1 failed`, rewritten in place and erased at
 * the end (the summary line follows); nothing when stderr is not a terminal.
 */
export function progressReporter(
  mode: string,
  stderr: { isTTY?: boolean; write(text: string): unknown },
): ((outcome: Outcome, settled: number, total: number) => void) | undefined {
  if (stderr.isTTY !== true) return undefined;
  let failed = 0;
  return (outcome, settled, total) => {
    if (outcome.status !== 'succeeded') failed++;
    const end = settled === total ? '\r\u001b[K' : '';
    stderr.write(
      `\r\u001b[K${mode}: ${settled}/${total} done${failed > 0 ? `, ${failed} failed` : ''}${end}`,
    );
  };
}

/** Runs `jobgraph push` or `jobgraph pull`. @returns the exit code */
export async function copyCommand(
  mode: 'push' | 'pull',
  paths: readonly string[],
  raw: unknown,
  io: Io,
): Promise<number> {
  const parsed = validate(copyOptionsSchema, raw);
  const options = targetOptions(parsed);
  const selection = await selectTargets(options);
  if (options.listTargets) {
    io.stdout.write(listText(selection));
    return 0;
  }
  const plan = planOf(mode, paths);
  const perHost = /\{(host|fqdn)\}/;
  if (mode === 'pull' && selection.selected.length > 1 && !perHost.test(plan.locals[0] ?? '')) {
    throw new UsageError(
      `pulling from ${selection.selected.length} targets into ${plan.locals[0]} would overwrite one host's files with another's: ` +
        'put {host} or {fqdn} in the local path (e.g. logs/{host}/)',
    );
  }
  const transfer = { recurse: parsed.recursive, preserve: parsed.preserve };
  const command = (target: Target) =>
    mode === 'push'
      ? new Push(
          plan.locals.map((path) => expandPath(path, target)),
          expandPath(plan.remotes[0] as string, target),
          transfer,
        )
      : new Pull(
          plan.remotes.map((path) => expandPath(path, target)),
          expandPath(plan.locals[0] as string, target),
          transfer,
        );
  if (options.dryRun) {
    const action =
      mode === 'push'
        ? `push ${plan.locals.join(' ')} to ${plan.remotes[0]}`
        : `pull ${plan.remotes.join(' ')} into ${plan.locals[0]}`;
    io.stdout.write(dryRunText(selection, action));
    return 0;
  }
  if (selection.selected.length === 0) {
    throw new UsageError(`no target left: all ${selection.excluded.length} are excluded by -x`);
  }
  if (mode === 'pull') {
    // the local directories the copies go into: `logs/{host}/` is made for each host
    for (const target of selection.selected) {
      const local = expandPath(plan.locals[0] as string, target);
      await mkdir(local.endsWith('/') || plan.remotes.length > 1 ? local : dirname(local), {
        recursive: true,
      });
    }
  }
  const keys = await chooseKeys(options, selection.selected);
  const formatter = new HostFormatter({ verbose: options.verbose });
  const result = await runFanout(
    selection.selected,
    { command, options, keys, formatter, onSettled: progressReporter(mode, io.stderr) },
    io,
  );
  io.stderr.write(errorLines(mode, result));
  io.stderr.write(summaryLine(mode, result));
  return exitCodeOfFanout(result);
}
