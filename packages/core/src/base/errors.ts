/**
 * The error classes of @jobgraph/core.
 *
 * Every error the library throws is a {@link JobGraphError} with a stable `code`:
 * branch on `error.code`, not on the message text (codes still match when two copies
 * of the package are installed, where `instanceof` would not).
 */
import { elided, quoted } from './safe-text.js';

/** Every `code` that @jobgraph/core may put on a {@link JobGraphError}. */
export const CoreErrorCode = {
  /** An option had the wrong type or range. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** A job was added to a second scheduler. */
  JOB_IN_TWO_SCHEDULERS: 'ERR_JOB_IN_TWO_SCHEDULERS',
  /** A job requires a job that is not in the same scheduler. */
  FOREIGN_REQUIREMENT: 'ERR_FOREIGN_REQUIREMENT',
  /** The requirements form a cycle. */
  GRAPH_CYCLE: 'ERR_GRAPH_CYCLE',
  /** `result()` was called on a job that has not completed. */
  JOB_NOT_DONE: 'ERR_JOB_NOT_DONE',
  /** A job exceeded its own `timeout`. */
  JOB_TIMEOUT: 'ERR_JOB_TIMEOUT',
  /** A run exceeded the scheduler's `timeout`. */
  RUN_TIMEOUT: 'ERR_RUN_TIMEOUT',
  /** A job was cancelled (critical failure elsewhere, forever stop, abort). */
  JOB_CANCELLED: 'ERR_JOB_CANCELLED',
  /** A job was asked for something its state does not allow (e.g. running a scheduler twice at once). */
  INVALID_STATE: 'ERR_INVALID_STATE',
  /** A graph picture could not be rendered or written. */
  GRAPH_RENDER: 'ERR_GRAPH_RENDER',
  /** A small input file (`readBounded`) holds more than its bound: a device or a pipe? */
  FILE_TOO_LARGE: 'ERR_FILE_TOO_LARGE',
} as const;

/** The union of the core error codes; other packages add their own `ERR_*` strings. */
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/**
 * Base class of every error jobgraph throws.
 *
 * @example
 * ```ts
 * try { await scheduler.run() } catch (error) {
 *   if (error instanceof JobGraphError && error.code === 'ERR_RUN_TIMEOUT') console.log('too slow')
 * }
 * ```
 */
export class JobGraphError extends Error {
  override name = 'JobGraphError';
  /** A stable `ERR_*` code. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** An option or argument had the wrong type or range. Code `ERR_INVALID_OPTION`. */
export class InvalidOptionError extends JobGraphError {
  override name = 'InvalidOptionError';
  constructor(message: string) {
    super(CoreErrorCode.INVALID_OPTION, message);
  }
}

/** Thrown when the requirements of a scheduler contain a cycle. Code `ERR_GRAPH_CYCLE`. */
export class CycleError extends JobGraphError {
  override name = 'CycleError';
  /** The labels of the jobs along the cycle, the first one repeated at the end. */
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super(CoreErrorCode.GRAPH_CYCLE, `Dependency cycle: ${cycleText(cycle)}`);
    this.cycle = cycle;
  }
}

/** `a → b → a`, each label on one line and cut, a long cycle by its first and last jobs. */
function cycleText(cycle: readonly string[]): string {
  return elided(cycle.map((text) => quoted(text, 60).slice(1, -1))).join(' → ');
}

/** A job exceeded its own `timeout` option. Code `ERR_JOB_TIMEOUT`. */
export class JobTimeoutError extends JobGraphError {
  override name = 'JobTimeoutError';
  /** The job's label. */
  readonly job: string;
  /** The limit that expired, in milliseconds. */
  readonly timeout: number;
  constructor(job: string, timeout: number) {
    super(CoreErrorCode.JOB_TIMEOUT, `Job "${job}" timed out after ${timeout} ms`);
    this.job = job;
    this.timeout = timeout;
  }
}

/** A scheduler run exceeded its `timeout`. Code `ERR_RUN_TIMEOUT`. */
export class RunTimeoutError extends JobGraphError {
  override name = 'RunTimeoutError';
  /** The limit that expired, in milliseconds. */
  readonly timeout: number;
  /** @param scheduler how to name the scheduler, e.g. `scheduler "main"` */
  constructor(scheduler: string, timeout: number) {
    const name = scheduler.charAt(0).toUpperCase() + scheduler.slice(1);
    super(CoreErrorCode.RUN_TIMEOUT, `${name} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** The reason given to a job's `signal` when the scheduler cancels it. Code `ERR_JOB_CANCELLED`. */
export class JobCancelledError extends JobGraphError {
  override name = 'JobCancelledError';
  constructor(message: string, options?: ErrorOptions) {
    super(CoreErrorCode.JOB_CANCELLED, message, options);
  }
}

/** A job was added to a second scheduler. Code `ERR_JOB_IN_TWO_SCHEDULERS`. */
export class JobInTwoSchedulersError extends JobGraphError {
  override name = 'JobInTwoSchedulersError';
  constructor(message: string) {
    super(CoreErrorCode.JOB_IN_TWO_SCHEDULERS, message);
  }
}

/** A job requires a job outside its scheduler. Code `ERR_FOREIGN_REQUIREMENT`. */
export class ForeignRequirementError extends JobGraphError {
  override name = 'ForeignRequirementError';
  constructor(message: string) {
    super(CoreErrorCode.FOREIGN_REQUIREMENT, message);
  }
}

/** `result()` of a job that is not done. Code `ERR_JOB_NOT_DONE`. */
export class JobNotDoneError extends JobGraphError {
  override name = 'JobNotDoneError';
  constructor(message: string) {
    super(CoreErrorCode.JOB_NOT_DONE, message);
  }
}

/** An operation the current state does not allow (running a scheduler twice at once). Code `ERR_INVALID_STATE`. */
export class InvalidStateError extends JobGraphError {
  override name = 'InvalidStateError';
  constructor(message: string) {
    super(CoreErrorCode.INVALID_STATE, message);
  }
}

/** A graph could not be rendered or written. Code `ERR_GRAPH_RENDER`. */
export class GraphRenderError extends JobGraphError {
  override name = 'GraphRenderError';
  constructor(message: string, options?: ErrorOptions) {
    super(CoreErrorCode.GRAPH_RENDER, message, options);
  }
}
