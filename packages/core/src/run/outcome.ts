/**
 * How a run ended, and how `why()` says it (asynciojobs' wording).
 */
import type { RunTimeoutError } from '../base/errors.js';
import { safely, safeText } from '../base/safe-text.js';
import type { AbstractJob } from '../model/abstract-job.js';

/** How a run ended. */
export type RunOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'critical'; readonly job: AbstractJob; readonly error: unknown }
  | { readonly kind: 'timeout'; readonly error: RunTimeoutError }
  | { readonly kind: 'aborted'; readonly reason: unknown };

/**
 * `FINE` (also before any run), `TIMED OUT after <t> ms`, `a CRITICAL job has raised an
 * exception`, or `ABORTED: <reason>`.
 */
export function describeOutcome(outcome: RunOutcome | undefined): string {
  if (outcome === undefined || outcome.kind === 'ok') return 'FINE';
  if (outcome.kind === 'timeout') return `TIMED OUT after ${outcome.error.timeout} ms`;
  if (outcome.kind === 'critical') return 'a CRITICAL job has raised an exception';
  const reason = outcome.reason;
  return `ABORTED: ${reason instanceof Error ? safely(() => safeText(reason.message), '') : safeText(reason)}`;
}

/** `3D + 1R + 2I = 6`: jobs done, running (or cancelled), idle (or waiting for a slot). */
export function describeProgress(jobs: ReadonlySet<AbstractJob>): string {
  let done = 0;
  let ongoing = 0;
  for (const job of jobs) {
    const lifecycle = job.state;
    if (lifecycle === 'done') done++;
    else if (lifecycle === 'running' || lifecycle === 'cancelled') ongoing++;
  }
  const idle = jobs.size - done - ongoing;
  return `${done}D + ${ongoing}R + ${idle}I = ${jobs.size}`;
}
