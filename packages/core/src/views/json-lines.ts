/**
 * The JSON Lines event log: each event of a run as one JSON object on one line, written as it
 * happens (a run that crashes keeps what it did). The schema of a line: docs/events.schema.json.
 *
 * A line is `{ "time": ISO 8601, "type", "path"?, "job"?: { "id", "label" }, "node"?, …payload }`:
 * jobs become `{ id, label }`, the schedulers of `path` and of run events their labels, errors and reasons one line of text
 * (their `code` alongside, when they have one), results a bounded JSON copy. Output lines
 * (`cmd:line`) are left out unless asked for: a command may print what must not be kept.
 */
import { hasBrand, JOB_BRAND } from '../base/brand.js';
import { cutText, isError, messageText, safely, safeText } from '../base/safe-text.js';
import { type AbstractJob, labelOf, type SchedulerEvent } from '../model/abstract-job.js';

/** Options of {@link jsonLinesSink} and {@link eventRecord}. */
export interface JsonLinesOptions {
  /**
   * Write output lines (`cmd:line` events) too. Off by default: what a command prints may be a
   * secret, and it is most of a log's size. @default false
   */
  readonly output?: boolean;
  /**
   * The id written for a job: a scenario's own ids, say. `undefined` falls back to the default.
   * @default the job's id in its scheduler (`3`, or `2.1` inside a nested scheduler)
   */
  readonly idOf?: (job: AbstractJob) => string | undefined;
}

/**
 * What a sink writes to: a Node.js stream, or anything with a `write(text)`. A stream's `'error'`
 * event is listened to by the sink (see {@link JsonLinesSink.error}).
 */
export interface LineWriter {
  write(text: string): unknown;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The deepest a result is copied; below that, a value is its `String()`. */
const MAX_DEPTH = 4;

/** A listener of every event that writes them as JSON lines; see {@link jsonLinesSink}. */
export interface JsonLinesSink {
  (event: SchedulerEvent): void;
  /** Writes out the lines still held (the sink writes in batches); call it before ending the stream. */
  flush(): void;
  /**
   * The first failure to write (a `write()` that threw, or the stream's `'error'` event: a full
   * disk, say), or undefined. From then on lines are dropped; the run goes on. Check it after the
   * run: the log is incomplete.
   */
  readonly error: unknown;
}

/** A batch is written once it holds this many characters, or at the next turn of the event loop. */
const BATCH_CHARS = 64 * 1024;

/**
 * A listener that writes every event as a JSON line to `out`; pass it to `scheduler.onAny()`.
 * Lines are written in batches (one `write()` per turn of the event loop, or per 64 KiB), and at
 * once when the outermost run ends (`run:done`); call `flush()` before ending `out` yourself.
 *
 * @example
 * ```ts
 * const log = createWriteStream('run.jsonl')
 * const sink = jsonLinesSink(log)
 * const stop = scheduler.onAny(sink)
 * await scheduler.run()
 * stop()
 * sink.flush()
 * log.end()
 * ```
 */
export function jsonLinesSink(out: LineWriter, options: JsonLinesOptions = {}): JsonLinesSink {
  const lines = new LineFormatter(options);
  let batch = '';
  let scheduled = false;
  let own: unknown;
  // a stream's 'error' with no listener crashed the process mid-run (the example above on a full disk)
  const stream = listenForErrors(out);
  const failure = () => own ?? stream?.error;
  const flush = () => {
    if (batch === '') return;
    const text = batch;
    batch = '';
    // after a failure, dropped: kept, the batch would grow with every event of the run
    if (failure() !== undefined) return;
    try {
      out.write(text);
    } catch (error) {
      // thrown from the next turn of the event loop, it would crash the process
      own = error;
    }
  };
  const later = () => {
    scheduled = false;
    flush();
  };
  const sink = (event: SchedulerEvent) => {
    // `cmd:line` and `cmd:progress` are declared by @jobgraph/ssh (events.ts), not known to core on
    // its own; a progress bar's passing states are no record of the run (its line comes whole)
    const type = event.type as string;
    if ((type === 'cmd:line' && options.output !== true) || type === 'cmd:progress') return;
    batch += `${lines.line(event)}\n`;
    if (batch.length >= BATCH_CHARS || (event.type === 'run:done' && event.path.length === 0)) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(later);
    }
  };
  return Object.defineProperties(sink, {
    flush: { value: flush },
    error: { get: failure },
  }) as JsonLinesSink;
}

