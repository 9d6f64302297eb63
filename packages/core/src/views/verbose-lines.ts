/**
 * The lines asynciojobs prints in verbose mode, e.g.
 * `000.051  1D + 0R + 1I = 2 DONE    : 1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] `:
 * their format, and the lines of the job events. The run events' lines are chosen where those
 * events are declared, by `attachVerboseRenderer` (scheduler/pure-scheduler.ts), which writes
 * them through {@link VerboseLines.schedulerLine}.
 */
import { cutText, messageText } from '../base/safe-text.js';
import type { JobGraph } from '../graph/nesting.js';
import type { AbstractJob, EventBase, SchedulerEvent } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { badge } from './badge.js';
import { mainText, resultText } from './listing.js';

/** The most of a reason a verbose line shows. */
const MAX_REASON_LENGTH = 2_000;

/** Options of `attachVerboseRenderer`. */
export interface VerboseRendererOptions {
  /** Where lines go. @default process.stdout.write */
  write?: (text: string) => void;
  /** ASCII badges. @default false */
  ascii?: boolean;
}

/** What the lines need of a scheduler (a PureScheduler or a Scheduler). */
export interface VerboseSource extends JobGraph {
  /** Whether the scheduler prints its own lines (a verbose nested one is left to itself). */
  readonly verbose: boolean;
  /** `3D + 1R + 2I = 6` */
  stats(): string;
}

/** The writer of one renderer's lines. */
export interface VerboseLines {
  /** Times are printed from `time` on (the start of the outermost run). */
  restart(time: number): void;
  /** True for an event of a verbose nested scheduler, which prints its own lines. */
  isNestedVerbose(event: SchedulerEvent): boolean;
  /** A line about a scheduler as a whole: `SCHEDULER: …`. */
  schedulerLine(event: EventBase, owner: VerboseSource, text: string): void;
  /** The line of a job event; other events are ignored. */
  jobEventLine(event: SchedulerEvent): void;
}

/** `012.345  `: seconds since `start`, as asynciojobs' Watch prints them. */
function elapsed(start: number, now: number): string {
  return `${((now - start) / 1000).toFixed(3).padStart(7, '0')}  `;
}

/** The lines of a renderer attached to `root`. */
export function verboseLines(root: VerboseSource, options: VerboseRendererOptions = {}): VerboseLines {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  let start = Date.now();
  const line = (event: EventBase, owner: VerboseSource, text: string) => {
    write(`${elapsed(start, event.time)}${owner.stats()} ${text}\n`);
  };
  const jobLine = (event: EventBase, job: AbstractJob, state: string) => {
    const owner = (job[kState].owner ?? root) as VerboseSource;
    const requires = [...job.required].map((r) => r[kState].id || '??').join(', ');
    const text = `${state.padEnd(8)}: ${job[kState].id} ${badge(job, options.ascii)} ${mainText(job)} ${resultText(job)} ${requires ? `requires={${requires}}` : ''}`;
    line(event, owner, text);
  };
  return {
    restart: (time) => {
      start = time;
    },
    isNestedVerbose: (event) =>
      (event.path[event.path.length - 1] as VerboseSource | undefined)?.verbose === true,
    schedulerLine: line,
    jobEventLine: (event) => {
      switch (event.type) {
        case 'job:scheduled':
          jobLine(event, event.job, 'WAITING');
          break;
        case 'job:start':
          jobLine(event, event.job, event.attempt > 1 ? `STARTING (attempt ${event.attempt})` : 'STARTING');
          break;
        case 'job:retry':
          jobLine(event, event.job, 'RETRYING');
          break;
        case 'job:done':
          jobLine(event, event.job, 'DONE');
          break;
        case 'job:failed':
          jobLine(event, event.job, event.critical ? 'EXCEPTION occurred - on critical job' : 'RAISED EXC.');
          break;
        case 'job:cancelled':
          jobLine(event, event.job, event.job.forever ? 'TIDYING forever' : 'ABORTING');
          break;
        case 'job:message':
          jobLine(event, event.job, `MESSAGE ${event.message}`);
          break;
        default:
          break;
      }
    },
  };
}

/** A reason as one line: an error's message, or the value as text. */
export function describeReason(reason: unknown): string {
  return cutText(messageText(reason), MAX_REASON_LENGTH);
}
