/**
 * The verbose text renderer: the progress lines asynciojobs prints in verbose mode,
 * built from the event stream.
 */

import type { JobGraph } from '../graph/nesting.js';
import type { AbstractJob, SchedulerEvent } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { badge } from './badge.js';
import { mainText, resultText } from './listing.js';

/** Options of {@link attachVerboseRenderer}. */
export interface VerboseRendererOptions {
  /** Where lines go. @default process.stdout.write */
  write?: (text: string) => void;
  /** ASCII badges. @default false */
  ascii?: boolean;
}

/** `012.345  `: seconds since `start`, as asynciojobs' Watch prints them. */
/** What the renderer needs of a scheduler (a PureScheduler or a Scheduler). */
export interface VerboseSource extends JobGraph {
  /** Whether the scheduler prints its own lines (a verbose nested one is left to itself). */
  readonly verbose: boolean;
  /** `3D + 1R + 2I = 6` */
  stats(): string;
  onAny(listener: (event: SchedulerEvent) => void): () => void;
}

function elapsed(start: number, now: number): string {
  return `${((now - start) / 1000).toFixed(3).padStart(7, '0')}  `;
}

/**
 * Subscribes a renderer that writes one line per event, e.g.
 * `000.051  1D + 0R + 1I = 2 DONE    : 1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] `.
 * @returns a function that unsubscribes.
 *
 * @example
 * ```ts
 * const stop = attachVerboseRenderer(scheduler, { write: (line) => process.stderr.write(line) })
 * await scheduler.run()
 * stop()
 * ```
 */
export function attachVerboseRenderer(
  scheduler: VerboseSource,
  options: VerboseRendererOptions = {},
): () => void {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  let start = Date.now();
  const line = (event: SchedulerEvent, owner: VerboseSource, text: string) => {
    write(`${elapsed(start, event.time)}${owner.stats()} ${text}\n`);
  };
  const jobLine = (event: SchedulerEvent, job: AbstractJob, state: string) => {
    const owner = (job[kState].owner ?? scheduler) as VerboseSource;
    const requires = [...job.required].map((r) => r[kState].id || '??').join(', ');
    const text = `${state.padEnd(8)}: ${job[kState].id} ${badge(job, options.ascii)} ${mainText(job)} ${resultText(job)} ${requires ? `requires={${requires}}` : ''}`;
    line(event, owner, text);
  };
  return scheduler.onAny((event) => {
    // A verbose nested scheduler prints its own lines: do not print them a second time.
    const innermost = event.path[event.path.length - 1] as VerboseSource | undefined;
    if (innermost?.verbose) return;
    switch (event.type) {
      case 'run:start':
        if (event.scheduler === scheduler) start = event.time;
        line(event, event.scheduler, `SCHEDULER: entering run() with ${event.jobs} jobs`);
        break;
      case 'run:timeout':
        line(event, event.scheduler, `SCHEDULER: TIMEOUT occurred after ${event.timeout} ms`);
        break;
      case 'run:abort':
        line(event, event.scheduler, `SCHEDULER: Emergency exit: ${describe(event.reason)}`);
        break;
      case 'shutdown:start':
        line(event, event.scheduler, 'SCHEDULER: scheduler is shutting down...');
        break;
      case 'shutdown:done':
        if (event.pending > 0) {
          line(
            event,
            event.scheduler,
            `SCHEDULER: WARNING: ${event.pending}/${event.scheduler.size} shutdown() have not returned within timeout`,
          );
        }
        break;
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
  });
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