/** The first 'error' of each stream sinks were given: one listener a stream, however many sinks. */
const streamErrors = new WeakMap<object, { error: unknown }>();

function listenForErrors(out: LineWriter): { error: unknown } | undefined {
  if (typeof out.on !== 'function') return undefined;
  let seen = streamErrors.get(out);
  if (seen === undefined) {
    const state: { error: unknown } = { error: undefined };
    seen = state;
    streamErrors.set(out, state);
    out.on('error', (error) => {
      state.error ??= error;
    });
  }
  return seen;
}

const NO_NESTING: readonly AbstractJob[] = [];

/**
 * The id of an event's job: `idOf`'s, else its id in its scheduler, prefixed inside nested
 * schedulers by theirs (`2.1`: job 1 of the scheduler that is job 2), so that no two jobs of a
 * log share one (each scheduler numbers its own jobs from 1).
 */
function eventJobId(job: AbstractJob, path: readonly AbstractJob[], options: JsonLinesOptions): string {
  const own = options.idOf?.(job);
  if (own !== undefined) return own;
  if (path.length === 0) return job.displayId;
  return [...path.map((scheduler) => options.idOf?.(scheduler) ?? scheduler.displayId), job.displayId].join(
    '.',
  );
}

/** An event as the plain object of its JSON line (see the module's comment). */
export function eventRecord(event: SchedulerEvent, options: JsonLinesOptions = {}): Record<string, unknown> {
  const { type, time, path, ...payload } = event;
  const idOf = (job: AbstractJob) => options.idOf?.(job) ?? job.displayId;
  const record: Record<string, unknown> = { time: new Date(time).toISOString(), type };
  // the nested schedulers, and a run event's scheduler, by their labels, as in messages
  if (path.length > 0) record.path = path.map(schedulerName);
  if ('scheduler' in payload) record.scheduler = schedulerName(payload.scheduler);
  // The job and its node first, for a reader's eye: the event's own fields come after them.
  // (the event's own node when it has one, as a command's events do; else its job's)
  if ('job' in payload) {
    record.job = { id: eventJobId(payload.job, path, options), label: labelOf(payload.job) };
    const own = (payload as { node?: unknown }).node;
    const node = own === undefined ? nodeOf(payload.job) : plain(own, idOf);
    if (node !== undefined) record.node = node;
  }
  for (const [key, value] of Object.entries(payload)) {
    if (key === 'scheduler' || key === 'job' || (key === 'node' && 'job' in payload)) continue;
    // strings as they are (an output line whole), but a result's, copied like any result (bounded)
    const copy =
      key === 'error' || key === 'reason'
        ? oneLine(value)
        : typeof value === 'string' && key !== 'result'
          ? value
          : plain(value, idOf);
    if (copy !== undefined) record[key] = copy;
    if (key === 'error' || key === 'reason') {
      const code = codeOf(value);
      if (code !== undefined) record[`${key}Code`] = code;
    }
  }
  return record;
}

/**
 * Writes events as JSON lines, the same text as `JSON.stringify(eventRecord(event))`, without
 * the intermediate object, and with what repeats cached: the ISO time of a millisecond, the JSON
 * of types and keys. A 10,000-job run has 20,000 events: the log must cost little beside the run
 * itself (bench/event-log.mjs).
 */
class LineFormatter {
  readonly #idOf: (job: AbstractJob) => string;
  #time = Number.NaN;
  #iso = '';
  /** `","type":"job:start"` by type, `,"attempt":` by key: the JSON of names, made once. */
  readonly #types = new Map<string, string>();
  readonly #keys = new Map<string, string>();

