/**
 * AbstractJob: the base class of every job (asynciojobs' `AbstractJob`), and the
 * vocabulary a job speaks while it runs: its {@link JobContext} and the events
 * ({@link EventMap}) that it emits and that carry it.
 *
 * The job, its context and its events refer to one another (a job's `run()` receives a
 * context, whose `emit()` takes an event, which names the job): one knot of types, hence
 * one module. The scheduler adds its own run events to {@link EventMap} where it is
 * defined (scheduler/pure-scheduler.ts), as other packages add theirs.
 */
import { JOB_BRAND } from '../base/brand.js';
import { JobNotDoneError } from '../base/errors.js';
import { quoted } from '../base/safe-text.js';
import {
  checkBoolean,
  checkContainer,
  checkDuration,
  checkNonNegativeInteger,
  checkOptionsObject,
  checkString,
} from '../base/validate.js';
import { JobRunState, kState, type Lifecycle } from './job-state.js';
import { forEachRequiredJob, type RequirementOf } from './requirement.js';

/**
 * What `required:` and `requires()` accept: one job, a {@link Sequence} (meaning its last
 * job, as it is at the time of the call), `null`/`undefined` (ignored), or any nesting of
 * iterables of those.
 */
export type Requirement = RequirementOf<AbstractJob>;

/** Something a job can be added to: a {@link PureScheduler} or a {@link Scheduler}. */
export interface JobContainer {
  add<J extends AbstractJob>(job: J): J;
}

/** Options common to every job. */
export interface JobOptions {
  /**
   * When true, an exception raised by this job aborts its enclosing scheduler.
   * @default true
   */
  critical?: boolean;
  /**
   * When true, the scheduler does not wait for this job: it is stopped (through its
   * signal) once every finite job is done. Being stopped is not a failure.
   * @default false
   */
  forever?: boolean;
  /** Label shown by `list()`, `debrief()` and the graph. */
  label?: string;
  /** Jobs that must be done before this one starts (see {@link Requirement}). */
  required?: Requirement;
  /** If set, the constructor adds the job to this scheduler. */
  scheduler?: JobContainer;
  /**
   * Wall-clock limit of one attempt, in milliseconds; on expiry the job's signal is aborted
   * and the attempt fails with a `JobTimeoutError` (code `ERR_JOB_TIMEOUT`) once the job has
   * settled, or after the scheduler's `shutdownTimeout` if it ignores its signal.
   * @default undefined (no limit)
   */
  timeout?: number;
  /**
   * Extra attempts after a failure: up to `1 + retries` attempts in all.
   * @default 0
   */
  retries?: number;
}

/** What a job receives when it runs. */
export interface JobContext {
  /**
   * Aborted when the job is cancelled: its own timeout, the scheduler's timeout, a
   * critical failure elsewhere, the stop of a forever job, or the caller's signal.
   * Long-running jobs must honour it.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Emits an event on the scheduler's event stream, on behalf of this job. */
  emit(event: JobEvent): void;
}

const JOB_OPTION_KEYS = ['critical', 'forever', 'label', 'required', 'scheduler', 'timeout', 'retries'];

/**
 * Base class of every job. Subclasses implement {@link AbstractJob.run}, and may
 * override {@link AbstractJob.shutdown} and the label hooks.
 *
 * @example
 * ```ts
 * class SleepJob extends AbstractJob<number> {
 *   readonly ms: number
 *   constructor(ms: number, options?: JobOptions) { super(options); this.ms = ms }
 *   async run({ signal }: JobContext) { await setTimeout(this.ms, undefined, { signal }); return this.ms }
 *   override textLabel() { return `Sleep for ${this.ms} ms` }
 * }
 * ```
 */
export abstract class AbstractJob<T = unknown> {
  declare readonly [JOB_BRAND]: boolean;
  /** When true, a failure of this job aborts its scheduler. */
  critical: boolean;
  /** When true, the scheduler does not wait for this job and stops it at the end. */
  forever: boolean;
  /** Display label; see {@link AbstractJob.textLabel} for the fallback. */
  label: string | undefined;
  /** Per-attempt time limit in ms, or undefined. */
  timeout: number | undefined;
  /** Extra attempts after a failure. */
  retries: number;
  // Allocated on the first requirement: most jobs of large graphs have few or none.
  #required: Set<AbstractJob> | undefined;
  /** @internal scheduler bookkeeping */
  readonly [kState] = new JobRunState();

