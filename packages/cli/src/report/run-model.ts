/**
 * What a report shows, gathered from a run's events (the lines of its log): the run's outcome and
 * span, each job's attempts, commands, last output lines and end, the connections of each node.
 * Only the scheduler's own jobs are modelled (a nested scheduler is one job, its inside is not
 * drawn).
 */
import { cutText } from '@jobgraph/core';
import type { LogRecord } from './log-file.js';
import type { PlannedJob } from './plan.js';

/** How a job ended: as report.json's statuses, from its last event. */
export type JobOutcome = 'done' | 'failed' | 'cancelled' | 'running' | 'never-ran';

/** One command of a job's attempts. */
export interface CommandModel {
  readonly index: number;
  readonly label: string;
  readonly start: number;
  end?: number;
  exitCode?: number | null;
  signal?: string | null;
  ok?: boolean;
  bytes?: number;
  /** What stopped it when it did not end on its own (cancelled, timed out, its connection lost). */
  error?: string;
}

/** One attempt of a job (retries make several). */
export interface AttemptModel {
  readonly attempt: number;
  readonly start: number;
  end?: number;
  /** Why it failed, when a retry followed it or it ended the job. */
  error?: string;
}

/** A job of the run. */
export interface JobModel {
  readonly id: string;
  label: string;
  node?: string;
  required: readonly string[];
  critical: boolean;
  forever: boolean;
  outcome: JobOutcome;
  readonly attempts: AttemptModel[];
  readonly commands: CommandModel[];
  /** The last output lines (with their stream), when the log has them (`--log-output`, a report's events). */
  readonly lines: { stream: string; line: string }[];
  readonly messages: string[];
  result?: unknown;
  error?: string;
  errorCode?: string;
  /** This job's failure ended the run (critical). */
  endedRun: boolean;
}

/** A connection event of a node. */
export interface ConnectionMark {
  readonly node: string;
  readonly time: number;
  readonly kind: 'connect' | 'close' | 'lost' | 'failed';
  readonly detail?: string;
}

/** The whole run. */
export interface RunModel {
  /** What the run is: the plan's title (a scenario file's name), else the scheduler's label. */
  readonly title: string;
  readonly start: number;
  readonly end: number;
  /** What run() resolved to; undefined when the log ends before the run did. */
  readonly ok: boolean | undefined;
  readonly why: string;
  /** The jobs, in the plan's order (then any other job the events name). */
  readonly jobs: JobModel[];
  readonly connections: ConnectionMark[];
  /** The ids of the jobs left out as done by a resume. */
  readonly resumed: readonly string[];
}

/** Lines of output kept per job. */
export const LAST_LINES = 20;

/**
 * The most of one line of output the page shows: a line of 22 MB (no newline in it: it comes as
 * 1 MiB pieces) made a page of 168 MB. The whole output is in the output logs (--report) or the log.
 */
export const MAX_LINE_CHARS = 2_000;

/** A line of output as the page keeps it: cut after {@link MAX_LINE_CHARS}, saying how much more there was. */
function keptLine(line: string): string {
  return cutText(line, MAX_LINE_CHARS);
}

/**
 * Builds the model of the first top-level run of a log (a log holds one run), one record at a
 * time: a log of millions of lines need not be held whole, nor a long run's events (the model
 * keeps the last {@link LAST_LINES} lines of output of each job).
 */
export class RunModelBuilder {
  readonly #jobs = new Map<string, JobModel>();
  readonly #connections: ConnectionMark[] = [];
  #label = 'scheduler';
  #title: string | undefined;
  #start: number | undefined;
  #end: number | undefined;
  #ok: boolean | undefined;
  #why = '';
  /** The time of the first record: the start when no run:start came. */
  #first: number | undefined;
  #last = 0;
  #resumed: string[] = [];
  /** A later run began (a sink given to several runs, or two logs joined): its records are left out. */
  #over = false;
  #laterRuns = 0;

