/**
 * `jobgraph run SCENARIO`: runs a scenario (or prints its plan with `--dry-run`), prints the debrief,
 * writes the graphs and the report asked for. Ctrl-C aborts the run: jobs cancelled, remote
 * processes killed, connections closed, exit code 130 (SIGTERM and SIGHUP alike: 143, 129).
 */
import { fstatSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type AbstractJob, attachVerboseRenderer, labelOf } from '@jobgraph/core';
import { type AbstractCommand, attachSshEvents, Pull, Push, Run, RunScript, RunString } from '@jobgraph/ssh';
import { planOf } from '../report/plan.js';
import type { LoadedScenario } from '../scenario/load.js';
import { EXIT, reportError } from './errors.js';
import { EventLog } from './event-log.js';
import { CLI_SHUTDOWN_TIMEOUT_MS, onInterrupt } from './interrupt.js';
import { attachLiveView, liveViewWanted } from './live-view.js';
import type { RunOptions } from './options.js';
import { lockOutput } from './output-lock.js';
import { checkOutputFile, checkOutputsApart, checkReportDir, realTarget } from './output-paths.js';
import { writeJobGraph, writeTopology } from './pictures.js';
import { type RunEnd, RunRecorder } from './report.js';
import { resumeFrom } from './resume.js';
import { closeAll, load } from './scenario.js';
import { colours } from './terminal.js';

/** Where a command writes, and the process it may listen to for Ctrl-C. */
/** How long a process leaving at once (a second Ctrl-C) may spend writing out its log and report files. */
const LEAVE_WRITE_MS = 3_000;

export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly process: NodeJS.EventEmitter;
}

