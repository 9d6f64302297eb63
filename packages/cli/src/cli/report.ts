/**
 * The run report of `jobgraph run --report DIR`: a recorder subscribed to the scheduler's events
 * before the run, and the writer of the report's files once the run has ended.
 *
 * ```text
 * DIR/report.json    the run and every job of the scenario (no variable values: they may be secrets)
 * DIR/report.md      a summary table, with links to the other files
 * DIR/events.jsonl   every event of the run, one JSON object per line
 * DIR/output/ID.log  what each job printed (stderr lines prefixed with `[stderr] `)
 * DIR/debrief.txt    scheduler.debrief()
 * DIR/jobs.svg       the job graph, coloured by the jobs' states
 * DIR/topology.svg   the SSH nodes and their gateways
 * DIR/report.html    one self-contained page: outcome, timeline, job graph, topology, each job's details
 * ```
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type AbstractJob, eventRecord, labelOf, plainCopy, type SchedulerEvent } from '@jobgraph/core';
import type { SshJob } from '@jobgraph/ssh';
import { type JobStatus, outcomeOf } from '../report/job-status.js';
import type { LogRecord } from '../report/log-file.js';
import { RunModelBuilder } from '../report/run-model.js';
import { modelPage } from '../report/write-report.js';
import type { LoadedScenario } from '../scenario/load.js';
import { messageOf } from './errors.js';
import { interruptedBy, type StopSignal } from './interrupt.js';
import { writeJobGraph, writeTopology } from './pictures.js';

export type { JobStatus } from '../report/job-status.js';

/** One job of the scenario in `report.json`. */
export interface JobReport {
  /** The job's id in the scenario file. */
  readonly id: string;
  readonly label: string;
  /** The node's `toString()`: `root@fit01`, `gw@faraday->root@fit01`, `user@LOCALNODE`. */
  readonly node: string;
  readonly status: JobStatus;
  /** The job's result, when `status` is `done` (an SshJob: 0, or the exit code of an ignored failure). */
  readonly result?: unknown;
  /** How `list()` shows the outcome (`OK`, `Ignr[2]:false->1`), when the job has such a summary. */
  readonly summary?: string;
  /** The error's message on one line, when `status` is `failed`. */
  readonly error?: string;
  /** Why the job was stopped, when `status` is `cancelled`. */
  readonly reason?: string;
  /** ISO 8601 times of the first start and of the end, when the events told them. */
  readonly start?: string;
  readonly end?: string;
  readonly durationMs?: number;
  readonly attempts: number;
  /** The ids of the jobs it requires. */
  readonly required: readonly string[];
  /** Its output log, relative to the report directory, when it printed something. */
  readonly output?: string;
}

/** The whole of `report.json`. */
export interface RunReport {
  /** The scenario file, absolute. */
  readonly scenario: string;
  readonly start: string;
  readonly end: string;
  readonly durationMs: number;
  /** What `run()` resolved to (false when it threw or was interrupted). */
  readonly ok: boolean;
  /** Stopped by Ctrl-C (or SIGTERM, SIGHUP). */
  readonly interrupted: boolean;
  /** The signal that stopped it, when one did. */
  readonly signal?: StopSignal;
  /** The exit code the run itself calls for (a failure to write this report is not counted). */
  readonly exitCode: number;
  /** `scheduler.why()`. */
  readonly why: string;
  /** The error the run threw, on one line, if it threw (other than by Ctrl-C). */
  readonly error?: string;
  /** The names of the scenario's variables (`--var` and captures); never their values. */
  readonly variables: readonly string[];
  readonly jobs: readonly JobReport[];
}

/** How the run ended, as `jobgraph run` saw it. */
export interface RunEnd {
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly signal?: StopSignal;
  readonly exitCode: number;
  /** What `run()` threw, when it threw for another reason than Ctrl-C. */
  readonly error?: unknown;
}

/** Where the events told a job started and ended. */
interface Timing {
  start?: number;
  end?: number;
  reason?: string;
}

/** The prefix of a stderr line in the output logs (stdout lines have none). */
const STDERR_PREFIX = '[stderr] ';

/** A batch of lines is written once it holds this many characters (or at the next turn of the loop). */
const BATCH_CHARS = 256 * 1024;

/** A job's output log, written as the job prints: its lines since the last write, and that write. */
interface OutputLog {
  readonly path: string;
  pending: string;
  /** The writes so far, in order: the first one empties the file (a report of an earlier run). */
  written: Promise<void>;
  started: boolean;
}

