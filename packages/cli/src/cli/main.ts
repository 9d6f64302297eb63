/**
 * The `jobgraph` command: `ssh`, `push` and `pull` on many hosts, `run` and `graph` on scenario
 * files, `report` from a run's log. Sets process.exitCode; exits itself only when something still
 * holds the process a second after the command ended.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { rewriteApsshOptions } from './apssh-aliases.js';
import { EXIT } from './exit-codes.js';
import { addFanoutCommands } from './fanout-commands.js';
import { OUTPUT_CLOSED } from './interrupt.js';
import type { Io } from './run.js';
import { handleSuspend } from './suspend.js';

/** The version of @jobgraph/cli (the same path from src/cli and dist/cli). */
export function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const varOption = () =>
  new Option('--var <name=value>', 'a template variable (repeatable); `a.b=v` sets a nested one').argParser(
    collect,
  );
const debugOption = () => new Option('-D, --debug', 'show stack traces on errors');

/** The commander program; `done(code)` receives each command's exit code. */
export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('jobgraph')
    .description('jobgraph: run commands on many hosts over SSH, and job graphs described in scenario files')
    // `jobgraph ssh -t h ls -l`: options after the command's first word belong to the command
    .enablePositionalOptions()
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are reported by main(), one line.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Examples:
  jobgraph ssh -t fit[01-37] -g inria_r2lab@faraday.inria.fr uname -a
  jobgraph push -t fit[01-37] -g faraday setup.sh @:/tmp/
  jobgraph pull -t fit[01-37] -g faraday @:/var/log/syslog logs/{host}.log
  jobgraph run experiment.yaml --var nodes='[fit01,fit02]' --var gateway.hostname=faraday.inria.fr
  jobgraph run experiment.yaml --dry-run
  jobgraph graph experiment.yaml -o experiment.svg`,
    );

  program
    .command('run')
    .description('run a scenario file, print its debrief; exit 0 iff it succeeded')
    .argument('<scenario>', 'a scenario file (.yaml, or .yaml.j2 for a Jinja template)')
    .addOption(varOption())
    .option('-n, --dry-run', 'print the plan (jobs, nodes, commands) without connecting')
    .option('--graph <file>', 'write the job graph after the run (.svg, .png or .dot)')
    .option('--topology <file>', 'write the SSH topology (.svg, .png or .dot)')
    .option(
      '--report <dir>',
      'after the run (even a failed or interrupted one), write a report into DIR: report.json, report.md, events.jsonl, output/, debrief.txt, jobs.svg, topology.svg',
    )
    .option(
      '--log <file>',
      'write every event of the run to FILE as JSON Lines while it runs (schema: docs/events.schema.json)',
    )
    .option('--log-output', "add the commands' output lines to the --log (off: output may hold secrets)")
    .option(
      '--resume <log>',
      'run only what the run logged in LOG (its --log) did not achieve: the jobs that failed, were cancelled or never ran',
    )
    .option('-v, --verbose', 'print the progress of the jobs on stderr (no live view then)')
    .option(
      '--no-live',
      'plain lines instead of the live view (also without a terminal, NO_COLOR, CI=true, TERM=dumb)',
    )
    .option(
      '--live-lines <n>',
      'in the live view, the last N lines of output under each running job (default 1: the last one, on its line)',
    )
    .addOption(debugOption())
    .addHelpText(
      'after',
      `
On a terminal, the run is shown live: a summary bar, one line per running job (its node, for how
long, its last line of output), the failures with their error; the commands' output is not printed
then (keep it with --log FILE --log-output, or --report DIR).

Exit code: 0 when the run succeeded, 1 when it failed, 2 for a bad command line or scenario,
130 when interrupted with Ctrl-C (the jobs are cancelled and their remote processes killed);
SIGTERM and SIGHUP do the same, with 143 and 129.
A --log or --report path that cannot be written is an error (2) before the run starts; one that
fails later turns a success into 1, and leaves the other codes as they are.

