/**
 * `jobgraph ssh -t TARGET… COMMAND…`: apssh. One command (or script) on every target, through
 * gateways, its output per host on the terminal or in files, `--mark` for a second pass.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import {
  type Formatter,
  HostFormatter,
  RawFormatter,
  Run,
  RunScript,
  RunString,
  SubdirFormatter,
  shellQuote,
  strftime,
  TerminalFormatter,
  TimeHostFormatter,
} from '@jobgraph/ssh';
import { targetNames } from '../targets/names.js';
import { type Target, targetText } from '../targets/resolve.js';
import { UsageError } from './errors.js';
import {
  chooseKeys,
  dryRunText,
  errorLines,
  exitCodeOfFanout,
  listText,
  runFanout,
  selectTargets,
  summaryLine,
} from './fanout.js';
import { writeMarks } from './marks.js';
import { NamedOutput } from './named-output.js';
import type { Io } from './run.js';
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

/** The output directory of -o or -d, made now: a file in its way is a bad command line, not lost output. */
async function makeOutputDirectory(directory: string, option: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'EEXIST'
        ? 'a file of that name exists'
        : (error as Error).message;
    throw new UsageError(`${option} ${directory}: cannot make the output directory: ${why}`);
  }
}

/** The command each target runs: the words joined (the remote shell reads them), or a script. */
function commandOf(words: readonly string[], options: SshOptions) {
  if (!options.script) return () => new Run(words.join(' '));
  const [first = '', ...args] = words;
  // Script arguments are quoted, so that "two three" stays one argument (apssh re-splits it).
  const quoted = args.map((arg) => shellQuote(arg));
  const includes = { includes: options.include };
  const isFile = isScriptFile(first);
  return isFile ? () => new RunScript(first, quoted, includes) : () => new RunString(first, quoted, includes);
}

function isScriptFile(word: string | undefined): boolean {
  return word !== undefined && existsSync(word) && statSync(word).isFile();
}

/** The names keyed by node text, as the formatter sees nodes. */
function byNodeText(names: ReadonlyMap<Target, string>): Map<string, string> {
  return new Map([...names].map(([target, name]) => [targetText(target), name]));
}

/** What `-n` says would run. */
function actionText(words: readonly string[], options: SshOptions): string {
  if (!options.script) return words.join(' ');
  const [first = '', ...args] = words;
  const kind = existsSync(first) ? `the script ${first}` : 'the script body given';
  const includes = options.include.length > 0 ? ` (with ${options.include.join(', ')})` : '';
  return `${kind}${includes}${args.length > 0 ? ` with arguments ${args.map((arg) => shellQuote(arg)).join(' ')}` : ''}`;
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
  const selection = await selectTargets(options);
  if (options.listTargets) {
    io.stdout.write(listText(selection));
    return 0;
  }
  if (words.length === 0) throw new UsageError('no command: give the command to run after the options');
  if (options.dryRun) {
    io.stdout.write(dryRunText(selection, actionText(words, parsed)));
    return 0;
  }
  if (selection.selected.length === 0) {
    throw new UsageError(`no target left: all ${selection.excluded.length} are excluded by -x`);
  }
  const keys = await chooseKeys(options, selection.selected);
  const chosen = formatterOf(parsed, options.verbose, started);
  const names = targetNames(selection.selected);
  const subdir = chosen instanceof SubdirFormatter ? chosen : undefined;
  if (subdir !== undefined) await makeOutputDirectory(subdir.runName, parsed.dateTime ? '-d' : '-o');
  const formatter = subdir === undefined ? chosen : new NamedOutput(subdir, byNodeText(names));
  if (options.verbose) io.stderr.write(`jobgraph ssh: working on ${selection.selected.length} target(s)\n`);
  if (options.verbose && parsed.script && !isScriptFile(words[0])) {
    io.stderr.write(`jobgraph ssh: no file ${words[0] ?? ''}: its text is the script (RunString)\n`);
  }
  const result = await runFanout(
    selection.selected,
    { command: commandOf(words, parsed), options, keys, formatter },
    io,
  );
  let code = exitCodeOfFanout(result);
  if (subdir !== undefined) {
    io.stdout.write(`${subdir.runName}\n`);
    if (parsed.mark) await writeMarks(subdir.runName, result.outcomes, names);
    // the formatter has said why on stderr; output that did not reach its files is not a success
    if (subdir.error !== undefined && code === 0) code = 1;
  }
  io.stderr.write(errorLines('ssh', result));
  io.stderr.write(summaryLine('ssh', result));
  return code;
}
