/**
 * `jobgraph ssh -t TARGET… COMMAND…`: apssh. One command (or script) on every target, through
 * gateways, its output per host on the terminal or in files, `--mark` for a second pass; the
 * command's stdin, encoding, idle timeout, per-target arguments and sudo. Every target is a host
 * of one Fleet, which runs the command on all of them (ssh-fleet.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import {
  type Formatter,
  type HostArg,
  HostFormatter,
  RawFormatter,
  SubdirFormatter,
  shellQuote,
  strftime,
  TerminalFormatter,
  TimeHostFormatter,
} from '@jobgraph/ssh';
import { earlierNameForms, targetNames } from '../targets/names.js';
import { type Target, targetText } from '../targets/resolve.js';
import { DecodedOutput } from './decoded-output.js';
import { messageOf, UsageError } from './errors.js';
import {
  chooseKeys,
  dryRunText,
  errorLines,
  exitCodeOfFanout,
  listText,
  selectTargets,
  summaryLine,
} from './fanout.js';
import { writeMarks } from './marks.js';
import { NamedOutput } from './named-output.js';
import type { Io } from './run.js';
import { type CommandSettings, type FleetCommandPlan, runFleetFanout } from './ssh-fleet.js';
import { checkEncoding, readHostArgs, readStdinOption, readSudoPassword } from './ssh-inputs.js';
import { isScriptFile, readScript, scriptArguments, scriptPlan } from './ssh-script.js';
import { OptionReader, readTargetOptions, type TargetOptionValues, targetOptions } from './target-options.js';

/** The options of `jobgraph ssh`: the target options, then its own. */
interface SshOptions extends TargetOptionValues {
  readonly script: boolean;
  readonly include: string[];
  readonly raw: boolean;
  readonly time: boolean;
  readonly format: string | undefined;
  readonly outDir: string | undefined;
  readonly dateTime: boolean;
  readonly mark: boolean;
  /** `--stdin`: a file, or `-` for our own standard input. */
  readonly stdin: string | undefined;
  readonly encoding: string | undefined;
  /** In ms. */
  readonly idleTimeout: number | undefined;
  readonly hostArgs: string | undefined;
  /** `--sudo` (`--sudo-password-file` implies it). */
  readonly sudo: boolean;
  readonly sudoPasswordFile: string | undefined;
}

/** Reads and checks the options of `jobgraph ssh` (the first problem is a UsageError). */
function readSshOptions(raw: unknown): SshOptions {
  const reader = new OptionReader(raw);
  return {
    ...readTargetOptions(reader),
    script: reader.flag('script'),
    include: reader.list('include', '-i expects a file'),
    raw: reader.flag('raw'),
    time: reader.flag('time'),
    format: reader.text('format', '-f expects a format, e.g. "{host}: {linenl}"'),
    outDir: reader.text('outDir', '-o expects a directory'),
    dateTime: reader.flag('dateTime'),
    mark: reader.flag('mark'),
    stdin: reader.text('stdin', '--stdin expects a file, or - for the standard input'),
    encoding: reader.text('encoding', '--encoding expects an encoding, e.g. utf-8, latin1, utf-16le'),
    idleTimeout: reader.duration('idleTimeout', '--idle-timeout'),
    hostArgs: reader.text('hostArgs', '--host-args expects a YAML or JSON file'),
    sudo: reader.flag('sudo'),
    sudoPasswordFile: reader.text('sudoPasswordFile', '--sudo-password-file expects a file'),
  };
}

/** apssh's `-d` directory name: the minute the command started. */
export const DATED_DIR_FORMAT = '%Y-%m-%d@%H:%M';

/** The formatter the options ask for: -f > -r > --time > -d > -o > host-prefixed lines (apssh's precedence). */
function formatterOf(options: SshOptions, verbose: boolean, started: Date): Formatter | SubdirFormatter {
  if (options.format !== undefined) return new TerminalFormatter(options.format, { verbose });
  if (options.raw) return new RawFormatter({ verbose });
  if (options.time) return new TimeHostFormatter({ verbose });
  if (options.dateTime) return new SubdirFormatter(strftime(DATED_DIR_FORMAT, started), { verbose });
  if (options.outDir !== undefined) return new SubdirFormatter(options.outDir, { verbose });
  return new HostFormatter({ verbose });
}

const PLACEHOLDERS = new Set(['host', 'fqdn', 'user', 'time', 'line', 'linenl', 'nl']);

