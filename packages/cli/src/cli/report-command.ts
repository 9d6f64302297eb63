/**
 * `jobgraph report LOG [-o FILE.html]`: the report page of a run, from its event log alone
 * (`jobgraph run --log`, or a report directory's events.jsonl).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { eachLogRecord } from '../report/log-file.js';
import { RunModelBuilder } from '../report/run-model.js';
import { modelPage } from '../report/write-report.js';
import { EXIT, messageOf, UsageError } from './errors.js';
import type { Io } from './run.js';

/** Where the page goes when `-o` is not given: the log's name with `.html` (`run.jsonl` → `run.html`). */
export function defaultPagePath(log: string): string {
  return `${log.replace(/\.jsonl?$/i, '')}.html`;
}

/** Writes the page. @returns the exit code */
export async function reportCommand(log: string, output: string | undefined, io: Io): Promise<number> {
  if (output !== undefined && output.trim() === '')
    throw new UsageError('-o/--output expects a file name (FILE.html)');
  if (output !== undefined && resolve(output) === resolve(log))
    throw new UsageError(`-o ${output}: that is the log itself: the page would replace it`);
  const model = new RunModelBuilder();
  const { cut } = await eachLogRecord(log, (record) => model.add(record));
  if (cut !== undefined) io.stderr.write(`jobgraph: ${cut}\n`);
  if (model.laterRuns > 0) {
    io.stderr.write(
      `jobgraph: ${log} holds ${model.laterRuns + 1} runs (one sink given to several runs, or logs joined): the page shows the first\n`,
    );
  }
  const page = await modelPage(model.model());
  const path = output ?? defaultPagePath(log);
  try {
    await writeFile(path, page);
  } catch (error) {
    throw new Error(`cannot write the report ${path}: ${messageOf(error)}`, { cause: error });
  }
  io.stdout.write(`${path}\n`);
  return EXIT.ok;
}