/**
 * Records a run for its report: attach with {@link RunRecorder.attach} before `run()`, call
 * {@link RunRecorder.stop} when it returns, then {@link RunRecorder.write}.
 *
 * The events are written as they come: `events.jsonl` (the plain records of their log lines: an
 * event holds live jobs and errors, whose labels may change later) and each job's output log, in
 * batches, so that a run that prints for hours holds no more than a batch and the report page's
 * model (the last lines of each job) in memory, and a run that dies keeps what it wrote. The rest
 * is written once the run is over. A write that fails is reported by {@link RunRecorder.write},
 * never during the run.
 */
export class RunRecorder {
  readonly #scenario: LoadedScenario;
  readonly #file: string;
  readonly #dir: string;
  readonly #ids = new Map<AbstractJob, string>();
  readonly #model = new RunModelBuilder();
  readonly #events: WriteStream;
  #batch = '';
  #batchScheduled = false;
  /** Each job's output log, by job, once it printed. */
  readonly #outputs = new Map<AbstractJob, OutputLog>();
  /** The file names of the jobs' output logs, made for every job before the run. */
  readonly #outputNames: Map<AbstractJob, string>;
  #outputDir: Promise<void> | undefined;
  readonly #timings = new Map<AbstractJob, Timing>();
  readonly #start = Date.now();
  #end: number | undefined;
  #detach: (() => void) | undefined;
  /** The first write of events.jsonl that failed: the next ones are not tried (the batch is dropped). */
  #eventsFailure: { error: unknown } | undefined;
  /** The first write of an output log that failed (the others and events.jsonl go on). */
  #outputFailure: { error: unknown } | undefined;
  #finished: Promise<void> | undefined;
  /** Jobs by their scenario ids in the events; output lines kept (the report has them anyway). */
  readonly #logOptions = { idOf: (job: AbstractJob) => this.#ids.get(job), output: true };

