/**
 * @jobgraph/core: the scheduler of jobgraph (the TypeScript analogue of asynciojobs).
 * @packageDocumentation
 */
export { AbstractJob, type JobContainer, type JobContext, type JobOptions, labelOf } from './abstract-job.js';
export { badge } from './badge.js';
export { type DotOptions, toDot } from './dot.js';
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
} from './errors.js';
export type {
  EventBase,
  EventMap,
  EventOf,
  JobEvent,
  JobEventType,
  Listener,
  SchedulerEvent,
} from './events.js';
export { exportGraph, type GraphFormat, withExtension } from './export.js';
export { Job, type JobFunction, type JobFunctionOptions } from './job.js';
export type { Lifecycle } from './job-state.js';
export type { DebriefOptions, ListOptions } from './listing.js';
export { isNestedScheduler } from './nesting.js';
export { PrintJob, type PrintJobOptions } from './print-job.js';
export {
  type KeepOnlyBetweenOptions,
  PureScheduler,
  type RunOptions,
  type SchedulerOptions,
} from './pure-scheduler.js';
export { dotToSvg, type PngOptions, svgToPng } from './render.js';
export type { Requirement } from './requirement.js';
export { Scheduler } from './scheduler.js';
export { Sequence, type SequenceItem, type SequenceOptions } from './sequence.js';
export { sleep } from './sleep.js';
export { MAX_DURATION } from './validate.js';
export { attachVerboseRenderer, type VerboseRendererOptions } from './verbose-renderer.js';