/** `-f`: only the placeholders a TerminalFormatter knows (a typo would print as written). */
function checkFormat(format: string | undefined): void {
  if (format === undefined) return;
  for (const [, name] of format.matchAll(/\{([^{}]*)\}/g)) {
    if (!PLACEHOLDERS.has(name ?? '')) {
      throw new UsageError(
        `-f ${format}: unknown placeholder {${name}}: expected {host}, {fqdn}, {user}, {time}, {line}, {linenl} or {nl}`,
      );
    }
  }
}

/**
 * An empty command (`''`, or only blanks) is a bad command line, said before anything runs
 * (Fleet would refuse it on every target); with `-s`, so is an empty first word: no file, no text.
 */
function checkNotEmpty(words: readonly string[], script: boolean): void {
  if (script) {
    if ((words[0] ?? '').trim() === '') {
      throw new UsageError(
        '-s: the script is empty: give a script file, or the script text, as the first word',
      );
    }
  } else if (words.join(' ').trim() === '') {
    throw new UsageError('empty command: give the command to run after the options');
  }
}

/** The output directory of -o or -d, made now: a file in its way is a bad command line, not lost output. */
async function makeOutputDirectory(directory: string, option: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST'
        ? 'a file of that name exists'
        : code === 'ENOTDIR'
          ? 'a file is in its way, where a directory should be'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`${option} ${directory}: cannot make the output directory: ${why}`);
  }
}

/** The command line of every target, a template of Fleet's with --host-args (`-s`: the arguments). */
function templateOf(words: readonly string[], options: SshOptions): string {
  return options.script ? scriptArguments(words.slice(1), true) : words.join(' ');
}

/** What every target runs: the words joined (the remote shell reads them), or a script. */
async function planOf(
  words: readonly string[],
  options: SshOptions,
  hostArgs: readonly HostArg[] | undefined,
): Promise<FleetCommandPlan> {
  if (!options.script) return { line: words.join(' '), hostArgs };
  const [first = '', ...args] = words;
  // Script arguments are quoted, so that "two three" stays one argument (apssh re-splits it).
  const plan = scriptPlan(await readScript(first, options.include), args, hostArgs !== undefined);
  return { ...plan, hostArgs };
}

/** The names keyed by node text, as the formatter sees nodes. */
function byNodeText(names: ReadonlyMap<Target, string>): Map<string, string> {
  return new Map([...names].map(([target, name]) => [targetText(target), name]));
}

/** What `-n` says would run: the command or script, how (sudo, stdin), and each target's arguments. */
function actionText(
  words: readonly string[],
  options: SshOptions,
  hostArgs: { file: string; args: readonly HostArg[]; targets: readonly Target[] } | undefined,
): string {
  const [first = '', ...args] = words;
  const kind = existsSync(first) ? `the script ${first}` : 'the script body given';
  const includes = options.include.length > 0 ? ` (with ${options.include.join(', ')})` : '';
  const shownArgs = args.map((arg) => shellQuote(arg)).join(' ');
  let text = options.script
    ? `${kind}${includes}${args.length > 0 ? ` with arguments ${shownArgs}` : ''}`
    : words.join(' ');
  if (options.sudo || options.sudoPasswordFile !== undefined) {
    text += options.sudoPasswordFile === undefined ? ', under sudo' : ', under sudo (password from a file)';
  }
  if (options.stdin !== undefined) {
    text += `, its input from ${options.stdin === '-' ? 'the standard input' : options.stdin}`;
  }
  if (hostArgs !== undefined) {
    text += `\nwith the arguments of ${hostArgs.file}:`;
    hostArgs.targets.forEach((target, index) => {
      text += `\n  ${targetText(target)}: ${JSON.stringify(hostArgs.args[index])}`;
    });
  }
  return text;
}

/** The Fleet options of the command: stdin read once, encoding, idle timeout, sudo. */
async function commandSettings(
  options: SshOptions,
  password: string | undefined,
  io: Io,
): Promise<CommandSettings> {
  const stdin = options.stdin === undefined ? undefined : await readStdinOption(options.stdin, stdinOf(io));
  // the password goes to Fleet, which feeds it to sudo through stdin: never into a command line
  const sudo = password !== undefined ? { password } : options.sudo ? true : undefined;
  return {
    ...(stdin === undefined ? {} : { stdin }),
    ...(sudo === undefined ? {} : { sudo }),
    ...(options.encoding === undefined ? {} : { encoding: options.encoding }),
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  };
}

/** Our standard input: the process's, unless the io gives its own (tests). */
function stdinOf(io: Io): NodeJS.ReadStream {
  return (io.process as Partial<NodeJS.Process>).stdin ?? process.stdin;
}

