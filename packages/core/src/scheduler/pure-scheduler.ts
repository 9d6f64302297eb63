/**
 * PureScheduler: runs a graph of jobs (asynciojobs' `PureScheduler`). Not nestable:
 * use {@link Scheduler} for a scheduler that is also a job.
 */
import { hasBrand, JOB_BRAND, SCHEDULER_BRAND } from '../base/brand.js';
import { InvalidOptionError, InvalidStateError, JobInTwoSchedulersError } from '../base/errors.js';
import {
  checkBoolean,
  checkDuration,
  checkKnownKeys,
  checkNonNegativeInteger,
  checkOptionsObject,
  describeValue,
} from '../base/validate.js';
import { topologicalJobs } from '../graph/algorithms.js';
import type { EditableGraph } from '../graph/editing.js';
import * as editing from '../graph/editing.js';
import { schedulerName } from '../graph/nesting.js';
import { checkNestedGraphs, numberJobs, orderedGraph } from '../graph/ordering.js';
import {
  AbstractJob,
  type EventMap,
  type JobContext,
  type JobOptions,
  type Listener,
  quotedLabel,
  type SchedulerEvent,
} from '../model/abstract-job.js';
import { EventHub } from '../model/event-hub.js';
import { kState } from '../model/job-state.js';
import { flattenItems, type SequenceItem } from '../model/sequence.js';
import { describeOutcome, describeProgress, type RunOutcome } from '../run/outcome.js';
import { type EventForwarder, kForward } from '../run/run-context.js';
import { RunLoop } from '../run/run-loop.js';
import { shutdownJobs } from '../run/shutdown.js';
import { type DotOptions, toDot } from '../views/dot.js';
import { exportGraph } from '../views/export.js';
import { type DebriefOptions, debrief, type ListOptions, list, listSafe } from '../views/listing.js';
import {
  checkRunSignal,
  checkSchedulerOptionKeys,
  checkWritableOptions,
  RUN_KEYS,
  type RunOptions,
  type SchedulerOptions,
} from './options.js';
import { attachVerboseRenderer } from './verbose-renderer.js';

// The run events: declared here, where the scheduler that they carry is defined (the job
// events are declared with AbstractJob, in model/abstract-job.ts).
declare module '../model/abstract-job.js' {
  interface EventMap {
    /** A scheduler starts a run. */
    'run:start': { scheduler: PureScheduler; jobs: number };
    /** A scheduler's run ended; `ok` is what `run()` resolves to (or false when it rejects). */
    'run:done': { scheduler: PureScheduler; ok: boolean; why: string };
    /** The scheduler's global timeout expired. */
    'run:timeout': { scheduler: PureScheduler; timeout: number };
    /** The run is being aborted: a critical job failed, or the caller's signal aborted. */
    'run:abort': { scheduler: PureScheduler; reason: unknown; job?: AbstractJob };
    /** Every job's `shutdown()` is being called. */
    'shutdown:start': { scheduler: PureScheduler };
    /** Shutdown ended; `pending` counts the jobs whose `shutdown()` did not return in time. */
    'shutdown:done': { scheduler: PureScheduler; pending: number };
  }
}

/** An event as {@link PureScheduler.announce} takes it: without its `time` and `path`. */
export type AnnouncedEvent = {
  [K in keyof EventMap]: { readonly type: K } & EventMap[K];
}[keyof EventMap];

/**
 * A scheduler that runs a DAG of jobs: each job starts once all its requirements are
 * done; a failing critical job aborts the run; forever jobs are stopped at the end.
 *
 * @example
 * ```ts
 * const scheduler = new PureScheduler({ jobsWindow: 4, timeout: 60_000 })
 * const a = scheduler.add(new Job(() => 'a'))
 * scheduler.add(new Job(() => 'b', { required: a }))
 * const ok = await scheduler.run()   // true, or false with scheduler.why()
 * ```
 */