  readonly #options: JsonLinesOptions;

  constructor(options: JsonLinesOptions) {
    this.#options = options;
    this.#idOf = (job) => options.idOf?.(job) ?? job.displayId;
  }

  line(event: SchedulerEvent): string {
    if (event.time !== this.#time) {
      this.#time = event.time;
      this.#iso = new Date(event.time).toISOString();
    }
    const quick = this.#runLoopLine(event);
    if (quick !== undefined) return quick;
    let line = `{"time":"${this.#iso}${fragment(this.#types, event.type, ['","type":', ''])}`;
    if (event.path.length > 0) line += `,"path":${JSON.stringify(event.path.map(schedulerName))}`;
    if ('scheduler' in event) line += `,"scheduler":${JSON.stringify(schedulerName(event.scheduler))}`;
    const fields = event as unknown as Record<string, unknown>;
    // the job, then its node: the event's own `node` when it has one (as eventRecord's key, kept in
    // its place and given the event's value), else the job's
    let nodeWritten = false;
    if ('job' in event) {
      line += this.#job(event.job, event.path);
      const own = fields.node;
      const node = own === undefined ? nodeOf(event.job) : own;
      const text = typeof node === 'string' ? JSON.stringify(node) : jsonOf(plain(node, this.#idOf));
      if (text !== undefined) {
        line += `,"node":${text}`;
        nodeWritten = true;
      }
    }
    for (const key in fields) {
      if (key === 'type' || key === 'time' || key === 'path' || key === 'job' || key === 'scheduler')
        continue;
      if (key === 'node' && nodeWritten) continue;
      const raw = fields[key];
      // an error or reason is one line of text, cut, whatever was thrown (a string of a megabyte,
      // undefined, null, an object: the schema's string)
      const value = key === 'error' || key === 'reason' ? oneLine(raw) : raw;
      // numbers, booleans and strings as they are (a result's string bounded as eventRecord does); the rest through plain()
      const text =
        (typeof value === 'string' && key !== 'result') ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value))
          ? JSON.stringify(value)
          : jsonOf(plain(value, this.#idOf));
      if (text !== undefined) line += `${fragment(this.#keys, key, [',', ':'])}${text}`;
      if (key === 'error' || key === 'reason') {
        const code = codeOf(raw);
        if (code !== undefined) line += `,"${key}Code":${JSON.stringify(code)}`;
      }
    }
    return `${line}}`;
  }

  /**
   * The line of one of the run loop's own `job:scheduled`, `job:start` and `job:done` events (two
   * or three a job: most of a log), written straight, with no walk of the event's fields;
   * undefined for any other event. The run loop builds these outside nested schedulers with
   * exactly their type's keys; one with any other key, or without one of them (a job's
   * `ctx.emit()` may send anything), takes the general way, so that the text is the same either way.
   */
  #runLoopLine(event: SchedulerEvent): string | undefined {
    if (event.path.length > 0 || !('job' in event)) return undefined;
    let tail: string;
    switch (event.type) {
      case 'job:scheduled':
        if (Object.keys(event).length !== 4) return undefined;
        tail = '';
        break;
      case 'job:start':
        if (!Number.isFinite(event.attempt) || Object.keys(event).length !== 5) return undefined;
        tail = `,"attempt":${event.attempt}`;
        break;
      case 'job:done': {
        if (!('result' in event) || Object.keys(event).length !== 5) return undefined;
        const result = event.result === undefined ? undefined : jsonOf(plain(event.result, this.#idOf));
        tail = result === undefined ? '' : `,"result":${result}`;
        break;
      }
      default:
        return undefined;
    }
    const node = nodeOf(event.job);
    const nodeText = node === undefined ? '' : `,"node":${JSON.stringify(node)}`;
    return `{"time":"${this.#iso}","type":"${event.type}"${this.#job(event.job)}${nodeText}${tail}}`;
  }

  /**
   * `,"job":{"id":…,"label":…}`, made anew for each line: a cache by job (a WeakMap) cost more
   * than it saved, its entries kept alive for the run and walked by every garbage collection.
   */
  #job(job: AbstractJob, path: readonly AbstractJob[] = NO_NESTING): string {
    const id = path.length === 0 ? this.#idOf(job) : eventJobId(job, path, this.#options);
    return `,"job":{"id":${JSON.stringify(id)},"label":${JSON.stringify(labelOf(job))}}`;
  }
}

/** `before` + the JSON of `name` + `after`, made once per name. */
function fragment(cache: Map<string, string>, name: string, [before, after]: [string, string]): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = `${before}${JSON.stringify(name)}${after}`;
    cache.set(name, text);
  }
  return text;
}

