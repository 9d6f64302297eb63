/**
 * @jobgraph/core: the scheduler of jobgraph (the TypeScript analogue of asynciojobs).
 *
 * The modules are arranged in layers, each importing only from the layers below it
 * (ARCHITECTURE.md): base → model → graph → run → views → scheduler.
 * @packageDocumentation
 */

export { FileTooLargeError, readBounded, readBoundedSync } from './base/bounded-read.js';
export {
  CoreErrorCode,
  CycleError,
  ForeignRequirementError,
  GraphRenderError,
  InvalidOptionError,
  InvalidStateError,
  JobCancelledError,
  JobGraphError,
  JobInTwoSchedulersError,
  JobNotDoneError,
  JobTimeoutError,
  RunTimeoutError,
} from './base/errors.js';
export { cutText, elided } from './base/safe-text.js';
export { sleep } from './base/sleep.js';
export { MAX_DURATION } from './base/validate.js';
export type { KeepOnlyBetweenOptions } from './graph/editing.js';
export {
  AbstractJob,
  type EventBase,
  type EventMap,
  type EventOf,
  type JobContainer,
  type JobContext,
  type JobEvent,
  type JobEventType,
  type JobOptions,
  jobOptionKeys,
  type Listener,
  labelOf,
  type Requirement,
  type SchedulerEvent,
} from './model/abstract-job.js';
export { Job, type JobFunction, type JobFunctionOptions } from './model/job.js';
export type { Lifecycle } from './model/job-state.js';
export { PrintJob, type PrintJobOptions } from './model/print-job.js';
export { Sequence, type SequenceItem, type SequenceOptions } from './model/sequence.js';
export type { RunOptions, SchedulerOptions } from './scheduler/options.js';
export { type AnnouncedEvent, PureScheduler } from './scheduler/pure-scheduler.js';
export { isNestedScheduler, Scheduler } from './scheduler/scheduler.js';
export { attachVerboseRenderer, type VerboseScheduler } from './scheduler/verbose-renderer.js';
export { toDot } from './scheduler/views.js';
export { badge } from './views/badge.js';
export type { DotOptions } from './views/dot.js';
export { exportGraph, type GraphFormat, withExtension } from './views/export.js';
export {
  eventRecord,
  type JsonLinesOptions,
  jsonLinesSink,
  type LineWriter,
  oneLine,
  plainCopy,
} from './views/json-lines.js';
export type { DebriefOptions, ListOptions } from './views/listing.js';
export { dotToSvg, type PngOptions, svgToPng } from './views/render.js';
export type { VerboseRendererOptions } from './views/verbose-lines.js';