export class PureScheduler extends AbstractJob<boolean> implements Iterable<AbstractJob>, EditableGraph {
  declare readonly [SCHEDULER_BRAND]: boolean;
  /** Maximum number of jobs running at once (0 = no limit). */
  jobsWindow: number;
  /** Global limit of a run, in ms (for a nested scheduler, also its limit as a job). */
  override timeout: number | undefined;
  /** Limit of the cancel and shutdown phases, in ms. */
  shutdownTimeout: number;
  /** Whether the verbose renderer prints the run on standard output. */
  verbose: boolean;
  readonly #jobs = new Set<AbstractJob>();
  /** An event of this scheduler's runs, passed on to the parent's listeners while it runs nested. */
  readonly #forward = (event: SchedulerEvent): void => this.#parent?.[kForward](event);
  // a listener's failure inside a nested run reaches the parent's listeners too, as the run's other events
  readonly #hub = new EventHub(this.#forward);
  #outcome: RunOutcome | undefined;
  /** The run in progress: its signal, and a promise settled when it has wound down. */
  #inFlight: { readonly signal: AbortSignal | undefined; readonly done: Promise<void> } | undefined;
  #shutdownResult: Promise<boolean> | undefined;
  /** While running nested: the parent's context, through which events go up. */
  #parent: EventForwarder | undefined;

  /** @param options see {@link SchedulerOptions}; a {@link Scheduler} also takes the {@link JobOptions}. */
  constructor(options: SchedulerOptions = {}) {
    checkSchedulerOptionKeys(new.target, options);
    super(options);
    this.jobsWindow = checkNonNegativeInteger('jobsWindow', options.jobsWindow) ?? 0;
    this.timeout = checkDuration('timeout', options.timeout);
    this.shutdownTimeout = checkDuration('shutdownTimeout', options.shutdownTimeout) ?? 1000;
    this.verbose = checkBoolean('verbose', options.verbose) ?? false;
    if (options.jobs !== undefined) this.update(options.jobs);
  }

  // ------------------------------------------------------------ the job set

  /** The jobs, in insertion order. */
  get jobs(): ReadonlySet<AbstractJob> {
    return this.#jobs;
  }
  /** The number of jobs. */
  get size(): number {
    return this.#jobs.size;
  }
  [Symbol.iterator](): Iterator<AbstractJob> {
    return this.#jobs.values();
  }

  /**
   * Adds a job and returns it (not the scheduler).
   * @throws InvalidOptionError if it is not a job, or already belongs to another scheduler.
   */
  add<J extends AbstractJob>(job: J): J {
    if (!hasBrand(job, JOB_BRAND)) {
      if (hasBrand(job, SCHEDULER_BRAND)) {
        throw new InvalidOptionError(
          'A PureScheduler cannot be nested in a scheduler: use a Scheduler instead',
        );
      }
      throw new InvalidOptionError(`Expected a job to add to the scheduler, got ${describeValue(job)}`);
    }
    // A scheduler nested in itself, directly or not, would make every traversal endless.
    for (let owner: PureScheduler | undefined = this; owner !== undefined; owner = enclosing(owner)) {
      if (owner === (job as AbstractJob)) {
        throw new InvalidOptionError(
          owner === this
            ? `Scheduler ${quotedLabel(job)} cannot be added inside itself`
            : `Scheduler ${quotedLabel(job)} cannot be added inside ${schedulerName(this)}, which is inside it`,
        );
      }
    }
    const state = job[kState];
    if (state.owner !== undefined && state.owner !== this) {
      throw new JobInTwoSchedulersError(
        `Job ${quotedLabel(job)} already belongs to ${schedulerName(state.owner as PureScheduler)}; remove it there first`,
      );
    }
    state.owner = this;
    this.#jobs.add(job);
    return job;
  }

  /** Adds jobs, or the jobs of Sequences. */
  update(items: Iterable<AbstractJob | SequenceItem>): this {
    if (typeof items !== 'object' || items === null || !(Symbol.iterator in items)) {
      throw new InvalidOptionError(
        `Expected update() to receive an iterable of jobs, got ${describeValue(items)}`,
      );
    }
    for (const job of flattenItems(items)) this.add(job);
    return this;
  }