/** The JSON of a plain copy; undefined for a value the line leaves out. */
function jsonOf(copy: unknown): string | undefined {
  return copy === undefined ? undefined : JSON.stringify(copy);
}

function schedulerName(scheduler: AbstractJob): string {
  return scheduler.label ?? 'scheduler';
}

/** The `node` of a job that has one (an SshJob's), as its `toString()`. */
function nodeOf(job: AbstractJob): string | undefined {
  const node = (job as { node?: unknown }).node;
  return node === undefined || node === null ? undefined : String(node);
}

/** The `code` of an error (`ERR_SSH_CONNECT`…), when it has a string one. */
function codeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = safely(() => (value as { code?: unknown }).code, undefined);
  return typeof code === 'string' ? code : undefined;
}

/** An error, or any reason, as one line of text. */
export function oneLine(value: unknown): string {
  return cutText(
    reasonText(value)
      .replace(/\s*\n\s*/g, ' ')
      .trim(),
    MAX_TEXT_LENGTH,
  );
}

/** An error's message; a plain object thrown without one as its JSON (`{"code":"E_X","host":"a"}`, not `[object Object]`). */
function reasonText(value: unknown): string {
  if (typeof value === 'object' && value !== null && !isError(value)) {
    const message = safely(() => (value as { message?: unknown }).message, undefined);
    if (typeof message !== 'string') {
      const json = safely(() => JSON.stringify(plain(value, (job) => job.displayId)), undefined);
      if (json !== undefined && json !== '{}') return json;
    }
  }
  return messageText(value);
}

/** The most of one error, or of one string of a result, a log line holds (a job may throw a megabyte). */
const MAX_TEXT_LENGTH = 10_000;

/**
 * A JSON-safe copy of a value as a log line holds it (jobs as `{ id, label }`, errors as one
 * line, a bounded copy of the rest): for a job's result in a report, say.
 */
export function plainCopy(value: unknown, options: JsonLinesOptions = {}): unknown {
  return plain(value, (job) => options.idOf?.(job) ?? job.displayId);
}

/** A JSON-safe copy of an event's field. */
function plain(value: unknown, idOf: (job: AbstractJob) => string, depth = 0): unknown {
  if (typeof value === 'string') return cutText(value, MAX_TEXT_LENGTH);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object') return String(value);
  // a job (a nested scheduler too) by its id and label
  if (hasBrand(value, JOB_BRAND)) {
    const job = value as AbstractJob;
    return { id: idOf(job), label: labelOf(job) };
  }
  if (isError(value)) return oneLine(value);
  // results are the only free-form fields: a bounded copy, no cycles, no class internals; a value
  // whose reading throws (a getter, a revoked Proxy, an invalid Date) is its text: the event is
  // written all the same (it was lost, the sink throwing)
  return safely(() => plainObject(value, idOf, depth), safeText(value));
}

function plainObject(value: object, idOf: (job: AbstractJob) => string, depth: number): unknown {
  if (depth >= MAX_DEPTH) return String(value);
  if (Array.isArray(value)) return value.map((item) => plain(item, idOf, depth + 1) ?? null);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const inner = plain(item, idOf, depth + 1);
    if (inner !== undefined) copy[key] = inner;
  }
  return copy;
}