  /** How many runs after the first the records held (left out of the model). */
  get laterRuns(): number {
    return this.#laterRuns;
  }

  #jobOf(record: LogRecord): JobModel | undefined {
    const ref = record.job as { id?: unknown; label?: unknown } | undefined;
    if (typeof ref?.id !== 'string') return undefined;
    let job = this.#jobs.get(ref.id);
    if (job === undefined) {
      job = newJob({
        id: ref.id,
        label: typeof ref.label === 'string' ? ref.label : ref.id,
        ...(typeof record.node === 'string' ? { node: record.node } : {}),
        required: [],
        critical: true,
        forever: false,
      });
      this.#jobs.set(ref.id, job);
    }
    return job;
  }

  /** Takes the next record of the log into the model. */
  add(record: LogRecord): void {
    // the first run only: a later one's jobs (ids again from 1) were merged into it, its times too;
    // the first run's connections close after its run:done, and are still its own
    if (record.path === undefined) {
      const laterRun =
        (record.type === 'run:start' && this.#start !== undefined) ||
        ((record.type === 'run:plan' || record.type === 'run:resume') && this.#end !== undefined);
      if (laterRun) this.#over = true;
      if (record.type === 'run:start' && this.#over) this.#laterRuns += 1;
    }
    if (this.#over) return;
    const time = Date.parse(record.time);
    this.#first ??= time;
    if (!Number.isFinite(time)) return;
    this.#last = Math.max(this.#last, time);
    // the scheduler's own events only: a nested scheduler's are inside one of its jobs
    if (record.path !== undefined) return;
    switch (record.type) {
      case 'run:plan':
        if (typeof record.title === 'string') this.#title = record.title;
        for (const planned of Array.isArray(record.jobs) ? record.jobs : []) {
          const job = plannedJob(planned);
          if (job !== undefined && !this.#jobs.has(job.id)) this.#jobs.set(job.id, newJob(job));
        }
        break;
      case 'run:resume':
        this.#resumed = Array.isArray(record.done) ? record.done.filter((id) => typeof id === 'string') : [];
        break;
      case 'run:start':
        if (this.#start === undefined) {
          this.#start = time;
          if (typeof record.scheduler === 'string') this.#label = record.scheduler;
        }
        break;
      case 'run:done':
        this.#end = time;
        this.#ok = record.ok === true;
        this.#why = typeof record.why === 'string' ? record.why : '';
        break;
      case 'run:abort': {
        const job = this.#jobOf(record);
        if (job !== undefined) job.endedRun = true;
        break;
      }
      case 'ssh:connect':
      case 'ssh:close':
      case 'ssh:connect-failed':
        this.#connections.push(connectionMark(record, time));
        break;
      default:
        jobEvent(this.#jobOf(record), record, time);
    }
  }

  /** The model of what was added so far. */
  model(): RunModel {
    const from = this.#start ?? this.#first ?? 0;
    const to = this.#end ?? this.#last;
    return {
      title: this.#title ?? this.#label,
      start: from,
      end: Math.max(to, from),
      ok: this.#ok,
      why: this.#why,
      jobs: [...this.#jobs.values()],
      connections: this.#connections,
      resumed: this.#resumed,
    };
  }
}

/** The model of the first top-level run in `records`. */
export function runModel(records: Iterable<LogRecord>): RunModel {
  const builder = new RunModelBuilder();
  for (const record of records) builder.add(record);
  return builder.model();
}

/** A job of a `run:plan` line, its fields checked (a log from elsewhere, or edited); undefined without an id. */
function plannedJob(value: unknown): PlannedJob | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, label, node, required, critical, forever } = value as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  return {
    id,
    label: typeof label === 'string' ? label : id,
    ...(typeof node === 'string' ? { node } : {}),
    required: Array.isArray(required)
      ? required.filter((item): item is string => typeof item === 'string')
      : [],
    critical: critical !== false,
    forever: forever === true,
  };
}

function newJob(planned: PlannedJob): JobModel {
  return {
    id: planned.id,
    label: planned.label,
    ...(planned.node === undefined ? {} : { node: planned.node }),
    required: planned.required ?? [],
    critical: planned.critical !== false,
    forever: planned.forever === true,
    outcome: 'never-ran',
    attempts: [],
    commands: [],
    lines: [],
    messages: [],
    endedRun: false,
  };
}

/** What a job event adds to its job. */
function jobEvent(job: JobModel | undefined, record: LogRecord, time: number): void {
  if (job === undefined) return;
  if (job.node === undefined && typeof record.node === 'string') job.node = record.node;
  const current = job.attempts.at(-1);
  // an attempt that ends ends its commands: a log written before commands told their end when
  // stopped (and one cut short) would show them running for good
  if (/^job:(retry|done|failed|cancelled)$/.test(record.type)) endCommands(job, time);
  switch (record.type) {
    case 'job:start':
      job.attempts.push({
        attempt: typeof record.attempt === 'number' ? record.attempt : job.attempts.length + 1,
        start: time,
      });
      job.outcome = 'running';
      break;
    case 'job:retry':
      if (current !== undefined) {
        current.end = time;
        current.error = text(record.error);
      }
      break;
    case 'job:done':
      if (current !== undefined) current.end = time;
      job.outcome = 'done';
      job.result = record.result;
      break;
    case 'job:failed':
      if (current !== undefined) {
        current.end = time;
        current.error = text(record.error);
      }
      job.outcome = 'failed';
      job.error = text(record.error);
      if (typeof record.errorCode === 'string') job.errorCode = record.errorCode;
      if (typeof record.critical === 'boolean') job.critical = record.critical;
      break;
    case 'job:cancelled':
      if (current !== undefined) current.end = time;
      job.outcome = 'cancelled';
      job.error = text(record.reason);
      break;
    case 'job:message':
      job.messages.push(text(record.message));
      break;
    case 'cmd:start':
      job.commands.push({
        index: typeof record.index === 'number' ? record.index : job.commands.length + 1,
        label: text(record.command),
        start: time,
      });
      break;
    case 'cmd:done': {
      // (its job's end may have come first: a cancelled job is told before its command stops)
      const command = [...job.commands]
        .reverse()
        .find((c) => c.index === record.index && (c.end === undefined || endedWithJob.has(c)));
      if (command === undefined) break;
      command.end = time;
      command.exitCode = typeof record.exitCode === 'number' ? record.exitCode : null;
      command.signal = typeof record.signal === 'string' ? record.signal : null;
      command.ok = record.ok === true;
      if (typeof record.bytes === 'number') command.bytes = record.bytes;
      // its own end says what happened, not its job's (it may have ended well after all)
      if (record.error !== undefined) command.error = text(record.error);
      else if (endedWithJob.has(command)) delete command.error;
      endedWithJob.delete(command);
      break;
    }
    case 'cmd:line':
      job.lines.push({ stream: text(record.stream), line: keptLine(text(record.line).replace(/\n$/, '')) });
      if (job.lines.length > LAST_LINES) job.lines.shift();
      break;
    default:
      break;
  }
}

/** The commands of `job` still open, ended at `time`: not ok, for they did not end on their own. */
function endCommands(job: JobModel, time: number): void {
  for (const command of job.commands) {
    if (command.end !== undefined) continue;
    command.end = time;
    command.ok = false;
    command.error ??= 'stopped with its job';
    endedWithJob.add(command);
  }
}

/** Commands ended by their job's end, whose own `cmd:done` may still come, with what stopped them. */
const endedWithJob = new WeakSet<CommandModel>();

function connectionMark(record: LogRecord, time: number): ConnectionMark {
  const node = text(record.node);
  if (record.type === 'ssh:connect') return { node, time, kind: 'connect' };
  if (record.type === 'ssh:connect-failed') return { node, time, kind: 'failed', detail: text(record.error) };
  return record.lost === true
    ? { node, time, kind: 'lost', detail: text(record.error) }
    : { node, time, kind: 'close' };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}
