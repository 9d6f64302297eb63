/**
 * The renderer behind `verbose: true`: asynciojobs' verbose lines, one per event of a run.
 */
import type { SchedulerEvent } from '../model/abstract-job.js';
import {
  describeReason,
  type VerboseRendererOptions,
  type VerboseSource,
  verboseLines,
} from '../views/verbose-lines.js';

/** What the renderer needs of a scheduler: its lines' facts and its events. */
export interface VerboseScheduler extends VerboseSource {
  onAny(listener: (event: SchedulerEvent) => void): () => void;
}

/**
 * Subscribes a renderer that writes asynciojobs' verbose lines, one per event, e.g.
 * `000.051  1D + 0R + 1I = 2 DONE    : 1 ⚠ ☉ ☓   <Job `a`> [[ -> 1]] `
 * (what `verbose: true` attaches during a run). It lives here, with the run events whose
 * lines it chooses; the lines themselves are made by views/verbose-lines.ts.
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
  scheduler: VerboseScheduler,
  options: VerboseRendererOptions = {},
): () => void {
  const lines = verboseLines(scheduler, options);
  return scheduler.onAny((event) => {
    if (lines.isNestedVerbose(event)) return;
    switch (event.type) {
      case 'run:start':
        if (event.scheduler === scheduler) lines.restart(event.time);
        lines.schedulerLine(event, event.scheduler, `SCHEDULER: entering run() with ${event.jobs} jobs`);
        break;
      case 'run:timeout':
        lines.schedulerLine(event, event.scheduler, `SCHEDULER: TIMEOUT occurred after ${event.timeout} ms`);
        break;
      case 'run:abort':
        lines.schedulerLine(
          event,
          event.scheduler,
          `SCHEDULER: Emergency exit: ${describeReason(event.reason)}`,
        );
        break;
      case 'shutdown:start':
        lines.schedulerLine(event, event.scheduler, 'SCHEDULER: scheduler is shutting down...');
        break;
      case 'shutdown:done':
        if (event.pending > 0) {
          const { pending, scheduler: owner } = event;
          lines.schedulerLine(
            event,
            owner,
            `SCHEDULER: WARNING: ${pending}/${owner.size} shutdown() have not returned within timeout`,
          );
        }
        break;
      default:
        lines.jobEventLine(event);
    }
  });
}
