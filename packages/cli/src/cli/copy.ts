/**
 * `jobgraph push LOCAL… @:REMOTE` and `jobgraph pull @:REMOTE… LOCAL`: appush and appull. Paths
 * may hold `{host}`, `{fqdn}`, `{user}` and `{port}`, replaced for each target.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  type CommandContext,
  type CommandResult,
  HostFormatter,
  Pull,
  Push,
  SshError,
  SshErrorCode,
  shortenHostname,
} from '@jobgraph/ssh';
import { type Target, targetText } from '../targets/resolve.js';
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
import { OptionReader, readTargetOptions, targetOptions } from './target-options.js';

/**
 * A Pull that first makes its local directory (`logs/{host}/` for each host): one that cannot be
 * made (a file in the way) fails that target alone, with the others pulled as usual.
 */
class PullIntoDirectory extends Pull {
  readonly #directory: string;

  constructor(
    remotes: string[],
    local: string,
    directory: string,
    options: { recurse: boolean; preserve: boolean },
  ) {
    super(remotes, local, options);
    this.#directory = directory;
  }

  override async execute(ctx: CommandContext): Promise<CommandResult> {
    try {
      await mkdir(this.#directory, { recursive: true });
    } catch (error) {
      const why =
        (error as { code?: string }).code === 'ENOTDIR' || (error as { code?: string }).code === 'EEXIST'
          ? 'a file is in the way'
          : error instanceof Error
            ? error.message
            : String(error);
      throw new SshError(
        SshErrorCode.LOCAL_FILE,
        `cannot make the local directory ${this.#directory}: ${why}`,
        {
          cause: error,
        },
      );
    }
    return super.execute(ctx);
  }
}

/** Reads and checks the options of push and pull: the target options, then their own. */
function readCopyOptions(raw: unknown) {
  const reader = new OptionReader(raw);
  return {
    ...readTargetOptions(reader),
    recursive: reader.flag('recursive'),
    preserve: reader.flag('preserve'),
  };
}

const REMOTE = '@:';
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = ['host', 'fqdn', 'user', 'port'];

/** Checks the placeholders of a path: only {host}, {fqdn}, {user} and {port}. */
function checkPlaceholders(path: string): void {
  for (const [, name] of path.matchAll(PLACEHOLDER)) {
    if (!KNOWN.includes(name ?? '')) {
      throw new UsageError(
        `${path}: unknown placeholder {${name}}: expected {host}, {fqdn}, {user} or {port}`,
      );
    }
  }
}

/**
 * `path` for one target: {host} the short name of the host as written (an ssh config alias stays
 * the alias), {fqdn} the full host name it stands for, {user} its login, {port} its port.
 */
export function expandPath(path: string, target: Target): string {
  const values: Record<string, string> = {
    host: shortenHostname(target.host.alias),
    fqdn: target.host.hostname,
    user: target.host.user,
    port: String(target.host.port),
  };
  return path.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** `@:logs/x` → `logs/x`; `@:` alone (or `@:~`) is the remote home, `@:~/x` is `x` in it. */
function remotePath(text: string): string {
  const path = text.slice(REMOTE.length);
  if (path === '' || path === '~' || path === '~/') return '.';
  return path.startsWith('~/') ? path.slice(2) : path;
}

/**
 * Pulls that would write two sources into one local file: two targets whose local paths expand
 * alike, or two remote paths of one name into one directory. Nothing is overwritten in silence.
 */
function checkPullCollisions(plan: CopyPlan, targets: readonly Target[]): void {
  const local = plan.locals[0] as string;
  const owners = new Map<string, Target>();
  for (const target of targets) {
    const path = expandPath(local, target);
    const other = owners.get(path);
    if (other !== undefined) {
      // suggest what tells these two apart, if a placeholder can
      const apart =
        other.host.hostname !== target.host.hostname
          ? 'put {fqdn} in the local path too'
          : other.host.user !== target.host.user
            ? 'put {user} in the local path too'
            : other.host.port !== target.host.port
              ? 'put {port} in the local path too'
              : 'they reach the same host by different routes: pull from one of them';
      throw new UsageError(
        `${targetText(other)} and ${targetText(target)} would both pull into ${path}: ${apart}`,
      );
    }
    owners.set(path, target);
  }
  if (plan.remotes.length < 2) return;
  const seen = new Map<string, string>();
  for (const remote of plan.remotes) {
    const name = basename(remote.replace(/\/+$/, ''));
    const other = seen.get(name);
    if (other !== undefined) {
      throw new UsageError(
        `${other} and ${remote} have the same name: pulled into ${local} together, one would overwrite the other`,
      );
    }
    seen.set(name, remote);
  }
}

/** The Pull of one target, into its local directory (`logs/{host}/`), made before it copies. */
function pullInto(plan: CopyPlan, target: Target, transfer: { recurse: boolean; preserve: boolean }): Pull {
  const local = expandPath(plan.locals[0] as string, target);
  const directory = local.endsWith('/') || plan.remotes.length > 1 ? local : dirname(local);
  return new PullIntoDirectory(
    plan.remotes.map((path) => expandPath(path, target)),
    local,
    directory,
    transfer,
  );
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

/** What {@link progressReporter} gives: the progress callback, and stderr for every other line. */
export interface ProgressLine<S> {
  readonly onSettled: ((outcome: Outcome, settled: number, total: number) => void) | undefined;
  /**
   * stderr, erasing the progress line before anything else is written there and drawing it again
   * after a whole line (written straight, a message was glued to it: `push: 1/3 done^Cjobgraph:
   * interrupted…`, or a -v event line).
   */
  readonly stderr: S;
}

/**
 * A progress line on a terminal, `push: 12/40 done, 1 failed`, rewritten in place and erased at
 * the end (the summary line follows); nothing when stderr is not a terminal.
 */
export function progressReporter<
  S extends { isTTY?: boolean; write(text: string, ...rest: never[]): unknown },
>(mode: string, stderr: S): ProgressLine<S> {
  if (stderr.isTTY !== true) return { onSettled: undefined, stderr };
  let failed = 0;
  /** The progress text on the screen now, '' when none is. */
  let shown = '';
  const write = (text: string) => stderr.write(text);
  const shared = new Proxy(stderr, {
    get(target, property) {
      if (property === 'write') {
        return (chunk: string, ...rest: never[]) => {
          const redraw = shown;
          if (redraw !== '') write('\r\u001b[K');
          const result = target.write(chunk, ...rest);
          if (redraw !== '' && String(chunk).endsWith('\n')) write(redraw);
          else shown = '';
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const onSettled = (outcome: Outcome, settled: number, total: number) => {
    if (outcome.status !== 'succeeded') failed++;
    const text = `${mode}: ${settled}/${total} done${failed > 0 ? `, ${failed} failed` : ''}`;
    shown = settled === total ? '' : text;
    write(`\r\u001b[K${text}${settled === total ? '\r\u001b[K' : ''}`);
  };
  return { onSettled, stderr: shared };
}

/** Runs `jobgraph push` or `jobgraph pull`. @returns the exit code */
export async function copyCommand(
  mode: 'push' | 'pull',
  paths: readonly string[],
  raw: unknown,
  io: Io,
): Promise<number> {
  const parsed = readCopyOptions(raw);
  const options = targetOptions(parsed);
  const selection = await selectTargets(options, io);
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
  if (mode === 'pull') checkPullCollisions(plan, selection.selected);
  const transfer = { recurse: parsed.recursive, preserve: parsed.preserve };
  const command = (target: Target) =>
    mode === 'push'
      ? new Push(
          plan.locals.map((path) => expandPath(path, target)),
          expandPath(plan.remotes[0] as string, target),
          transfer,
        )
      : pullInto(plan, target, transfer);
  if (options.dryRun) {
    const action = (expand: (path: string) => string) =>
      mode === 'push'
        ? `push ${plan.locals.map(expand).join(' ')} to ${expand(plan.remotes[0] as string)}`
        : `pull ${plan.remotes.map(expand).join(' ')} into ${expand(plan.locals[0] as string)}`;
    const perTarget = paths.some((path) => /\{(host|fqdn|user|port)\}/.test(path));
    if (!perTarget)
      io.stdout.write(
        dryRunText(
          selection,
          action((path) => path),
        ),
      );
    else {
      const lines = selection.selected.map(
        (target) => `  ${targetText(target)}: ${action((path) => expandPath(path, target))}\n`,
      );
      io.stdout.write(`${dryRunText(selection, 'on each target')}${lines.join('')}`);
    }
    return 0;
  }
  if (selection.selected.length === 0) {
    throw new UsageError(`no target left: all ${selection.excluded.length} are excluded by -x`);
  }
  const keys = await chooseKeys(options, selection.selected);
  const progress = progressReporter(mode, io.stderr);
  const shared = { ...io, stderr: progress.stderr };
  const formatter = new HostFormatter({
    verbose: options.verbose,
    stderr: (text) => progress.stderr.write(text),
  });
  const result = await runFanout(
    selection.selected,
    { command, options, keys, formatter, onSettled: progress.onSettled },
    shared,
  );
  shared.stderr.write(errorLines(mode, result));
  shared.stderr.write(summaryLine(mode, result));
  return exitCodeOfFanout(result);
}
