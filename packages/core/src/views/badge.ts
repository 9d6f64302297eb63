/**
 * The 4-symbol state badge of listings (asynciojobs `repr_short`): critical,
 * exception/started, lifecycle, forever.
 */
import type { AbstractJob } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';

/** The symbols of a badge. */
interface BadgeSymbols {
  readonly critical: string;
  readonly raised: string;
  readonly started: string;
  readonly notStarted: string;
  readonly done: string;
  readonly running: string;
  readonly scheduled: string;
  readonly idle: string;
  readonly forever: string;
}

const UNICODE: BadgeSymbols = {
  critical: '⚠',
  raised: '★',
  started: '☉',
  notStarted: ' ',
  done: '☓',
  running: '↺',
  scheduled: '⚑',
  idle: '⚐',
  forever: '∞',
};

const ASCII: BadgeSymbols = {
  critical: '!',
  raised: ':(',
  started: ':)',
  notStarted: '  ',
  done: 'x',
  running: 'o',
  scheduled: '.',
  idle: '>',
  forever: '8',
};

/**
 * `⚠ ☉ ☓ ∞`-style badge. `↺` stands for running and for cancelled (a stopped forever job).
 * With `ascii`, the asynciojobs fallback `! :) x 8`.
 */
export function badge(job: AbstractJob, ascii = false): string {
  const symbols = ascii ? ASCII : UNICODE;
  const state = job[kState];
  const critical = job.critical ? symbols.critical : ' ';
  const boom = state.failed ? symbols.raised : state.started ? symbols.started : symbols.notStarted;
  let lifecycle: string;
  switch (state.lifecycle) {
    case 'done':
      lifecycle = symbols.done;
      break;
    case 'running':
    case 'cancelled':
      lifecycle = symbols.running;
      break;
    case 'scheduled':
      lifecycle = symbols.scheduled;
      break;
    case 'idle':
      lifecycle = symbols.idle;
      break;
  }
  const forever = job.forever ? symbols.forever : ' ';
  return `${critical} ${boom} ${lifecycle} ${forever}`;
}