Examples:
  jobgraph run experiment.yaml
  jobgraph run experiment.yaml.j2 --var nodes='[fit01,fit02]' --var nodes_count=2 --var debug=true
  jobgraph run experiment.yaml --var nodes.amf=fit01 --dry-run
  jobgraph run experiment.yaml -v --graph run.svg --topology topology.png
  jobgraph run experiment.yaml --report reports/$(date +%Y%m%d-%H%M%S)
  jobgraph run experiment.yaml --log run.jsonl
  jobgraph run experiment.yaml --resume run.jsonl --log run2.jsonl`,
    )
    .action(async (scenario: string, raw: unknown) => {
      // loaded when used: `jobgraph ssh` need not pay for YAML, nunjucks and the scenario schema
      const [{ runCommand }, { runOptions }] = await Promise.all([
        import('./run.js'),
        import('./options.js'),
      ]);
      done(await runCommand(scenario, runOptions(raw), io));
    });

  program
    .command('graph')
    .description('write the job graph (or the SSH topology) of a scenario file, without running it')
    .argument('<scenario>', 'a scenario file (.yaml, or .yaml.j2 for a Jinja template)')
    .requiredOption('-o, --output <file>', 'the file to write: .svg, .png or .dot')
    .option('--topology', 'write the SSH topology (nodes and gateways) instead of the jobs')
    .addOption(varOption())
    .addOption(debugOption())
    .addHelpText(
      'after',
      `
Examples:
  jobgraph graph experiment.yaml -o experiment.svg
  jobgraph graph experiment.yaml.j2 --var nodes='[fit01,fit02]' -o experiment.png
  jobgraph graph experiment.yaml --topology -o topology.dot`,
    )
    .action(async (scenario: string, raw: unknown) => {
      const [{ graphCommand }, { graphOptions }] = await Promise.all([
        import('./graph.js'),
        import('./options.js'),
      ]);
      done(await graphCommand(scenario, graphOptions(raw), io));
    });

  program
    .command('report')
    .description('write the report page (timeline, job graph, details) of a run from its event log')
    .argument('<log>', "the event log of a run: its --log FILE.jsonl, or a --report directory's events.jsonl")
    .option('-o, --output <file>', "the page to write (default: the log's name with .html)")
    .addOption(debugOption())
    .addHelpText(
      'after',
      `
The page is one self-contained HTML file (nothing is fetched when it is viewed). A log line that is
not an event (a cut or edited file) is an error naming the line.

Examples:
  jobgraph run experiment.yaml --log run.jsonl --log-output; jobgraph report run.jsonl
  jobgraph report reports/today/events.jsonl -o today.html`,
    )
    .action(async (log: string, raw: { output?: string }) => {
      const { reportCommand } = await import('./report-command.js');
      done(await reportCommand(log, raw.output, io));
    });

  addFanoutCommands(program, io, done);

  // Every subcommand stops on errors the same way (exitOverride is not inherited by configure).
  for (const command of program.commands) {
    command
      .version(version(), '-V, --version', 'print the version')
      .exitOverride()
      .configureOutput(program.configureOutput())
      .showSuggestionAfterError(true);
  }
  return program;
}

/** Runs `jobgraph` with `argv` (without node and the script). @returns the exit code */
export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  const debug = argv.includes('-D') || argv.includes('--debug');
  let code: number = EXIT.ok;
  try {
    await buildProgram(io, (result) => {
      code = result;
    }).parseAsync(rewriteApsshOptions(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return EXIT.ok;
    // No command given: commander has printed the help on stderr.
    if (error instanceof CommanderError && error.code === 'commander.help') return EXIT.usage;
    // loaded here: it loads @jobgraph/core (ScenarioError), which `jobgraph --help` need not pay for
    const { exitCodeOf, reportError } = await import('./errors.js');
    reportError(error, io.stderr, debug);
    return exitCodeOf(error);
  }
  return code;
}

/** How long the process may stay after the command ended, for what it still has in hand, in ms. */
const LEFTOVER_GRACE_MS = 1_000;

function defaultIo(): Io {
  // Ctrl-Z stops the whole job once the live view has cleaned the screen (suspend.ts)
  handleSuspend();
  // `jobgraph ssh -t … 'yes' | head -2`: a reader that goes away must not crash the command with
  // an unhandled EPIPE; what is left to print is dropped, and the run stops as `ssh … | head`
  // does (jobs cancelled, remote processes killed, exit 141): it went on at full CPU, for good.
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' || closed) return;
    closed = true;
    process.emit(OUTPUT_CLOSED as 'SIGPIPE');
  });
  process.stderr.on('error', () => {});
  return { stdout: process.stdout, stderr: process.stderr, process };
}

process.exitCode = await main(process.argv.slice(2));
// Everything the command does is done: what could still keep the process alive is a leftover
// (a host name lookup queued in libuv's thread pool for minutes when DNS is slow). Leave a
// moment for the loop to end by itself, then leave; the timer itself keeps nothing alive.
setTimeout(() => process.exit(), LEFTOVER_GRACE_MS).unref();
