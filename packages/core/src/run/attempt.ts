/**
 * Running one job: its attempts (`retries`) and the per-attempt `timeout`.
 */

import { setImmediate as nextTurn } from 'node:timers';
import { hasBrand, SCHEDULER_BRAND } from '../base/brand.js';
import { JobTimeoutError } from '../base/errors.js';
import { settleWithin } from '../base/settle.js';
import { type AbstractJob, labelOf } from '../model/abstract-job.js';
import { kState } from '../model/job-state.js';
import { AttemptContext, type RunContext } from './run-context.js';

/**
 * Runs `job` until an attempt succeeds, the attempts are used up, or the job is cancelled.
 * Rejects with the last attempt's error.
 */
export function runJob(job: AbstractJob, ctx: RunContext): Promise<unknown> {
  // A nested scheduler enforces its `timeout` itself (as a run timeout, which a
  // non-critical scheduler reports as false rather than as a failure).
  const timeout = hasBrand(job, SCHEDULER_BRAND) ? undefined : job.timeout;
  job[kState].attempts = 1;
  // The common case, kept free of extra promises: it runs once per job of every run.
  if (job.retries === 0 && timeout === undefined) return callRun(job, ctx);
  return runAttempts(job, ctx, timeout);
}

/** Attempts between two turns of the event loop. */
const TURN_EVERY = 1000;

async function runAttempts(job: AbstractJob, ctx: RunContext, timeout: number | undefined): Promise<unknown> {
  const attempts = 1 + job.retries;
  for (;;) {
    job[kState].attempts = ctx.attempt;
    try {
      return timeout === undefined ? await callRun(job, ctx) : await runWithTimeout(job, ctx, timeout);
    } catch (error) {
      if (ctx.cancelled || ctx.attempt >= attempts) throw error;
      ctx.retrying(ctx.attempt + 1, error);
      // a turn of the event loop every so many attempts: a job that fails at once, retried
      // millions of times, held the loop, and no timeout (the scheduler's) could fire. Not every
      // attempt: a few retries stay as quick as they were. Node's own setImmediate: a test's fake
      // timers (which replace the global one) must not stop the retries
      if (ctx.attempt % TURN_EVERY === 0) {
        await new Promise((resolve) => nextTurn(resolve));
        if (ctx.cancelled) throw error;
      }
    }
  }
}

/**
 * `job.run(ctx)`, with a synchronous throw turned into a rejection, and a plain value
 * (a JavaScript subclass whose `run()` is not async) into a promise. `Promise.resolve`
 * returns a native promise as it is, so the common case costs nothing.
 */
function callRun(job: AbstractJob, ctx: RunContext): Promise<unknown> {
  try {
    return Promise.resolve(job.run(ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * One attempt with a time limit. The attempt's signal aborts on expiry (or when the job is
 * cancelled); the attempt then fails once the job has settled — so that it can clean up, e.g.
 * kill its remote process before the connections close — or after the scheduler's
 * shutdownTimeout if it ignores its signal (its late outcome is then discarded).
 */
function runWithTimeout(job: AbstractJob, ctx: RunContext, timeout: number): Promise<unknown> {
  const controller = new AbortController();
  const parentSignal = ctx.signal;
  return new Promise<unknown>((resolve, reject) => {
    let running: Promise<unknown> | undefined;
    const onParentAbort = () => controller.abort(parentSignal.reason);
    const onAbort = () => {
      cleanup();
      const reason = controller.signal.reason;
      if (running === undefined) reject(reason);
      else void settleWithin([running], ctx.shutdownTimeout).then(() => reject(reason));
    };
    const expire = () => controller.abort(new JobTimeoutError(labelOf(job), timeout));
    // A limit of 0 ms expires before the attempt starts (as Python's wait_for(timeout=0)): a timer
    // of 0 would fire only after a synchronous job had already succeeded.
    const timer = timeout > 0 ? setTimeout(expire, timeout) : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      parentSignal.removeEventListener('abort', onParentAbort);
      controller.signal.removeEventListener('abort', onAbort);
    };
    if (parentSignal.aborted) controller.abort(parentSignal.reason);
    else if (timer === undefined) expire();
    else parentSignal.addEventListener('abort', onParentAbort, { once: true });
    if (controller.signal.aborted) {
      cleanup();
      reject(controller.signal.reason);
      return;
    }
    controller.signal.addEventListener('abort', onAbort, { once: true });
    try {
      running = Promise.resolve(job.run(new AttemptContext(ctx, controller.signal)));
    } catch (error) {
      cleanup();
      reject(error);
      return;
    }
    running.then(
      (value) => {
        if (controller.signal.aborted) return;
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        cleanup();
        reject(error);
      },
    );
  });
}