/** The plan of a scenario: every job, its node chain, its commands as they render now. */
export function planText(scenario: LoadedScenario, paint = colours({})): string {
  const lines: string[] = [];
  const label = scenario.scheduler.label;
  lines.push(
    `${label === undefined ? 'scenario' : `scenario "${label}"`}: ${scenario.jobs.size} job(s) on ${scenario.nodes.size} node(s)`,
  );
  for (const [id, job] of scenario.jobs) {
    lines.push('');
    lines.push(`${paint.bold(`job ${id}`)}: ${labelOf(job)}`);
    lines.push(`  node: ${job.node.toString()}`);
    const required = [...job.required].map((other) => idOf(scenario, other)).filter((name) => name !== '');
    if (required.length > 0) lines.push(`  requires: ${required.join(', ')}`);
    for (const [offset, command] of job.commands.entries()) {
      // labelLine() shows Deferred words leniently: a missing `{{ name }}` stays visible.
      const text = command.labelLine();
      const type = command.constructor.name;
      lines.push(`  ${offset + 1}. ${text.startsWith(`${type}:`) ? text : `${type}: ${text}`}`);
      for (const detail of commandDetails(command)) lines.push(`       ${detail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What a command's one-line label leaves out: a RunString's whole body (as it renders now), a
 * script's path and includes, every path of a transfer, the names of the environment (not their
 * values, which may be secrets), the variable a capture fills.
 */
function commandDetails(command: AbstractCommand): string[] {
  const details: string[] = [];
  if (command instanceof RunString) {
    details.push('body:');
    for (const line of String(command.body).replace(/\n$/, '').split('\n')) details.push(`| ${line}`);
  }
  if (command instanceof RunScript) details.push(`script: ${command.localScript}`);
  if ((command instanceof RunScript || command instanceof RunString) && command.includes.length > 0) {
    details.push(`includes: ${command.includes.join(', ')}`);
  }
  if (command instanceof Push)
    details.push(`from: ${command.localPaths.join(', ')}`, `to: ${command.remotePath}`);
  if (command instanceof Pull)
    details.push(`from: ${command.remotePaths.join(', ')}`, `to: ${command.localPath}`);
  if (command instanceof Run && command.env !== undefined && Object.keys(command.env).length > 0) {
    details.push(`env: ${Object.keys(command.env).join(', ')} (values not shown)`);
  }
  if (command.capture !== undefined) details.push(`captures: ${command.capture.varname}`);
  return details;
}

function idOf(scenario: LoadedScenario, job: unknown): string {
  for (const [id, other] of scenario.jobs) if (other === job) return id;
  return '';
}

/** Runs `file`. @returns the exit code */
export async function runCommand(file: string, options: RunOptions, io: Io): Promise<number> {
  // a log written to the terminal itself (--log /dev/stderr) would be drawn over by the frames
  const live =
    !options.dryRun && liveViewWanted(io.stdout, process.env, options) && !isTerminal(options.log, io);
  // with the live view, the nodes print nothing: it shows their output itself
  let scenario = await load(file, options.variables, { quiet: live });
  let resumed: string[] | undefined;
  if (options.resume !== undefined) {
    try {
      ({ scenario, done: resumed } = await resumeFrom(
        scenario,
        options.resume,
        (line) => io.stderr.write(`jobgraph: ${line}\n`),
        scenario.scheduler.label ?? basename(file),
      ));
    } catch (error) {
      await closeAll(scenario);
      throw error;
    }
    io.stdout.write(resumeLine(options.resume, resumed));
    if (scenario.jobs.size === 0) {
      io.stdout.write(`nothing to run: every job of ${file} is done in ${options.resume}\n`);
      await closeAll(scenario);
      return EXIT.ok;
    }
  }
  if (options.dryRun) {
    try {
      io.stdout.write(planText(scenario, colours(io.stdout)));
      if (options.graph !== undefined) await writeJobGraph(scenario.scheduler, options.graph);
      if (options.topology !== undefined) await writeTopology(scenario.scheduler, options.topology);
    } finally {
      await closeAll(scenario);
    }
    return EXIT.ok;
  }

  // the outputs asked for are checked before anything runs: a bad path fails now, not in an hour
  let log: EventLog | undefined;
  // two runs writing the same log or report at once would interleave them
  const locks: Array<() => void> = [];
  const unlock = () => {
    for (const release of locks.splice(0)) release();
  };
  try {
    checkOutputsApart(options.log, options.report, file);
    if (options.graph !== undefined) await checkOutputFile('--graph', options.graph);
    if (options.topology !== undefined) await checkOutputFile('--topology', options.topology);
    if (options.report !== undefined) {
      await checkReportDir(options.report);
      locks.push(lockOutput(join(options.report, '.jobgraph.lock'), `the report in ${options.report}`));
    }
    if (options.log !== undefined) {
      // a regular file (or one to make): a device or a pipe (/dev/stdout, a fifo) is no file to share
      // locked by its real name: two names of one file (a link) take one lock
      if (fileOrNone(options.log))
        locks.push(lockOutput(`${realTarget(options.log)}.lock`, `the log ${options.log}`));
      log = await EventLog.open(options.log, scenario, { output: options.logOutput });
    }
  } catch (error) {
    unlock();
    await closeAll(scenario);
    throw error;
  }
  const { scheduler } = scenario;
  const recorder =
    options.report === undefined ? undefined : RunRecorder.attach(scenario, file, options.report);
  // before run:start: a resume of this run's log knows what it left out
  if (resumed !== undefined && options.resume !== undefined) {
    scheduler.announce({ type: 'run:resume', from: options.resume, done: resumed });
  }
  // the jobs and their requirements, for a report made from the log alone (jobgraph report)
  const ids = new Map([...scenario.jobs].map(([id, job]) => [job as AbstractJob, id]));
  scheduler.announce({
    type: 'run:plan',
    title: scheduler.label ?? basename(file),
    jobs: planOf(scenario.jobs.values(), (job) => ids.get(job) ?? job.displayId),
  });
  const controller = new AbortController();
  // remote kills need more time than the library's default to be sent before the connections close
  scheduler.shutdownTimeout = CLI_SHUTDOWN_TIMEOUT_MS;
  const view =
    live && !options.verbose
      ? attachLiveView(scheduler, {
          stream: io.stdout,
          lines: options.liveLines,
          idOf: (job) => ids.get(job),
        })
      : undefined;
  const stopRenderer = options.verbose
    ? attachVerboseRenderer(scheduler, { write: (text) => io.stderr.write(text) })
    : view;
  // a message of Ctrl-C shows above the live view's frame, not erased with it
  // A second signal leaves at once, but not before what the log and the report's files still hold
  // in memory is written (for a bounded time): the last moments of a run are those that say why.
  let leaving = false;
  const leave = (code: number) => {
    if (leaving) return;
    leaving = true;
    stopRenderer?.();
    const written = Promise.allSettled([log?.close(), recorder?.abandon()]);
    void Promise.race([written, delay(LEAVE_WRITE_MS)]).then(() => {
      unlock();
      if (options.report !== undefined) {
        const events = join(options.report, 'events.jsonl');
        io.stderr.write(`jobgraph: no report page was made; make it with: jobgraph report ${events}\n`);
      }
      process.exit(code);
    });
  };
  const interrupt = onInterrupt(controller, { ...io, stderr: view?.above(io.stderr) ?? io.stderr }, leave);
  // the connections join the run's events (for the log and the report), until they are closed
  const detachSsh = attachSshEvents(scheduler);
  let ok = false;
  let thrown: { error: unknown } | undefined;
  const exitCode = () => interrupt.exitCode ?? (ok ? EXIT.ok : EXIT.failure);
  let reported = true;
  let logged = true;
  try {
    try {
      ok = await scheduler.run({ signal: controller.signal });
    } catch (error) {
      if (!interrupt.interrupted) {
        thrown = { error };
        throw error;
      }
    } finally {
      interrupt.jobsDone();
      stopRenderer?.();
      recorder?.jobsDone();
    }
    // stacks only with -D, as for every other error of the command line
    io.stdout.write(`${scheduler.debrief({ stacks: options.debug })}\n`);
    if (options.graph !== undefined) await writeJobGraph(scheduler, options.graph, { states: true });
    if (options.topology !== undefined) await writeTopology(scheduler, options.topology);
  } finally {
    try {
      await closeAll(scenario);
    } finally {
      // after the connections are closed: their events are the last of the run
      detachSsh();
      recorder?.stop();
      logged = await closeLog(log, io, options.debug);
      // Written whatever happened above (a failed run is when a report matters most), once the
      // connections are closed; still under the SIGINT handler, so a Ctrl-C now is not fatal.
      if (recorder !== undefined && options.report !== undefined) {
        const end = {
          ok,
          interrupted: interrupt.interrupted,
          ...(interrupt.signal !== undefined ? { signal: interrupt.signal } : {}),
          exitCode: exitCode(),
          ...(thrown ?? {}),
        };
        reported = await writeReport(recorder, options.report, end, io, options.debug);
      }
      unlock();
      interrupt.dispose();
    }
  }
  // A report or log that could not be written fails a run that succeeded, and never hides why another failed.
  return exitCode() === EXIT.ok && !(reported && logged) ? EXIT.failure : exitCode();
}

/** Whether `path` is a regular file or nothing yet (a path that cannot be looked at: no; opening it will say why). */
function fileOrNone(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? true;
  } catch {
    return false;
  }
}

/** Whether `path` is the terminal the command writes on (`/dev/stderr`, `/dev/tty`, its `/dev/pts/N`). */
function isTerminal(path: string | undefined, io: Io): boolean {
  if (path === undefined) return false;
  try {
    const target = statSync(path);
    if (!target.isCharacterDevice()) return false;
    return [io.stdout, io.stderr].some((stream) => {
      const fd = (stream as { fd?: unknown }).fd;
      if (typeof fd !== 'number') return false;
      const own = fstatSync(fd);
      return own.isCharacterDevice() && own.rdev === target.rdev;
    });
  } catch {
    return false;
  }
}

/** `resuming from LOG: 2 job(s) done there left out: a, b` */
function resumeLine(log: string, done: readonly string[]): string {
  const list = done.length === 0 ? '' : `: ${done.join(', ')}`;
  return `resuming from ${log}: ${done.length} job(s) done there left out${list}\n`;
}

/** Closes the event log; a write that failed is one line on stderr. @returns whether all was written */
async function closeLog(log: EventLog | undefined, io: Io, debug: boolean): Promise<boolean> {
  const error = await log?.close();
  if (error === undefined) return true;
  reportError(error, io.stderr, debug);
  return false;
}

/** Writes the report; a failure is one line on stderr. @returns whether it was written */
async function writeReport(
  recorder: RunRecorder,
  dir: string,
  end: RunEnd,
  io: Io,
  debug: boolean,
): Promise<boolean> {
  try {
    await recorder.write(dir, end);
    return true;
  } catch (error) {
    reportError(error, io.stderr, debug);
    return false;
  }
}