  private constructor(scenario: LoadedScenario, file: string, dir: string) {
    this.#scenario = scenario;
    this.#file = file;
    this.#dir = dir;
    for (const [id, job] of scenario.jobs) this.#ids.set(job, id);
    this.#outputNames = outputNames(scenario.jobs);
    this.#events = createWriteStream(join(dir, 'events.jsonl'));
    this.#events.on('error', (error) => {
      this.#eventsFailure ??= { error };
    });
  }

  /** Starts recording the events of `scenario`'s scheduler (loaded from `file`) into the report directory `dir`. */
  static attach(scenario: LoadedScenario, file: string, dir: string): RunRecorder {
    const recorder = new RunRecorder(scenario, file, dir);
    recorder.#detach = scenario.scheduler.onAny((event) => recorder.#record(event));
    return recorder;
  }

  /** Notes the end of the run (the jobs are done); the connections' closing is still recorded. Idempotent. */
  jobsDone(): void {
    this.#end ??= Date.now();
  }

  /** Stops recording (once the connections are closed: their events are the run's last) and notes the end of the run if not yet. Idempotent. */
  stop(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.#end ??= Date.now();
  }

  #record(event: SchedulerEvent): void {
    // a progress bar's passing states are no record of the run (its line comes whole)
    if (event.type === 'cmd:progress') return;
    const record = eventRecord(event, this.#logOptions) as LogRecord;
    this.#model.add(record);
    this.#append(`${JSON.stringify(record)}\n`);
    // Nested schedulers' jobs are not jobs of the scenario: their timings would not be reported.
    if (event.path.length > 0) return;
    switch (event.type) {
      case 'job:start':
        if (event.attempt === 1) this.#timing(event.job).start = event.time;
        break;
      case 'job:done':
      case 'job:failed':
        this.#timing(event.job).end = event.time;
        break;
      case 'job:cancelled': {
        const timing = this.#timing(event.job);
        timing.end = event.time;
        timing.reason = messageOf(event.reason);
        break;
      }
      case 'cmd:line': {
        // A last line without its newline gets one: the log stays one line per line.
        const text = event.line.endsWith('\n') ? event.line : `${event.line}\n`;
        this.#print(event.job, event.stream === 'stderr' ? `${STDERR_PREFIX}${text}` : text);
        break;
      }
      default:
        break;
    }
  }

  /** A line of events.jsonl, written with others at the next turn of the event loop (or once 256 KiB wait). */
  #append(line: string): void {
    this.#batch += line;
    if (this.#batch.length >= BATCH_CHARS) this.#flushEvents();
    else if (!this.#batchScheduled) {
      this.#batchScheduled = true;
      setImmediate(() => {
        this.#batchScheduled = false;
        this.#flushEvents();
      });
    }
  }

  #flushEvents(): void {
    const batch = this.#batch;
    this.#batch = '';
    // after a failure, dropped: kept, the batch would grow with every event of the run
    if (batch === '' || this.#eventsFailure !== undefined) return;
    this.#events.write(batch);
  }

  /** A line of `job`'s output log, written in batches of 256 KiB (and at the end). */
  #print(job: AbstractJob, text: string): void {
    const name = this.#outputNames.get(job);
    if (name === undefined) return;
    let log = this.#outputs.get(job);
    if (log === undefined) {
      log = { path: join(this.#dir, name), pending: '', written: Promise.resolve(), started: false };
      this.#outputs.set(job, log);
    }
    log.pending += text;
    if (log.pending.length >= BATCH_CHARS) this.#flushOutput(log);
  }

  #flushOutput(log: OutputLog): void {
    const text = log.pending;
    log.pending = '';
    const first = !log.started;
    log.started = true;
    // not `recursive`: `dir` exists (checked before the run), and Node's recursive mkdir loops for
    // good where mkdir answers ENOENT for a directory that is there (/proc)
    this.#outputDir ??= mkdir(join(this.#dir, 'output')).catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    });
    const outputDir = this.#outputDir;
    log.written = log.written
      .then(() => outputDir)
      .then(() => (first ? writeFile(log.path, text) : appendFile(log.path, text)))
      .catch((error: unknown) => {
        this.#outputFailure ??= { error };
      });
  }

  /**
   * Stops recording and writes out what is still held in memory (events.jsonl's last batch, the
   * output logs' last lines), without the report page: for a process leaving at once (a second
   * Ctrl-C), whose report can be made afterwards from events.jsonl (`jobgraph report`).
   */
  abandon(): Promise<void> {
    this.stop();
    return this.#finishRecording();
  }

  /** Everything recorded written out: the events' last batch and end, the output logs' last lines. Once. */
  #finishRecording(): Promise<void> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<void> {
    this.#flushEvents();
    await new Promise<void>((resolve) => {
      if (this.#events.closed) resolve();
      else this.#events.end(() => resolve());
      this.#events.once('error', () => resolve());
    });
    for (const log of this.#outputs.values()) if (log.pending !== '') this.#flushOutput(log);
    await Promise.all([...this.#outputs.values()].map((log) => log.written));
  }

  #timing(job: AbstractJob): Timing {
    let timing = this.#timings.get(job);
    if (timing === undefined) {
      timing = {};
      this.#timings.set(job, timing);
    }
    return timing;
  }

  /** The scenario id of a job, else (a job of a nested scheduler) its display id. */
  #idOf(job: AbstractJob): string {
    return this.#ids.get(job) ?? job.displayId;
  }

  /** The content of `report.json`; `outputs` maps jobs to their output log's path. */
  #report(end: RunEnd, outputs: ReadonlyMap<AbstractJob, string>): RunReport {
    const finish = this.#end ?? Date.now();
    const jobs: JobReport[] = [];
    for (const [id, job] of this.#scenario.jobs) {
      const timing = this.#timings.get(job) ?? {};
      const outcome = outcomeOf(job);
      const summary = job.resultSummary();
      const output = outputs.get(job);
      jobs.push({
        id,
        label: labelOf(job),
        node: job.node.toString(),
        status: outcome.status,
        ...(outcome.status === 'done' ? { result: plainCopy(outcome.result, this.#logOptions) ?? null } : {}),
        ...(summary !== undefined && outcome.status !== 'cancelled' ? { summary } : {}),
        ...(outcome.status === 'failed' ? { error: messageOf(outcome.error) } : {}),
        ...(outcome.status === 'cancelled' && timing.reason !== undefined ? { reason: timing.reason } : {}),
        ...(timing.start !== undefined ? { start: new Date(timing.start).toISOString() } : {}),
        ...(timing.end !== undefined ? { end: new Date(timing.end).toISOString() } : {}),
        ...(timing.start !== undefined && timing.end !== undefined
          ? { durationMs: timing.end - timing.start }
          : {}),
        attempts: job.attempts,
        required: [...job.required].map((other) => this.#idOf(other)),
        ...(output !== undefined ? { output } : {}),
      });
    }
    return {
      scenario: resolve(this.#file),
      start: new Date(this.#start).toISOString(),
      end: new Date(finish).toISOString(),
      durationMs: finish - this.#start,
      ok: end.ok,
      interrupted: end.interrupted,
      ...(end.signal !== undefined ? { signal: end.signal } : {}),
      exitCode: end.exitCode,
      why: this.#scenario.scheduler.why(),
      ...(end.error !== undefined ? { error: messageOf(end.error) } : {}),
      variables: this.#scenario.variables.keys(),
      jobs,
    };
  }

  /**
   * Writes the report into `dir` (created if missing; files of the same name overwritten, other
   * files left alone). Every file is attempted even when one fails, `report.md` last so that it
   * links only to files that were written.
   * @throws Error `cannot write the report in DIR: why` (the first failure; `cause` is its error)
   */
  async write(dir: string, end: RunEnd): Promise<void> {
    this.stop();
    const failures: unknown[] = [];
    const attempt = async (name: string, work: () => Promise<unknown>): Promise<string | undefined> => {
      try {
        await work();
        return name;
      } catch (error) {
        failures.push(error);
        return undefined;
      }
    };
    await this.#finishRecording();
    // made before the run (checked there); made again if it was removed meanwhile
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw reportError(dir, error);
    }
    for (const failure of [this.#eventsFailure, this.#outputFailure]) {
      if (failure !== undefined) failures.push(failure.error);
    }
    const outputs = new Map<AbstractJob, string>();
    for (const job of this.#outputs.keys()) outputs.set(job, this.#outputNames.get(job) as string);
    const report = this.#report(end, outputs);
    const written: string[] = [];
    const keep = (name: string | undefined) => {
      if (name !== undefined) written.push(name);
    };
    keep(await attempt('report.json', () => writeFile(join(dir, 'report.json'), jsonText(report))));
    if (this.#eventsFailure === undefined) keep('events.jsonl');
    const { scheduler } = this.#scenario;
    keep(await attempt('debrief.txt', () => writeFile(join(dir, 'debrief.txt'), `${scheduler.debrief()}\n`)));
    keep(await attempt('jobs.svg', () => writeJobGraph(scheduler, join(dir, 'jobs.svg'), { states: true })));
    keep(await attempt('topology.svg', () => writeTopology(scheduler, join(dir, 'topology.svg'))));
    keep(
      await attempt('report.html', async () =>
        writeFile(join(dir, 'report.html'), await modelPage(this.#model.model())),
      ),
    );
    await attempt('report.md', () => writeFile(join(dir, 'report.md'), markdown(report, written)));
    if (failures.length > 0) throw reportError(dir, failures[0]);
  }
}

function reportError(dir: string, cause: unknown): Error {
  return new Error(`cannot write the report in ${dir}: ${messageOf(cause)}`, { cause });
}

/**
 * `output/<id>.log` for each job, in scenario order (written only for those that print). An id is
 * any string in a scenario:
 * characters a file name cannot safely hold become `_`, and clashes (also by case, for
 * case-insensitive file systems) get `-2`, `-3`…
 */
function outputNames(jobs: ReadonlyMap<string, SshJob>): Map<AbstractJob, string> {
  const names = new Map<AbstractJob, string>();
  const taken = new Set<string>();
  for (const [id, job] of jobs) {
    let base = id.replace(/[^A-Za-z0-9._-]/g, '_');
    if (base.startsWith('.')) base = `_${base}`;
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n += 1) name = `${base}-${n}`;
    taken.add(name.toLowerCase());
    names.set(job, `output/${name}.log`);
  }
  return names;
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `report.md`: the outcome, a table of the jobs, links to the files written. */
function markdown(report: RunReport, written: readonly string[]): string {
  const outcome = report.interrupted
    ? interruptedBy(report.signal ?? 'SIGINT')
    : report.ok
      ? 'succeeded'
      : 'failed';
  const lines = [
    `# jobgraph run: ${cell(report.scenario)}`,
    '',
    `- outcome: **${outcome}** (exit code ${report.exitCode}): ${cell(report.why)}`,
    ...(report.error !== undefined ? [`- error: ${cell(report.error)}`] : []),
    `- started ${report.start}, ended ${report.end}, took ${seconds(report.durationMs)}`,
    '',
    '| job | node | status | duration | result / error |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const job of report.jobs) {
    const duration = job.durationMs === undefined ? '' : seconds(job.durationMs);
    lines.push(
      `| ${cell(job.id)} | ${cell(job.node)} | ${job.status} | ${duration} | ${cell(resultText(job))} |`,
    );
  }
  lines.push('', '## Files', '');
  for (const name of written) lines.push(`- [${name}](${name})`);
  for (const job of report.jobs) {
    if (job.output !== undefined)
      lines.push(`- [${job.output}](${job.output}): what ${cell(job.id)} printed`);
  }
  return `${lines.join('\n')}\n`;
}

function resultText(job: JobReport): string {
  if (job.status === 'failed') return job.error ?? '';
  if (job.status === 'cancelled') return job.reason ?? '';
  if (job.status !== 'done') return '';
  const result = JSON.stringify(job.result) ?? '';
  return job.summary === undefined ? result : `${result} (${job.summary})`;
}

/** Text safe inside a Markdown table cell. */
/**
 * A text of the run in report.md: one line, `|` escaped for tables, and `&`, `<`, `>` as entities
 * (a Markdown viewer renders HTML: a label `<img onerror=…>` would be markup; the entities show as
 * the characters).
 */
function cell(text: string): string {
  return (
    text
      .replace(/\s*\n\s*/g, ' ')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      // Markdown's own marks (links, emphasis, code) as text: a cell never starts a line, and
      // without its brackets no link or image is made
      .replace(/[\\`*_[\]~|]/g, '\\$&')
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}
