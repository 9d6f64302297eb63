/**
 * `jobgraph run SCENARIO --resume run.jsonl`: runs again what a logged run (`--log`) did not
 * achieve. The jobs the log shows done — `job:done` of a scenario job none of whose commands
 * failed in its last attempt (a non-critical job goes on past one), or carried over by a
 * `run:resume` line of a run that was itself a resume — are left out, with the requirements on
 * them (done already); the jobs that failed, were cancelled or never ran are run, with what
 * requires them. The log is read whole before anything runs: a line that is not an event, or a
 * job the scenario does not have, is an error naming the line.
 */

import { eachLogRecord } from '../report/log-file.js';
import type { LoadedScenario } from '../scenario/load.js';
import { UsageError } from './errors.js';
import { lockHolder } from './output-lock.js';
import { realTarget } from './output-paths.js';

declare module '@jobgraph/core' {
  interface EventMap {
    /** A run resumed from an earlier run's log: `done` lists the ids of the jobs left out as done there. */
    'run:resume': { from: string; done: string[] };
  }
}

/** The scenario without the jobs done in the run that `log` recorded, and their ids. */
export interface Resumed {
  readonly scenario: LoadedScenario;
  /** The ids of the jobs left out, in the scenario's order. */
  readonly done: string[];
}

/**
 * Reads `log` and leaves out of `scenario` the jobs that it shows done.
 * @throws UsageError `cannot read the log FILE: why`; `FILE:LINE: why` for a line that is not an
 * event of a jobgraph log, or that names a job the scenario does not have; `FILE: …` for a file
 * without any run in it
 */
export async function resumeFrom(
  scenario: LoadedScenario,
  log: string,
  warn: (line: string) => void = () => undefined,
  title?: string,
): Promise<Resumed> {
  // a run still writing the log has jobs in flight that the log shows neither done nor ended:
  // resumed now, they would run twice at once
  const writer = lockHolder(`${realTarget(log)}.lock`);
  if (writer !== undefined) {
    throw new UsageError(
      `--resume ${log}: another jobgraph run (${writer}) is still writing it; resume once it has ended`,
    );
  }
  const done = await doneIn(log, scenario, warn, title);
  const unfinished = [...scenario.jobs].filter(([id]) => !done.has(id));
  // forever jobs (a capture, cancelled when the run ended) run again beside what runs again; alone,
  // they would start and stop at once: nothing to run
  const kept = new Map(unfinished.some(([, job]) => !job.forever) ? unfinished : []);
  // keepOnly drops the requirements on the jobs left out: done already
  scenario.scheduler.keepOnly(kept.values());
  return {
    scenario: { ...scenario, jobs: kept },
    done: [...scenario.jobs.keys()].filter((id) => done.has(id)),
  };
}

/** The ids of the scenario's jobs that `log` shows done. */
async function doneIn(
  log: string,
  scenario: LoadedScenario,
  warn: (line: string) => void,
  title: string | undefined,
): Promise<Set<string>> {
  const done = new Set<string>();
  let planned: string | undefined;
  // jobs whose attempt ran a command that failed: a non-critical job goes on to job:done, not achieved
  const fellShort = new Set<string>();
  const { cut } = await eachLogRecord(log, (event, line) => {
    const where = `${log}:${line}`;
    if (event.type === 'run:resume') {
      for (const id of stringList(event.done, where)) done.add(knownId(id, scenario, where));
      return;
    }
    // the scenario's own jobs: not those of a nested scheduler (none in a scenario, today)
    if (event.path !== undefined) return;
    // a log of another scenario whose ids are the same would be taken without a word: said
    if (event.type === 'run:plan' && planned === undefined && typeof event.title === 'string') {
      planned = event.title;
      if (title !== undefined && planned !== title)
        warn(
          `${log}:${line}: the logged run was of ${JSON.stringify(planned)}, this is ${JSON.stringify(title)}: jobs taken by their ids`,
        );
    }
    if (event.type === 'cmd:done' && event.ok === false) {
      fellShort.add(knownId(jobId(event.job, where), scenario, where));
      return;
    }
    if (!event.type.startsWith('job:')) return;
    const id = knownId(jobId(event.job, where), scenario, where);
    if (event.type === 'job:done' && !fellShort.has(id)) done.add(id);
    else if (event.type === 'job:start') {
      done.delete(id);
      fellShort.delete(id);
    } else if (event.type === 'job:failed' || event.type === 'job:cancelled') done.delete(id);
  });
  if (cut !== undefined) warn(cut);
  return done;
}

function jobId(job: unknown, where: string): string {
  const id = typeof job === 'object' && job !== null ? (job as { id?: unknown }).id : undefined;
  if (typeof id !== 'string')
    throw new UsageError(`${where}: expected "job": { "id", "label" } in a job event`);
  return id;
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new UsageError(`${where}: expected "done": a list of job ids in a run:resume event`);
  }
  return value as string[];
}

function knownId(id: string, scenario: LoadedScenario, where: string): string {
  if (!scenario.jobs.has(id)) {
    throw new UsageError(
      `${where}: job ${JSON.stringify(id)} is not in the scenario (the log of another scenario, or of an older version of it?)`,
    );
  }
  return id;
}
