/**
 * Making the report page, from a run's events: those a log file holds (`jobgraph report LOG`),
 * those `jobgraph run --report` recorded, or those {@link recordRun} recorded in a script of
 * yours ({@link writeReport}).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AbstractJob, eventRecord, type PureScheduler } from '@jobgraph/core';
import { reportHtml } from './html.js';
import type { LogRecord } from './log-file.js';
import { reportPictures } from './pictures.js';
import { planOf } from './plan.js';
import { type RunModel, type RunModelBuilder, runModel } from './run-model.js';

/** The page of the run that `records` (a log's lines, parsed) tell. */
export function reportPage(records: readonly LogRecord[]): Promise<string> {
  return modelPage(runModel(records));
}

/** The page of a run's model (built as the events came: {@link RunModelBuilder}). */
export async function modelPage(model: RunModel): Promise<string> {
  return reportHtml(model, await reportPictures(model));
}

/** The events of a scheduler's run, recorded by {@link recordRun}. */
export interface RunRecording {
  /** The events so far, as the lines of a log would hold them (output lines included). */
  readonly records: readonly LogRecord[];
  /** Stops recording. */
  stop(): void;
}

const recordings = new WeakMap<PureScheduler, RunRecording>();

/**
 * Records the events of `scheduler`'s next run, for {@link writeReport}: call it before `run()`.
 * Output lines are kept (the report shows a job's last ones); the plan of the jobs (ids, labels,
 * requirements) is taken when the run starts. Memory: one small object per event.
 *
 * @example
 * ```ts
 * recordRun(scheduler)
 * await scheduler.run()
 * await writeReport(scheduler, 'reports/today')   // reports/today/report.html
 * ```
 */
export function recordRun(scheduler: PureScheduler): RunRecording {
  recordings.get(scheduler)?.stop();
  const records: LogRecord[] = [];
  const idOf = (job: AbstractJob) => job.displayId;
  const stop = scheduler.onAny((event) => {
    if (event.type === 'run:start' && event.path.length === 0) {
      records.push({
        time: new Date(event.time).toISOString(),
        type: 'run:plan',
        jobs: planOf(scheduler.jobs, idOf),
      } as unknown as LogRecord);
    }
    records.push(eventRecord(event, { output: true }) as LogRecord);
  });
  const recording = { records, stop };
  recordings.set(scheduler, recording);
  return recording;
}

/**
 * Writes `dir/report.html` (creating `dir`), the report of the run that {@link recordRun} recorded:
 * one self-contained page with the outcome, a timeline of the jobs and commands on their nodes,
 * the job graph coloured by outcome, the topology, and each job's details.
 * @returns the path of the page
 * @throws Error when `scheduler` was not recorded, or the page cannot be written
 */
export async function writeReport(scheduler: PureScheduler, dir: string): Promise<string> {
  const recording = recordings.get(scheduler);
  if (recording === undefined) {
    throw new Error(
      'writeReport: no run of this scheduler was recorded: call recordRun(scheduler) before its run()',
    );
  }
  const page = await reportPage(recording.records);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'report.html');
  await writeFile(path, page);
  return path;
}
