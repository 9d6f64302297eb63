/**
 * What the live view shows, kept up to date from the run's events: the counts (done, running,
 * waiting, failed), the jobs running now (label, node, since when, their last output line, nested
 * schedulers' jobs under theirs), and the failures with their error. A plain model: the view
 * (live-view.ts) draws it; tests feed it events.
 */
import { type AbstractJob, labelOf, oneLine, type SchedulerEvent } from '@jobgraph/core';

/** A job running now. */
export interface RunningJob {
  readonly job: AbstractJob;
  readonly id: string;
  readonly label: string;
  readonly node: string;
  readonly since: number;
  /** Nested schedulers above it (0 for the run's own jobs). */
  readonly depth: number;
  /** The nested scheduler it runs in (a job of the run too), if any. */
  readonly parent: AbstractJob | undefined;
  readonly forever: boolean;
  attempt: number;
  /** The command running now, until it prints. */
  command?: string;
  /** Its last lines of output, newest last, without control characters. */
  readonly lines: string[];
  /** The state of a progress bar in a line not ended yet (`curl`, `pv`), shown in place of the last line. */
  progress?: string | undefined;
}

/** A job that failed, kept on screen with its error. */
export interface FailedJob {
  readonly id: string;
  readonly label: string;
  readonly node: string;
  readonly error: string;
  readonly depth: number;
}

/** The live view's model of a run. */
export class LiveState {
  /** Output lines kept per running job. */
  readonly #keepLines: number;
  readonly running = new Map<AbstractJob, RunningJob>();
  readonly failures: FailedJob[] = [];
  /** The run's own jobs (not forever), and how many of them ended: the progress bar's. */
  finite = 0;
  done = 0;
  failed = 0;
  /** Forever jobs of the run that failed: failures to show, no progress. */
  foreverFailed = 0;
  cancelled = 0;
  started: number | undefined;
  ended: number | undefined;
  /** Changed since the last frame. */
  dirty = true;

  /** The id shown for a job: a scenario's own ids (as the log and the report name jobs), else its display id. */
  readonly #idOf: (job: AbstractJob) => string;

  constructor(keepLines = 1, idOf?: (job: AbstractJob) => string | undefined) {
    this.#keepLines = Math.max(1, keepLines);
    this.#idOf = (job) => idOf?.(job) ?? job.displayId;
  }

  /** The run's own jobs that have not started (or are waiting for a slot). */
  get waiting(): number {
    let runningFinite = 0;
    for (const row of this.running.values()) if (row.depth === 0 && !row.forever) runningFinite += 1;
    return Math.max(0, this.finite - this.done - this.failed - this.cancelled - runningFinite);
  }

  apply(event: SchedulerEvent): void {
    const depth = event.path.length;
    switch (event.type) {
      case 'run:start':
        if (depth === 0 && this.started === undefined) {
          this.started = event.time;
          this.finite = [...event.scheduler.jobs].filter((job) => !job.forever).length;
        }
        break;
      case 'run:done':
        if (depth === 0) this.ended = event.time;
        break;
      case 'job:start': {
        const known = this.running.get(event.job);
        if (known !== undefined) {
          known.attempt = event.attempt;
          break;
        }
        this.running.set(event.job, {
          job: event.job,
          id: printable(this.#idOf(event.job)),
          label: printable(labelOf(event.job)),
          node: printable(nodeOf(event.job)),
          since: event.time,
          depth,
          parent: event.path.at(-1),
          forever: event.job.forever,
          attempt: event.attempt,
          lines: [],
        });
        break;
      }
      case 'job:done':
        this.#end(event.job, depth, 'done');
        break;
      case 'job:cancelled':
        this.#end(event.job, depth, 'cancelled');
        break;
      case 'job:failed':
        this.#end(event.job, depth, 'failed');
        this.failures.push({
          id: printable(this.#idOf(event.job)),
          label: printable(labelOf(event.job)),
          node: printable(nodeOf(event.job)),
          error: printable(oneLine(event.error)),
          depth,
        });
        break;
      case 'cmd:start': {
        const row = this.running.get(event.job);
        if (row !== undefined) row.command = printable(event.command);
        break;
      }
      case 'cmd:line': {
        const row = this.running.get(event.job);
        if (row === undefined) break;
        // the line a progress bar was in has ended: it shows as it ended
        row.progress = undefined;
        const text = printable(event.line);
        if (text === '') return;
        row.lines.push(text);
        if (row.lines.length > this.#keepLines) row.lines.shift();
        break;
      }
      case 'cmd:progress': {
        const row = this.running.get(event.job);
        if (row === undefined) break;
        const text = printable(event.text);
        if (text === '' || text === row.progress) return;
        row.progress = text;
        break;
      }
      default:
        return;
    }
    this.dirty = true;
  }

  #end(job: AbstractJob, depth: number, how: 'done' | 'cancelled' | 'failed'): void {
    const row = this.running.get(job);
    this.running.delete(job);
    // the progress counts the run's own finite jobs; a nested scheduler's are inside one of them
    if (depth > 0) return;
    if (row?.forever ?? job.forever) {
      // a forever job that fails (a capture that died) is a failure all the same, if no progress
      if (how === 'failed') this.foreverFailed += 1;
      return;
    }
    if (how === 'done') this.done += 1;
    else if (how === 'failed') this.failed += 1;
    else this.cancelled += 1;
  }
}

/** A job's node as its name, or '' for a job without one. */
function nodeOf(job: AbstractJob): string {
  const node = (job as { node?: unknown }).node;
  return node === undefined || node === null ? '' : String(node);
}

/**
 * The most characters of a text kept to show: more than any terminal is wide. A line of output
 * may be megabytes long; cutting it to the screen's width each frame cost seconds a frame.
 */
export const MAX_SHOWN = 1000;

/**
 * A line as the terminal may show it: what follows its last carriage return (a progress bar
 * redraws itself with `\r`), without control characters (escape sequences of the remote output
 * would move the cursor and break the frame), tabs as spaces, trimmed, at most {@link MAX_SHOWN}
 * characters.
 */
export function printable(text: string): string {
  const pieces = text.split('\r');
  const latest = pieces.findLast((piece) => piece.trim() !== '') ?? '';
  // escape sequences may take most of it: four times the room before they are removed
  return cut(
    cut(latest, 4 * MAX_SHOWN)
      // CSI and OSC sequences, then any other control character
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
      // DCS, SOS, PM and APC strings (a sixel image): their text is no output to show
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/\u001b[PX^_][^\u001b]*(?:\u001b\\)?/g, '')
      .replace(/\t/g, ' ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
      .trim(),
    MAX_SHOWN,
  );
}

/** The first `length` UTF-16 units of `text`, one fewer rather than half of a character. */
function cut(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}
