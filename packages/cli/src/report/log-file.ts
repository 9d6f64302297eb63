/**
 * Reading an event log (`jobgraph run --log`, a report's events.jsonl) back: every line must be
 * an event — a JSON object with a string `type` and `time` —, or the error names the line. Used
 * by `--resume` and `jobgraph report`.
 */
import { createReadStream } from 'node:fs';

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

/** The longest line read: an event is far shorter (an output line is cut at 1 MiB, ~6 MiB as JSON). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** What reading a log found besides its records. */
export interface LogReading {
  /**
   * The last line was cut (the run was stopped while writing it: a kill, a full disk), and left
   * out: `FILE:N: …` to tell the user.
   */
  readonly cut?: string;
}

/**
 * Reads the log at `path` line by line, giving each record to `visit` with its line number (from
 * 1): the file is never held whole, so a log of gigabytes reads in the memory `visit` keeps.
 * @throws LogError `cannot read the log FILE: why`; `FILE:LINE: not a JSON line (…)` or
 * `FILE:LINE: expected an event …` for a line that is not one; `FILE:LINE: a line longer than
 * 64 MiB…`; `FILE: not a jobgraph event log (no run:start line …)`
 */
export async function eachLogRecord(
  path: string,
  visit: (record: LogRecord, line: number) => void,
): Promise<LogReading> {
  let line = 0;
  let sawRun = false;
  /** What `visit` threw: the caller's own error, passed on as it is. */
  let refused: { error: unknown } | undefined;
  const take = (text: string) => {
    line += 1;
    // a BOM that an editor saved with the file is no part of the first line
    const record = parseLine(
      line === 1 && text.startsWith('\ufeff') ? text.slice(1) : text,
      `${path}:${line}`,
    );
    if (record.type === 'run:start' && record.path === undefined) sawRun = true;
    try {
      visit(record, line);
    } catch (error) {
      refused = { error };
      throw error;
    }
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  try {
    for await (const chunk of createReadStream(path, {
      highWaterMark: 1024 * 1024,
    }) as AsyncIterable<Buffer>) {
      let from = 0;
      for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, from)) {
        const piece = chunk.subarray(from, newline);
        take((pendingBytes === 0 ? piece : Buffer.concat([...pending, piece])).toString('utf8'));
        pending = [];
        pendingBytes = 0;
        from = newline + 1;
      }
      if (from < chunk.length) {
        pending.push(chunk.subarray(from));
        pendingBytes += chunk.length - from;
        if (pendingBytes > MAX_LINE_BYTES) {
          throw new LogError(
            `${path}:${line + 1}: a line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB: not a jobgraph event log`,
          );
        }
      }
    }
  } catch (error) {
    if (error instanceof LogError || refused?.error === error) throw error;
    throw new LogError(`cannot read the log ${path}: ${messageOf(error)}`, { cause: error });
  }
  // the file ends with a newline: nothing is pending; anything else there is a cut line, which a
  // run stopped while writing leaves (it writes in batches): left out, and said
  let cut: string | undefined;
  if (pendingBytes > 0) {
    const last = Buffer.concat(pending).toString('utf8');
    if (parses(line === 0 && last.startsWith('\ufeff') ? last.slice(1) : last)) take(last);
    else cut = `${path}:${line + 1}: the last line is cut (the run was stopped while writing it): left out`;
  }
  if (!sawRun && cut !== undefined) {
    throw new LogError(
      `${path}:${line + 1}: the last line is cut (the run was stopped while writing it), and no run:start line came before it: nothing to read`,
    );
  }
  if (!sawRun) {
    throw new LogError(`${path}: not a jobgraph event log (no run:start line: expected the file of --log)`);
  }
  return cut === undefined ? {} : { cut };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** C0 and C1 controls and DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function parseLine(line: string, where: string): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    // JSON.parse quotes the line: a binary file's bytes would reach the terminal
    const why = messageOf(error).replace(
      CONTROL,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    throw new LogError(`${where}: not a JSON line (${why}): a cut or edited log?`, {
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