/** Runs `jobgraph ssh`. @returns the exit code */
export async function sshCommand(words: readonly string[], raw: unknown, io: Io): Promise<number> {
  const started = new Date();
  const parsed = readSshOptions(raw);
  const options = targetOptions(parsed);
  if (parsed.include.length > 0 && !parsed.script)
    throw new UsageError('-i (includes) goes with -s (script)');
  if (parsed.mark && parsed.outDir === undefined && !parsed.dateTime) {
    throw new UsageError('--mark writes into the output directory: give -o DIR or -d');
  }
  for (const include of parsed.include) {
    if (!existsSync(include)) throw new UsageError(`-i ${include}: no such file`);
  }
  checkFormat(parsed.format);
  checkEncoding(parsed.encoding);
  const selection = await selectTargets(options, io);
  if (options.listTargets) {
    io.stdout.write(listText(selection));
    return 0;
  }
  if (words.length === 0) throw new UsageError('no command: give the command to run after the options');
  checkNotEmpty(words, parsed.script);
  const names = targetNames(selection.selected);
  // read (and checked) before -n, which shows them; with no target left, -n says so
  const hostArgs =
    parsed.hostArgs === undefined || selection.selected.length === 0
      ? undefined
      : await readHostArgs(parsed.hostArgs, selection.selected, names, templateOf(words, parsed));
  const password =
    parsed.sudoPasswordFile === undefined ? undefined : await readSudoPassword(parsed.sudoPasswordFile);
  if (options.dryRun) {
    const shown =
      hostArgs === undefined || parsed.hostArgs === undefined
        ? undefined
        : { file: parsed.hostArgs, args: hostArgs, targets: selection.selected };
    io.stdout.write(dryRunText(selection, actionText(words, parsed, shown)));
    return 0;
  }
  if (selection.selected.length === 0) {
    throw new UsageError(`no target left: all ${selection.excluded.length} are excluded by -x`);
  }
  const keys = await chooseKeys(options, selection.selected);
  const plan = await planOf(words, parsed, hostArgs);
  const command = await commandSettings(parsed, password, io);
  const chosen = formatterOf(parsed, options.verbose, started);
  const subdir = chosen instanceof SubdirFormatter ? chosen : undefined;
  if (subdir !== undefined) {
    await makeOutputDirectory(subdir.runName, parsed.dateTime ? '-d' : '-o');
    // an earlier run's files of these targets go: one that this run does not reach would keep
    // them, and they would read as this run's
    await clearEarlierOutput(subdir, names);
  }
  const named = subdir === undefined ? chosen : new NamedOutput(subdir, byNodeText(names));
  const formatter = parsed.encoding === undefined ? named : new DecodedOutput(named);
  if (options.verbose) io.stderr.write(`jobgraph ssh: working on ${selection.selected.length} target(s)\n`);
  if (options.verbose && parsed.script && !isScriptFile(words[0])) {
    io.stderr.write(`jobgraph ssh: no file ${words[0] ?? ''}: its text is the script (RunString)\n`);
  }
  const result = await runFleetFanout(
    selection.selected,
    { plan, command, names, options, keys, formatter },
    io,
  );
  let code = exitCodeOfFanout(result);
  let marksFailed: unknown;
  if (subdir !== undefined) {
    io.stdout.write(`${subdir.runName}\n`);
    // a mark that cannot be written (a full disk) must not cost the summary
    if (parsed.mark)
      marksFailed = await writeMarks(subdir.runName, result.outcomes, names).catch((error) => error);
    // the formatter has said why on stderr; output that did not reach its files is not a success
    if (subdir.error !== undefined && code === 0) code = 1;
  }
  io.stderr.write(errorLines('ssh', result));
  io.stderr.write(summaryLine('ssh', result));
  if (marksFailed !== undefined) {
    io.stderr.write(`jobgraph: ${messageOf(marksFailed)}\n`);
    if (code === 0) code = 1;
  }
  return code;
}

/**
 * Removes the output files an earlier run into the same directory left for these targets: under
 * their names now, and under the names they had then (`root@fit01` beside `bob@fit01`) that no
 * target of this run holds.
 */
async function clearEarlierOutput(
  subdir: SubdirFormatter,
  names: ReadonlyMap<Target, string>,
): Promise<void> {
  const current = new Set(names.values());
  const stale = [...names].flatMap(([target, name]) => [name, ...earlierNameForms(target, current)]);
  await Promise.all(
    stale.flatMap((name) => [
      rm(subdir.outFile(name), { force: true }),
      rm(subdir.errFile(name), { force: true }),
    ]),
  );
}
