/**
 * The output paths `jobgraph run` is given (`--log`, `--report`, `--graph`, `--topology`), checked
 * before anything runs: a path that cannot be written fails at once, with exit code 2, rather
 * than after an hour of experiment.
 */
import { realpathSync } from 'node:fs';
import { access, constants, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { messageOf, UsageError } from './errors.js';

/** The files `--report DIR` writes in DIR (cli/report.ts): `--log` must not be one of them. */
const REPORT_FILES = [
  'report.json',
  'report.md',
  'events.jsonl',
  'debrief.txt',
  'jobs.svg',
  'topology.svg',
  'report.html',
];

/**
 * The path a file is or would be at, symbolic links followed (those of its directories when it
 * does not exist yet): two names of one file compare equal.
 */
export function realTarget(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(realTarget(parent), basename(absolute));
  }
}

/**
 * `--log` and `--report` that would write the same file (the report's own events.jsonl replacing
 * the log, or the log where the report's directory goes), or the scenario being run, are a usage
 * error, before the run. Paths are compared once links are followed: a link to the report's
 * directory is that directory.
 */
export function checkOutputsApart(
  log: string | undefined,
  report: string | undefined,
  scenario: string,
): void {
  const source = realTarget(scenario);
  if (log !== undefined && realTarget(log) === source)
    throw new UsageError(`--log ${log} is the scenario being run: the log would replace it`);
  if (report !== undefined && source.startsWith(`${realTarget(report)}${sep}`)) {
    const name = basename(source);
    if (REPORT_FILES.includes(name) || dirname(source) === join(realTarget(report), 'output'))
      throw new UsageError(
        `--report ${report} writes ${name} there: the scenario being run would be replaced`,
      );
  }
  if (log === undefined || report === undefined) return;
  const logPath = realTarget(log);
  const dir = realTarget(report);
  if (logPath === dir || dir.startsWith(`${logPath}${sep}`))
    throw new UsageError(
      `--log ${log} and --report ${report}: the report's directory would be the log's file`,
    );
  if (dirname(logPath) === dir && REPORT_FILES.includes(basename(logPath)))
    throw new UsageError(
      `--log ${log}: --report ${report} writes a file of that name: put the log elsewhere`,
    );
  if (dirname(logPath) === join(dir, 'output'))
    throw new UsageError(
      `--log ${log}: --report ${report} writes the jobs' output there: put the log elsewhere`,
    );
}

/**
 * Makes sure the report's directory can be written before the run: created if missing.
 * @throws UsageError `cannot write the report in DIR: why` (exit code 2, before anything ran)
 */
export async function checkReportDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK | constants.X_OK);
    // a file written and removed: permissions alone do not tell (root may "write" in /proc)
    const probe = join(dir, `.jobgraph-write-check-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    // mkdir's EEXIST says only that something is there: say what
    const why =
      (error as { code?: string }).code === 'EEXIST' ? 'it exists and is not a directory' : messageOf(error);
    throw new UsageError(`cannot write the report in ${dir}: ${why}`, { cause: error });
  }
}

/**
 * Makes sure a file can be written at `path` (`--graph`, `--topology`): its directory exists and
 * can be written. The file itself is written after the run (coloured by its outcome).
 * @throws UsageError `cannot write OPTION PATH: why`
 */
export async function checkOutputFile(option: string, path: string): Promise<void> {
  const dir = dirname(resolve(path));
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const why =
      (error as { code?: string }).code === 'ENOENT' ? `no such directory ${dir}` : messageOf(error);
    throw new UsageError(`cannot write ${option} ${path}: ${why}`, { cause: error });
  }
}