  constructor(options: JobOptions = {}) {
    checkOptionsObject('the job options', options);
    this.critical = checkBoolean('critical', options.critical) ?? true;
    this.forever = checkBoolean('forever', options.forever) ?? false;
    this.label = checkString('label', options.label);
    this.timeout = checkDuration('timeout', options.timeout);
    this.retries = checkNonNegativeInteger('retries', options.retries) ?? 0;
    if (options.required !== undefined) this.requires(options.required);
    checkContainer('scheduler', options.scheduler);
    if (options.scheduler !== undefined) options.scheduler.add(this);
  }

  /** The jobs this one requires. */
  get required(): ReadonlySet<AbstractJob> {
    return this.#required ?? NO_REQUIREMENTS;
  }

  /**
   * Adds requirements: `null` is ignored, iterables are flattened, a Sequence means its
   * last job, and a job requiring itself is ignored (to make a global first step easy).
   * @returns this job
   */
  requires(...requirements: Requirement[]): this {
    forEachRequiredJob<AbstractJob>('a requirement', requirements, (job) => {
      if (job === this) return;
      this.#required ??= new Set();
      this.#required.add(job);
    });
    return this;
  }

  /** Removes requirements (a Sequence: its last job); absent ones are ignored. */
  unrequires(...requirements: Requirement[]): this {
    forEachRequiredJob<AbstractJob>('a requirement', requirements, (job) => {
      this.#required?.delete(job);
    });
    return this;
  }

  /**
   * The job's work (asynciojobs `co_run`). Its resolved value is the job's result;
   * a rejection is the job's exception.
   */
  abstract run(ctx: JobContext): Promise<T>;

  /**
   * Called on every job of a scheduler at the end of each run (asynciojobs `co_shutdown`),
   * whether or not the job ran: check the job's state before acting. Bounded by the
   * scheduler's `shutdownTimeout`; the resolved value is ignored. Default: does nothing.
   */
  async shutdown(): Promise<unknown> {
    return undefined;
  }

  /**
   * Whether {@link AbstractJob.shutdown} does anything: schedulers skip the call when it
   * does not. True whenever a subclass overrides `shutdown()`.
   */
  get hasShutdown(): boolean {
    return this.shutdown !== AbstractJob.prototype.shutdown;
  }

  // ------------------------------------------------------------------ state

  /** Where the job is in its life: `idle`, `scheduled`, `running`, `done` or `cancelled`. */
  get state(): Lifecycle {
    return this[kState].lifecycle;
  }
  /** Not started (in the current or last run). */
  isIdle(): boolean {
    return this[kState].lifecycle === 'idle';
  }
  /** Ready, but waiting for a slot of the scheduler's `jobsWindow`. */
  isScheduled(): boolean {
    return this[kState].lifecycle === 'scheduled';
  }
  /** Its `run()` is in progress. */
  isRunning(): boolean {
    return this[kState].lifecycle === 'running';
  }
  /** Completed, normally or by raising. A cancelled job is not done. */
  isDone(): boolean {
    return this[kState].lifecycle === 'done';
  }
  /** Stopped by its scheduler before completing (forever stop, timeout, critical abort). */
  isCancelled(): boolean {
    return this[kState].lifecycle === 'cancelled';
  }
  /**
   * Hook: whether the last run achieved what the job is for; what {@link PureScheduler.keepOnlyFailed}
   * keeps is the jobs that did not. Default: done without an exception. A job that completes
   * normally yet short of its purpose says so here (an SshJob whose non-critical command failed).
   */
  isAchieved(): boolean {
    return this[kState].lifecycle === 'done' && !this[kState].failed;
  }
  /** The exception the job completed with, or undefined. */
  raisedException(): unknown {
    return this[kState].failed ? this[kState].error : undefined;
  }
  /** How many attempts the last run made (0 if it did not start). */
  get attempts(): number {
    return this[kState].attempts;
  }

  /**
   * The value the job completed with.
   * @throws the job's own exception if it failed; a `JobGraphError` (`ERR_JOB_NOT_DONE`) if it has not completed.
   */
  result(): T {
    const state = this[kState];
    if (state.lifecycle !== 'done') {
      throw new JobNotDoneError(
        `Cannot read the result of job ${quotedLabel(this)}: it is ${state.lifecycle}, not done`,
      );
    }
    if (state.failed) throw state.error;
    return state.result as T;
  }

  // ----------------------------------------------------------------- labels

  /** Hook: a text label used when no `label` was given. Default: undefined. */
  textLabel(): string | undefined {
    return undefined;
  }
  /** Hook: the label of the job in graphs; may contain newlines; beats `label`. Default: undefined. */
  graphLabel(): string | undefined {
    return undefined;
  }
  /** Hook: extra lines shown by `list({ details: true })`. Default: undefined. */
  details(): string | undefined {
    return undefined;
  }

