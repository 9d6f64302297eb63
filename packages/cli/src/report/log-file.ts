/**
 * Reading an event log (`jobgraph run --log`, a report's events.jsonl) back: every line must be
 * an event — a JSON object with a string `type` and `time` —, or the error names the line. Used
 * by `--resume` and `jobgraph report`.
 */
import { readFile } from 'node:fs/promises';

/** A log that cannot be read, or a line of it that is not an event: the command line's mistake (exit code 2). */
export class LogError extends Error {
  override name = 'LogError';
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

/** One line of a log, as written (docs/events.schema.json), with where it was. */
export interface LogRecord {
  readonly type: string;
  readonly time: string;
  readonly [field: string]: unknown;
}

/** A log read whole: its records, and `where(i)` naming the line of record `i` (`run.jsonl:12`). */
export interface LogFile {
  readonly records: readonly LogRecord[];
  where(index: number): string;
  /**
   * The last line was cut (the run was stopped while writing it: a kill, a full disk), and left
   * out: `FILE:N: …` to tell the user.
   */
  readonly cut?: string;
}

/**
 * Reads and parses the log at `path`.
 * @throws LogError `cannot read the log FILE: why`; `FILE:LINE: not a JSON line (…)` or
 * `FILE:LINE: expected an event …` for a line that is not one; `FILE: not a jobgraph event log
 * (no run:start line …)`
 */
export async function readLog(path: string): Promise<LogFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LogError(`cannot read the log ${path}: ${messageOf(error)}`, { cause: error });
  }
  // a BOM that an editor saved with the file is no part of the first line
  const lines = (text.startsWith('\ufeff') ? text.slice(1) : text).split('\n');
  // the file ends with a newline: the last piece is empty; anything else there is a cut line,
  // which a run stopped while writing leaves (it writes in batches): left out, and said
  let cut: string | undefined;
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length > 0 && !parses(lines.at(-1) ?? '')) {
    cut = `${path}:${lines.length}: the last line is cut (the run was stopped while writing it): left out`;
    lines.pop();
  }
  const records = lines.map((line, offset) => parseLine(line, `${path}:${offset + 1}`));
  if (!records.some((record) => record.type === 'run:start' && record.path === undefined)) {
    throw new LogError(`${path}: not a jobgraph event log (no run:start line: expected the file of --log)`);
  }
  return { records, where: (index) => `${path}:${index + 1}`, ...(cut === undefined ? {} : { cut }) };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function parseLine(line: string, where: string): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new LogError(`${where}: not a JSON line (${messageOf(error)}): a cut or edited log?`, {
      cause: error,
    });
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    typeof (value as { type?: unknown }).type !== 'string' ||
    typeof (value as { time?: unknown }).time !== 'string'
  ) {
    throw new LogError(
      `${where}: expected an event (a JSON object with "type" and "time"), got ${preview(line)}`,
    );
  }
  // the report draws its timeline from these: a time that is not one fails here, naming the line
  const time = (value as { time: string }).time;
  if (Number.isNaN(Date.parse(time)))
    throw new LogError(
      `${where}: "time" is not a date (expected ISO 8601, as --log writes it), got ${JSON.stringify(time)}`,
    );
  return value as LogRecord;
}

/** The start of a line, for a message. */
function preview(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
}