  /**
   * Removes a job from this scheduler (its requirements and the requirements on it are left as they are).
   * @throws InvalidOptionError if the job is not in this scheduler.
   */
  remove(job: AbstractJob): this {
    if (!hasBrand(job, JOB_BRAND)) {
      throw new InvalidOptionError(`Expected remove() to be given a job, got ${describeValue(job)}`);
    }
    // its run counts on it: a job moved elsewhere mid-run left that run waiting for good
    if (this.#inFlight !== undefined && this.#jobs.has(job)) {
      throw new InvalidStateError(
        `Cannot remove job ${quotedLabel(job)} while ${schedulerName(this)} runs: remove it before or after the run`,
      );
    }
    if (!this.#jobs.delete(job)) {
      throw new InvalidOptionError(
        `Cannot remove job ${quotedLabel(job)}: it is not in ${schedulerName(this)}`,
      );
    }
    job[kState].owner = undefined;
    return this;
  }

  // ------------------------------------------------------------------ events

  /**
   * Subscribes to one type of event of the runs of this scheduler, nested ones included.
   * @returns a function that unsubscribes.
   */
  on<K extends keyof EventMap>(type: K, listener: Listener<K>): () => void {
    return this.#hub.on(type, listener);
  }
  /** Subscribes to every event. @returns a function that unsubscribes. */
  onAny(listener: (event: SchedulerEvent) => void): () => void {
    return this.#hub.onAny(listener);
  }
  /**
   * Publishes an event that no job emits (the SSH layer's connections opening and closing, say)
   * in this scheduler's stream: its listeners get it with `time` now and an empty `path`; while
   * it runs nested in another, the parent's listeners too, as for its jobs' events.
   *
   * @example
   * ```ts
   * scheduler.announce({ type: 'ssh:connect', node: 'root@fit01', direct: true })
   * ```
   */
  announce(event: AnnouncedEvent): void {
    if (!this.#hub.active && this.#parent === undefined) return;
    const whole = { ...event, time: Date.now(), path: [] } as unknown as SchedulerEvent;
    this.#hub.dispatch(whole, this.#forward);
  }

  // --------------------------------------------------------------------- run

  /**
   * Runs the jobs. Resolves true when every finite job is done and no critical job
   * failed; false after a critical failure or the global timeout (see {@link why}).
   * Shutdown runs automatically at the end.
   * @throws CycleError / `ERR_FOREIGN_REQUIREMENT` before anything starts; the signal's reason when aborted.
   */
  override async run(options: RunOptions | JobContext = {}): Promise<boolean> {
    const outcome = await this.runOutcome(options);
    if (outcome.kind === 'aborted') throw outcome.reason;
    return outcome.kind === 'ok';
  }

  /** Runs and reports how the run ended; `run()` of each kind of scheduler turns it into its result. */
  protected async runOutcome(options: RunOptions | JobContext): Promise<RunOutcome> {
    checkOptionsObject('the run() options', options);
    checkKnownKeys('run()', options, RUN_KEYS);
    // A run that was cancelled may still be winding down (bounded by its shutdownTimeout):
    // a new run waits for it; a run still going is a misuse.
    while (this.#inFlight !== undefined) {
      if (!this.#inFlight.signal?.aborted) {
        throw new InvalidStateError(`${schedulerName(this, true)} is already running`);
      }
      await this.#inFlight.done;
    }
    const signal = checkRunSignal(options.signal);
    if (signal?.aborted) {
      this.#outcome = { kind: 'aborted', reason: signal.reason }; // why() says so (it said FINE)
      throw signal.reason;
    }
    const jobs = [...this.#jobs];
    checkWritableOptions(this, jobs);
    const { index, order } = orderedGraph(this, jobs);
    // The outermost run checks the nested graphs too, so that a cycle anywhere stops
    // the run before any job starts (nested runs then check their own again: O(V + E)).
    if (!(kForward in options)) checkNestedGraphs(this);
    numberJobs(jobs, order);
    for (const job of jobs) job[kState].resetForRun();
    let finished!: () => void;
    this.#inFlight = { signal, done: new Promise<void>((resolve) => (finished = resolve)) };
    this.#outcome = undefined;
    this.#shutdownResult = undefined;
    this.#parent = kForward in options ? (options as EventForwarder) : undefined;
    const detach = this.verbose ? attachVerboseRenderer(this) : undefined;
    try {
      const publishing = () => this.#hub.active || this.#parent !== undefined;
      const publish = (event: SchedulerEvent) => this.#hub.dispatch(event, this.#forward);
      if (publishing())
        publish({ type: 'run:start', scheduler: this, jobs: jobs.length, time: Date.now(), path: [] });
      const loop = new RunLoop({
        index,
        name: schedulerName(this),
        window: this.jobsWindow,
        timeout: this.timeout,
        shutdownTimeout: this.shutdownTimeout,
        signal,
        publish,
        publishing,
        announce: {
          timeout: (timeout) =>
            publish({ type: 'run:timeout', scheduler: this, timeout, time: Date.now(), path: [] }),
          abort: (reason, job) =>
            publish({
              type: 'run:abort',
              scheduler: this,
              reason,
              ...(job === undefined ? {} : { job }),
              time: Date.now(),
              path: [],
            }),
        },
      });
      const outcome = await loop.execute();
      this.#outcome = outcome;
      await this.shutdown();
      if (publishing()) {
        publish({
          type: 'run:done',
          scheduler: this,
          ok: outcome.kind === 'ok',
          why: this.why(),
          time: Date.now(),
          path: [],
        });
      }
      return outcome;
    } finally {
      this.#inFlight = undefined;
      finished();
      this.#parent = undefined;
      detach?.();
    }
  }

  /**
   * Calls `shutdown()` on every job at once, bounded by `shutdownTimeout`. Runs
   * automatically at the end of each run; a second call returns the first one's result.
   * @returns true if every job's shutdown returned in time.
   */
  override shutdown(): Promise<boolean> {
    this.#shutdownResult ??= this.#shutdownJobs();
    return this.#shutdownResult;
  }

  async #shutdownJobs(): Promise<boolean> {
    const publishing = this.#hub.active || this.#parent !== undefined;
    const publish = (event: SchedulerEvent) => this.#hub.dispatch(event, this.#forward);
    if (publishing) publish({ type: 'shutdown:start', scheduler: this, time: Date.now(), path: [] });
    const pending = await shutdownJobs(this.#jobs, this.shutdownTimeout);
    if (publishing) publish({ type: 'shutdown:done', scheduler: this, pending, time: Date.now(), path: [] });
    return pending === 0;
  }

  // ------------------------------------------------------------------ status

  /** True if the last run ended on the global timeout. */
  failedTimeOut(): boolean {
    return this.#outcome?.kind === 'timeout';
  }
  /** True if the last run was aborted by a failing critical job. */
  failedCritical(): boolean {
    return this.#outcome?.kind === 'critical';
  }
  /**
   * Why the last run ended: `FINE`, `TIMED OUT after <t> ms`,
   * `a CRITICAL job has raised an exception`, or `ABORTED: <reason>`.
   */
  why(): string {
    return describeOutcome(this.#outcome);
  }

  /** `3D + 1R + 2I = 6`: jobs done, running (or cancelled), idle (or waiting for a slot). */
  stats(): string {
    return describeProgress(this.#jobs);
  }

  // ------------------------------------------------------ graph queries and edits
  // (graph/editing.ts holds the algorithms; the methods keep asynciojobs' names)

  /** True when the graph has no cycle and no requirement outside its scheduler, nested schedulers included. */
  checkCycles(): boolean {
    return editing.hasNoCycle(this);
  }

  /**
   * Removes every requirement that points outside this scheduler, nested schedulers included.
   * @returns true if nothing had to change.
   */
  sanitize(): boolean {
    return editing.sanitize(this);
  }

  /** The jobs in topological order (earliest inserted first among ready ones). @throws CycleError */
  topologicalOrder(): AbstractJob[] {
    return topologicalJobs(this, [...this.#jobs], schedulerName(this));
  }

  /** The jobs without requirements. */
  entryJobs(): AbstractJob[] {
    return [...this.#jobs].filter((job) => job.required.size === 0);
  }

  /** The jobs that no job requires; forever jobs are left out unless `discardForever` is false. */
  exitJobs(options: { discardForever?: boolean } = {}): AbstractJob[] {
    return editing.exitJobs(this, options.discardForever ?? true);
  }

  /** The jobs of this scheduler that the given jobs require directly. */
  predecessors(...jobs: AbstractJob[]): Set<AbstractJob> {
    return editing.predecessors(this, jobs);
  }
  /** The jobs of this scheduler that require the given jobs directly. */
  successors(...jobs: AbstractJob[]): Set<AbstractJob> {
    return editing.successors(this, jobs);
  }
  /** Every job of this scheduler that the given jobs require, directly or not. */
  predecessorsUpstream(...jobs: AbstractJob[]): Set<AbstractJob> {
    return editing.predecessorsUpstream(this, jobs);
  }
  /** Every job of this scheduler that requires the given jobs, directly or not. */
  successorsDownstream(...jobs: AbstractJob[]): Set<AbstractJob> {
    return editing.successorsDownstream(this, jobs);
  }

  /**
   * Removes `job` and reconnects around it: each job that required it now requires the job's own
   * requirements. @throws InvalidOptionError if the job is not in this scheduler.
   */
  bypassAndRemove(job: AbstractJob): void {
    editing.bypassAndRemove(this, job);
  }

  /** Keeps only the given jobs, then drops requirements on the removed ones (no re-linking). */
  keepOnly(jobs: Iterable<AbstractJob>): void {
    editing.keepOnly(this, jobs);
  }

  /**
   * Keeps what the last run did not achieve, to run it again: the jobs that failed, were
   * cancelled or never ran; the jobs that succeeded are removed, and the requirements on them
   * dropped (they are done). A nested scheduler that did not succeed keeps its own unfinished
   * jobs only. `jobgraph run --resume run.jsonl` does the same from a run's event log.
   *
   * @example
   * ```ts
   * if (!(await scheduler.run())) {
   *   scheduler.keepOnlyFailed()   // fix what broke, then:
   *   await scheduler.run()        // only what had not succeeded runs
   * }
   * ```
   */
  keepOnlyFailed(): void {
    editing.keepOnlyFailed(this);
  }

  /** Keeps the jobs downstream of `starts` and upstream of `ends`, then sanitizes. */
  keepOnlyBetween(options: editing.KeepOnlyBetweenOptions = {}): void {
    editing.keepOnlyBetween(this, options);
  }

  /**
   * Every leaf job, recursing into nested schedulers; with `scanSchedulers`, the
   * schedulers too, this one first.
   */
  iterateJobs(options: { scanSchedulers?: boolean } = {}): Generator<AbstractJob> {
    return editing.iterateJobs(this, options);
  }

  // ----------------------------------------------------------- text and graph

  /** The listing of the jobs, one line each, in topological order (asynciojobs format). */
  list(options: ListOptions = {}): string {
    return list(this, options);
  }
  /** A listing that works even on a graph with cycles: no numbering, path-like ids. */
  listSafe(options: ListOptions = {}): string {
    return listSafe(this, options);
  }
  /** `why()`, the listing, and the exceptions raised. */
  debrief(options: DebriefOptions = {}): string {
    return debrief(this, options);
  }
  /** The graph in DOT (asynciojobs `dot_format`). */
  toDot(options: DotOptions = {}): string {
    return toDot(this, options);
  }
  /** Writes the DOT text to `path` (`.dot` added when it has no extension). @returns the path written */
  exportAsDotfile(path: string): Promise<string> {
    return exportGraph(this.toDot(), path, 'dot');
  }
  /** Renders the graph as SVG, in-process (no `dot` binary needed). @returns the path written */
  exportAsSvgfile(path: string): Promise<string> {
    return exportGraph(this.toDot(), path, 'svg');
  }
  /** Renders the graph as PNG, in-process. @returns the path written */
  exportAsPngfile(path: string): Promise<string> {
    return exportGraph(this.toDot(), path, 'png');
  }

  override toString(): string {
    return `${this.constructor.name} ${quotedLabel(this)} with ${this.stats()} job(s)`;
  }
}
Object.defineProperty(PureScheduler.prototype, SCHEDULER_BRAND, { value: true, writable: false });
// A PureScheduler shares AbstractJob's machinery (labels, state) but is not a job to its peers.
Object.defineProperty(PureScheduler.prototype, JOB_BRAND, { value: false, writable: false });

/** The scheduler that holds `scheduler` as a job, if any. */
function enclosing(scheduler: PureScheduler): PureScheduler | undefined {
  return scheduler[kState].owner as PureScheduler | undefined;
}