  /**
   * Hook: how `list()` shows the job's outcome instead of the default `[[ -> result]]`
   * (SshJob shows `OK` or its failed commands). Default: undefined (the default text).
   */
  resultSummary(): string | undefined {
    return undefined;
  }

  /** The id the last numbering gave the job (`'1'`, `'07'`), or `??` before any. */
  get displayId(): string {
    return this[kState].id || '??';
  }

  toString(): string {
    return `<${this.constructor.name} \`${labelOf(this)}\`>`;
  }
}
Object.defineProperty(AbstractJob.prototype, JOB_BRAND, { value: true, writable: false });

const NO_REQUIREMENTS: ReadonlySet<AbstractJob> = new Set();

/** The text label of a job: its `label`, else its `textLabel()`, else `NOLABEL`. */
export function labelOf(job: AbstractJob): string {
  return job.label ?? job.textLabel() ?? 'NOLABEL';
}

/** A job's label quoted for a one-line message: `"fetch"`, its newlines escaped, cut after 100 characters. */
export function quotedLabel(job: AbstractJob): string {
  return quoted(labelOf(job));
}

/** The option names every job constructor accepts. */
export function isJobOptionKey(key: string): boolean {
  return JOB_OPTION_KEYS.includes(key);
}

/**
 * The job option names plus `extra`: what a job class checks its options against, so that a
 * typo (`critcal`) is an error, not an option silently ignored.
 * @example `jobOptionKeys('node', 'commands')   // critical, forever, label, …, node, commands`
 */
export function jobOptionKeys(...extra: string[]): ReadonlySet<string> {
  return new Set([...JOB_OPTION_KEYS, ...extra]);
}

// ------------------------------------------------------------------ events

/**
 * Payloads of the events, by `type`. Augment it to add events of your own, e.g. @jobgraph/ssh:
 * ```ts
 * declare module '@jobgraph/core' {
 *   interface EventMap { 'cmd:line': { job: AbstractJob; line: string; stream: 'stdout' | 'stderr' } }
 * }
 * ```
 * The job events are declared here; the run events (`run:*`, `shutdown:*`) where the
 * scheduler is defined (scheduler/pure-scheduler.ts).
 */
export interface EventMap {
  /** A job is ready but waits for a slot of the `jobsWindow`. */
  'job:scheduled': { job: AbstractJob };
  /** A job starts an attempt (`attempt` is 1 for the first one). */
  'job:start': { job: AbstractJob; attempt: number };
  /** An attempt failed and the job will be tried again. */
  'job:retry': { job: AbstractJob; attempt: number; error: unknown };
  /** A job completed with a result. */
  'job:done': { job: AbstractJob; result: unknown };
  /** A job completed by throwing. */
  'job:failed': { job: AbstractJob; error: unknown; critical: boolean };
  /** A running job was cancelled by the scheduler; `reason` is what its signal was aborted with. */
  'job:cancelled': { job: AbstractJob; reason: unknown };
  /** Free-form progress message from a job (`ctx.emit({ type: 'job:message', message })`). */
  'job:message': { job: AbstractJob; message: string };
  /** A listener threw while handling an event of type `failedType`; the run went on. */
  'listener:error': { error: unknown; failedType: string };
}

/** The common fields of every event. */
export interface EventBase {
  /** `Date.now()` when the event was emitted. */
  readonly time: number;
  /**
   * The nested schedulers between the scheduler you listen to and the event's source,
   * outermost first; empty for the scheduler's own jobs.
   */
  readonly path: readonly AbstractJob[];
}

/** Any event of a run: `{ type, time, path, ...payload }`. */
export type SchedulerEvent = {
  [K in keyof EventMap]: { readonly type: K } & EventBase & EventMap[K];
}[keyof EventMap];

/** The event of one `type`. */
export type EventOf<K extends keyof EventMap> = Extract<SchedulerEvent, { type: K }>;

/** The types of the events that concern one job (those with a `job` field). */
export type JobEventType = {
  [K in keyof EventMap]: EventMap[K] extends { job: AbstractJob } ? K : never;
}[keyof EventMap];

/** What a job passes to `ctx.emit()`: a job event without `job`, `time`, `path`, which the scheduler fills in. */
export type JobEvent = {
  [K in JobEventType]: { readonly type: K } & Omit<EventMap[K], 'job'>;
}[JobEventType];

/** A listener of one type of event. */
export type Listener<K extends keyof EventMap> = (event: EventOf<K>) => void;
