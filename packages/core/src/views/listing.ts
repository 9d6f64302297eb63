/**
 * Text views of a scheduler: `list()`, `listSafe()` and `debrief()`, in the formats of
 * asynciojobs (see the package README for examples).
 */
import { inspect } from 'node:util';
import { cutText, isError, messageText, safely, safeText, shortened } from '../base/safe-text.js';
import { buildIndex, findCycle, orderIndices } from '../graph/algorithms.js';
import { isNestedGraph, type JobGraph } from '../graph/nesting.js';
import { type AbstractJob, labelOf } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { badge } from './badge.js';

/** Options of `list()` and `listSafe()`. */
export interface ListOptions {
  /** Add each job's `details()` below its line. @default false */
  details?: boolean;
  /** Use the ASCII badge (`! :) x 8`) instead of the Unicode one. @default false */
  ascii?: boolean;
}

/** Options of `debrief()`. */
export interface DebriefOptions extends ListOptions {
  /**
   * The stack of each critical job's error, as asynciojobs prints it; `false`: its first line only
   * (`Name: message`), for a command line that shows stacks only when asked. @default true
   */
  stacks?: boolean;
}

const MAX_RESULT_LENGTH = 200;
/** The most of one error a debrief shows (its stack, or its text). */
const MAX_ERROR_LENGTH = 10_000;

/** `<ClassName `label`>` */
export function mainText(job: AbstractJob): string {
  return `<${job.constructor.name} \`${labelOf(job)}\`>`;
}

function describeResult(value: unknown): string {
  // inspect() reads getters of errors (and throws on a revoked Proxy): a view never throws
  const text =
    typeof value === 'string'
      ? value
      : safely(() => inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY }), safeText(value));
  return shortened(text, MAX_RESULT_LENGTH);
}

function describeError(error: unknown): string {
  const text = isError(error)
    ? `${safely(() => safeText(error.name), 'Error')}:${messageText(error)}`
    : `${typeof error}:${safeText(error)}`;
  return shortened(text, MAX_RESULT_LENGTH);
}

/** `[not done]`, `[[ -> result]]`, or the exception in asynciojobs' wording. */
export function resultText(job: AbstractJob): string {
  const custom = job.resultSummary();
  if (custom !== undefined) return custom;
  const state = job[kState];
  if (state.lifecycle !== 'done') return '[not done]';
  if (state.failed) {
    return job.critical
      ? `!! CRIT. EXC. => ${describeError(state.error)}!!`
      : `!! exception => ${describeError(state.error)}!!`;
  }
  return `[[ -> ${describeResult(state.result)}]]`;
}

function requiresText(job: AbstractJob, idOf: (job: AbstractJob) => string): string {
  if (job.required.size === 0) return '';
  return `requires={${[...job.required].map(idOf).join(', ')}}`;
}

/**
 * The jobs of `scheduler` and of its nested schedulers in display order (depth first,
 * topological inside each scheduler), each given its display id.
 */
export function numberForDisplay(scheduler: JobGraph): AbstractJob[] {
  const ordered: AbstractJob[] = [];
  const visit = (current: JobGraph) => {
    const jobs = [...current.jobs];
    const index = buildIndex(current, jobs, '', 'ignore');
    const order = orderIndices(index);
    if (order.length < jobs.length) throw findCycle(index, order);
    for (const i of order) {
      const job = jobs[i] as AbstractJob;
      ordered.push(job);
      if (isNestedGraph(job)) visit(job);
    }
  };
  visit(scheduler);
  const width = String(ordered.length).length;
  ordered.forEach((job, rank) => {
    job[kState].id = String(rank + 1).padStart(width, '0');
  });
  return ordered;
}

