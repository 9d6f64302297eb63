/**
 * `jobgraph run --log FILE.jsonl`: every event of the run as a JSON line (core's jsonLinesSink),
 * written while the run goes, jobs named by their scenario ids. The file is opened before the run,
 * so that a path that cannot be written fails at once rather than after an hour of experiment; a
 * write that fails later is reported once, at the end, and never stops the run.
 */

import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { type AbstractJob, jsonLinesSink } from '@jobgraph/core';
import type { LoadedScenario } from '../scenario/load.js';
import { messageOf, UsageError } from './errors.js';

/** An open event log: attached to the scenario's scheduler until {@link EventLog.close}. */
export class EventLog {
  readonly #path: string;
  readonly #stream: WriteStream;
  #detach: (() => void) | undefined;
  #flush: () => void = () => undefined;
  #error: unknown;
  #closed: Promise<Error | undefined> | undefined;

  private constructor(path: string, stream: WriteStream) {
    this.#path = path;
    this.#stream = stream;
    stream.on('error', (error) => {
      this.#error ??= error;
    });
  }

  /**
   * Opens (creates or empties) `path` and starts logging the scenario's events into it.
   * @throws UsageError `cannot write the log PATH: why` (exit code 2, before anything ran)
   */
  static async open(path: string, scenario: LoadedScenario, options: { output: boolean }): Promise<EventLog> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'w');
    } catch (error) {
      throw new UsageError(`cannot write the log ${path}: ${messageOf(error)}`, { cause: error });
    }
    const log = new EventLog(path, handle.createWriteStream());
    const ids = new Map<AbstractJob, string>();
    for (const [id, job] of scenario.jobs) ids.set(job, id);
    const sink = jsonLinesSink(log.#stream, { output: options.output, idOf: (job) => ids.get(job) });
    log.#flush = sink.flush;
    log.#detach = scenario.scheduler.onAny((event) => {
      if (log.#error === undefined) sink(event);
    });
    return log;
  }

  /**
   * Stops logging and closes the file once every line is written. Called again (a second Ctrl-C
   * closes it early), it gives the first call's answer.
   * @returns the error of a write that failed (`cannot write the log PATH: why`), if one did
   */
  close(): Promise<Error | undefined> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<Error | undefined> {
    this.#detach?.();
    this.#detach = undefined;
    // the sink writes in batches: what it still holds goes out before the end
    if (this.#error === undefined) this.#flush();
    await new Promise<void>((resolve) => {
      if (this.#stream.closed) resolve();
      // A write that fails at the end is told to this callback before the stream's 'error' event
      // (a stream that failed earlier: "destroyed", the 'error' event then says why): the event
      // is waited for, one turn, so that the real cause is the one reported.
      else
        this.#stream.end((error?: Error | null) => {
          if (error && (error as { code?: string }).code !== 'ERR_STREAM_DESTROYED') this.#error ??= error;
          setImmediate(resolve);
        });
      this.#stream.once('error', () => setImmediate(resolve));
    });
    return this.#error === undefined
      ? undefined
      : new Error(`cannot write the log ${this.#path}: ${messageOf(this.#error)}`, { cause: this.#error });
  }
}
