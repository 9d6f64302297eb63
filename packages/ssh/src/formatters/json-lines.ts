/**
 * JsonLinesFormatter: every line and every event as one JSON object per line, for
 * tools and tests that should assert on data rather than on terminal text (listr2's
 * `test` renderer).
 */
import type { Formatter, NodeEvent, NodeEventKind, OutputLine } from './formatter.js';
import { type StdioWriter, safeWriter, stdioWriter, type Write } from './stdio.js';

/** The record of an output line. */
export interface JsonLineRecord {
  readonly type: 'line';
  /** When the line arrived, ISO 8601 (UTC). */
  readonly time: string;
  /** The node's `toString()`: `root@fit01`, `gw@faraday->root@fit01`. */
  readonly node: string;
  /** The host name as given. */
  readonly host: string;
  readonly stream: 'stdout' | 'stderr';
  /** The line without its final newline. */
  readonly line: string;
  /** Whether the line ended with a newline (false for an unterminated last line). */
  readonly newline: boolean;
  /** The command that printed it, when known. */
  readonly command?: string;
}

/** The record of a node event. */
export interface JsonEventRecord {
  readonly type: 'event';
  /** When it happened, ISO 8601 (UTC). */
  readonly time: string;
  /** The node's `toString()`. */
  readonly node: string;
  /** The host name as given. */
  readonly host: string;
  readonly kind: NodeEventKind;
  /** The command, the message or the failure reason, when the event has one. */
  readonly detail?: string;
  /** For `connecting`/`connected`: false when tunnelled through a gateway. */
  readonly direct?: boolean;
}

/** Options of {@link JsonLinesFormatter}. */
export interface JsonLinesFormatterOptions {
  /** Where the JSON lines go, one call per record, newline included. @default process.stdout, made EPIPE-safe */
  write?: Write | undefined;
}

/**
 * Writes one JSON object per line for every output line and every event, verbose or
 * not. Keys are in a fixed order; `command`, `detail` and `direct` appear only when set.
 *
 * ```text
 * {"type":"line","time":"2026-11-25T00:36:42.000Z","node":"root@fit01","host":"fit01","stream":"stdout","line":"Linux","newline":true}
 * {"type":"event","time":"2026-11-25T00:36:42.000Z","node":"root@fit01","host":"fit01","kind":"connected","direct":true}
 * ```
 *
 * @example
 * ```ts
 * const records: unknown[] = []
 * const formatter = new JsonLinesFormatter({ write: (text) => records.push(JSON.parse(text)) })
 * ```
 */
export class JsonLinesFormatter implements Formatter {
  readonly #write: Write;
  /** process.stdout, when it is the sink: its back-pressure. */
  readonly #stdout: StdioWriter | undefined;
  #error: unknown;

  /**
   * @param options - the sink.
   */
  constructor(options: JsonLinesFormatterOptions = {}) {
    this.#stdout = options.write === undefined ? stdioWriter('stdout') : undefined;
    this.#write = safeWriter(options.write ?? (this.#stdout as StdioWriter), (error) => {
      this.#error ??= error;
    });
  }

  /** The first error the writer threw, if any. */
  get error(): unknown {
    return this.#error;
  }

  /** While process.stdout (when it is the sink) is full, a promise of its `'drain'`: see {@link Formatter.whenDrained}. */
  whenDrained(): Promise<void> | undefined {
    return this.#stdout?.whenDrained();
  }

  /** Writes a `line` record. */
  line(line: OutputLine): void {
    const newline = line.linenl.endsWith('\n');
    const record: JsonLineRecord = {
      type: 'line',
      time: isoTime(line.time),
      node: String(line.node),
      host: line.node.hostname,
      stream: line.stream,
      line: newline ? line.linenl.slice(0, -1) : line.linenl,
      newline,
      ...(line.command === undefined ? {} : { command: line.command }),
    };
    this.#write(`${JSON.stringify(record)}\n`);
  }

  /** Writes an `event` record. */
  event(event: NodeEvent): void {
    const record: JsonEventRecord = {
      type: 'event',
      time: isoTime(event.time),
      node: String(event.node),
      host: event.node.hostname,
      kind: event.kind,
      ...(event.detail === undefined ? {} : { detail: event.detail }),
      ...(event.direct === undefined ? {} : { direct: event.direct }),
    };
    this.#write(`${JSON.stringify(record)}\n`);
  }
}

/** `toISOString()` throws on an invalid date; a formatter must not. */
function isoTime(time: Date): string {
  return Number.isNaN(time.getTime()) ? 'Invalid Date' : time.toISOString();
}