/** The asynciojobs `list()` text. @throws CycleError on a cyclic graph (use `listSafe()`). */
export function list(scheduler: JobGraph, options: ListOptions = {}): string {
  // A requirement outside the listed graph may still carry an id from an earlier
  // numbering (e.g. a job since removed): show `??` rather than that stale id.
  const numbered = new Set(numberForDisplay(scheduler));
  const lines: string[] = [];
  const ids = (job: AbstractJob) => (numbered.has(job) ? job[kState].id : '??');
  const visit = (current: JobGraph, depth: number) => {
    const jobs = [...current.jobs];
    const order = orderIndices(buildIndex(current, jobs, '', 'ignore'));
    const indent = depth > 0 ? `${'>'.repeat(depth)} ` : '';
    for (const i of order) {
      const job = jobs[i] as AbstractJob;
      const id = job[kState].id;
      let line = `${id} ${badge(job, options.ascii)} ${indent}${mainText(job)} ${resultText(job)} ${requiresText(job, ids)}`;
      if (isNestedGraph(job)) line += ` -> entries={${job.entryJobs().map(ids).join(', ')}}`;
      lines.push(line);
      const details = options.details ? job.details() : undefined;
      if (details !== undefined) lines.push(details);
      if (isNestedGraph(job)) {
        visit(job, depth + 1);
        lines.push(
          `${id} --end-- ${'<'.repeat(depth + 1)} ${mainText(job)} exits={${job.exitJobs().map(ids).join(', ')}}`,
        );
      }
    }
  };
  visit(scheduler, 0);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A listing that works on any graph, cycles included: insertion order, path-like ids (`.1`, `3.2`). */
export function listSafe(scheduler: JobGraph, options: ListOptions = {}): string {
  const pathIds = new Map<AbstractJob, string>();
  const assign = (current: JobGraph, prefix: string) => {
    let k = 1;
    for (const job of current.jobs) {
      const id = `${prefix}.${k++}`;
      pathIds.set(job, id);
      if (isNestedGraph(job)) assign(job, id.replace(/^\./, ''));
    }
  };
  assign(scheduler, '');
  const ids = (job: AbstractJob) => pathIds.get(job) ?? '??';
  const lines: string[] = [];
  const visit = (current: JobGraph) => {
    for (const job of current.jobs) {
      lines.push(`${badge(job, options.ascii)} ${ids(job)} ${mainText(job)} ${requiresText(job, ids)}`);
      const details = options.details ? job.details() : undefined;
      if (details !== undefined) lines.push(details);
      if (isNestedGraph(job)) {
        visit(job);
        lines.push(`--end-- ${ids(job)}`);
      }
    }
  };
  visit(scheduler);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * `----- <why>`, the listing, then the exceptions: a stack dump for each critical one,
 * a one-line summary for each non-critical one.
 */
export function debrief(scheduler: JobGraph, options: DebriefOptions = {}): string {
  let text = `----- ${scheduler.why()}\n${list(scheduler, options)}`;
  // In listing order, nested schedulers' jobs included: the root cause of a failed
  // nested scheduler is one of its own jobs.
  const all = numberForDisplay(scheduler).filter((job) => job[kState].failed);
  // A critical nested scheduler fails with the error of its failing job: report it once.
  const innerErrors = new Set(all.filter((job) => !isNestedGraph(job)).map((job) => job[kState].error));
  const failed = all.filter((job) => !(isNestedGraph(job) && innerErrors.has(job[kState].error)));
  if (failed.length === 0) return text;
  const critical = failed.filter((job) => job.critical);
  text += `===== ${failed.length} job(s) with an exception, including ${critical.length} critical\n`;
  const stars = '    ********************';
  for (const job of critical) {
    const head = `${job[kState].id} ${badge(job, options.ascii)} ${mainText(job)}`;
    const error = job[kState].error;
    const full = isError(error)
      ? safely(() => error.stack ?? safeText(error), safeText(error))
      : safeText(error);
    const stack = cutText(
      options.stacks === false && isError(error)
        ? `${safely(() => safeText(error.name), 'Error')}: ${messageText(error)}`
        : full,
      MAX_ERROR_LENGTH,
    );
    text += `${stars}\n${stars} BEG stack for CRITICAL JOB ${head}\n${stars}\n`;
    text += `${stack
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n')}\n`;
    text += `${stars}\n${stars} END stack for CRITICAL JOB ${head}\n${stars}\n`;
  }
  for (const job of failed.filter((job) => !job.critical)) {
    const error = job[kState].error;
    const shown = cutText(messageText(error), MAX_ERROR_LENGTH);
    text += `non-critical: ${labelOf(job)}: exception ${shown}\n`;
  }
  return text;
}
