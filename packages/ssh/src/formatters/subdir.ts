/**
 * SubdirFormatter: the output of each host in its own file, `<runName>/<hostname>`
 * (apssh's `-o DIR`).
 */
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Formatter, NodeEvent, NodeIdentity, OutputLine } from './formatter.js';
import { allDrained, safeWriter, stdioWriter, type Write } from './stdio.js';
import { describeEvent } from './terminal.js';

/** Options of {@link SubdirFormatter}. */
export interface SubdirFormatterOptions {
  /**
   * Write the node's events (`========== Connected (direct) to root@fit01`, sessions,
   * messages) into its file. apssh's SubdirFormatter defaults to true.
   * @default false
   */
  verbose?: boolean | undefined;
  /**
   * Where a failed connection and the first I/O error are reported.
   * @default process.stderr, made EPIPE-safe
   */
  stderr?: Write | undefined;
}

/** The bytes a file's queue may hold before its formatter asks the nodes to wait (`whenDrained`). */
const QUEUE_LIMIT = 4 * 1024 * 1024;

/**
 * One output file, written in order through a single file handle. Writes are queued
 * and flushed by one drain loop at a time, so lines keep their order and a burst of
 * lines becomes a few large writes. A queue over {@link QUEUE_LIMIT} asks for back-pressure.
 */
class FileSink {
  readonly path: string;
  /** 'w' until the file was opened once: the first open truncates it, later ones append. */
  #flags: 'w' | 'a';
  #pending: Array<string | Buffer> = [];
  /** The bytes in `#pending`. */
  #pendingBytes = 0;
  #draining: Promise<void> | undefined;
  #handle: FileHandle | undefined;
  #broken = false;
  readonly #ready: () => Promise<void>;
  readonly #onError: (error: unknown) => void;

  constructor(path: string, ready: () => Promise<void>, onError: (error: unknown) => void) {
    this.path = path;
    this.#flags = 'w';
    this.#ready = ready;
    this.#onError = onError;
  }

  /** Whether what was queued last ends a line (or nothing was): an event's line starts there. */
  #atLineStart = true;

  /** Queues `text` (`''` just creates or truncates the file); bytes are written as they are. Never throws. */
  write(text: string | Buffer): void {
    if (this.#broken) return;
    this.#pending.push(text);
    this.#pendingBytes += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (text.length > 0) {
      const last = typeof text === 'string' ? text.charCodeAt(text.length - 1) : text[text.length - 1];
      this.#atLineStart = last === 0x0a;
    }
    this.#draining ??= this.#drain();
  }

  /** Queues a line of its own: after output that did not end its line (`printf noeol`), on the next. */
  writeLine(line: string): void {
    this.write(this.#atLineStart ? `${line}\n` : `\n${line}\n`);
  }

  /** While the queue holds more than {@link QUEUE_LIMIT}: the drain loop, which ends with the queue written (or given up). */
  whenDrained(): Promise<void> | undefined {
    return this.#pendingBytes > QUEUE_LIMIT ? this.#draining : undefined;
  }

  /** Waits for the queue to be written, then closes the file; a later write reopens it. */
  async close(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
    const handle = this.#handle;
    this.#handle = undefined;
    try {
      await handle?.close();
    } catch (error) {
      this.#onError(error);
    }
  }

  async #drain(): Promise<void> {
    try {
      await this.#ready();
      if (!this.#handle) {
        this.#handle = await open(this.path, this.#flags);
        this.#flags = 'a';
      }
      while (this.#pending.length > 0) {
        const chunk = Buffer.concat(
          this.#pending.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
        );
        this.#pending = [];
        this.#pendingBytes = 0;
        // writeFile on a handle writes everything, from the current position on.
        await this.#handle.writeFile(chunk);
      }
    } catch (error) {
      // A file that failed once (a full disk, a directory in the way) is given up:
      // retrying each line would repeat the error for every line of a long run.
      this.#broken = true;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#onError(error);
    } finally {
      // No await since the loop's last check: a write() queued now starts a new drain.
      this.#draining = undefined;
    }
  }
}

/** A file name for a host: path separators and dot names could escape the run directory. */
function fileName(hostname: string): string {
  const name = hostname.replace(/[/\\\0]/g, '_');
  return name === '' || name === '.' || name === '..' ? `_${name}` : name;
}

/**
 * Stores the output of each host in files under the directory `runName`, created
 * (recursively) on first use: stdout lines in `<runName>/<hostname>`, stderr lines in
 * `<runName>/<hostname>.err`, as they came (format `{linenl}`).
 *
 * A host's file is truncated the first time the host shows up in this formatter's
 * life (its `connected` event or its first line, whichever comes first), then appended
 * to, across reconnections and across {@link SubdirFormatter.close}. The `.err` file is
 * likewise truncated at its first stderr line (apssh appends to it forever) and only
 * exists when the host printed on stderr (one left by an earlier run is removed when the host
 * first shows up). Lines are written as the bytes that came: binary output passes intact. With `verbose`, the node's events go into its
 * file too; a failed connection is always reported on stderr.
 *
 * I/O never throws nor crashes the process (apssh calls `sys.exit(1)`): the first error
 * is kept in {@link SubdirFormatter.error} and mentioned once on stderr, and a file that
 * failed is given up. Call {@link SubdirFormatter.close} to flush and close the files.
 *
 * @example
 * ```ts
 * const formatter = new SubdirFormatter('probing')
 * const nodes = hosts.map((hostname) => new SshNode({ hostname, formatter }))
 * await scheduler.run()
 * await formatter.close() // probing/fit01.inria.fr, probing/fit01.inria.fr.err, …
 * ```
 */
export class SubdirFormatter implements Formatter {
  /** The directory that receives the files. */
  readonly runName: string;
  /** Whether events go into the files; a node's `verbose` option may set it. */
  verbose: boolean;
  readonly #stderr: Write;
  readonly #sinks = new Map<string, FileSink>();
  /** Per `.err` path: the removal of an earlier run's file, which its sink waits for. */
  readonly #errCleared = new Map<string, Promise<void>>();
  #directory: Promise<void> | undefined;
  #failed = false;
  #error: unknown;

  /**
   * @param runName - the directory, relative to the working directory or absolute.
   * @param options - verbosity and the stderr sink.
   */
  constructor(runName: string, options: SubdirFormatterOptions = {}) {
    this.runName = runName;
    this.verbose = options.verbose ?? false;
    // A stderr that throws has nowhere left to report to: drop it silently.
    this.#stderr = safeWriter(options.stderr ?? stdioWriter('stderr'), () => {});
  }

  /** The first I/O error (creating the directory, opening, writing or closing a file), if any. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * @param hostname - a host name as given to its node.
   * @returns the path of its stdout file: `<runName>/<hostname>`.
   */
  outFile(hostname: string): string {
    return join(this.runName, fileName(hostname));
  }

  /**
   * @param hostname - a host name as given to its node.
   * @returns the path of its stderr file: `<runName>/<hostname>.err`.
   */
  errFile(hostname: string): string {
    return join(this.runName, `${fileName(hostname)}.err`);
  }

  /** Appends a line to the host's stdout or stderr file, as the bytes that came. */
  line(line: OutputLine): void {
    const out = this.#hostSink(line.node.hostname);
    const content = line.bytes ?? line.linenl;
    if (line.stream === 'stdout') out.write(content);
    else this.#sink(this.errFile(line.node.hostname)).write(content);
  }

  /**
   * Creates (truncates) the host's file on `connected`; when verbose, writes the event
   * into it. A failed connection goes to stderr, and creates no file.
   */
  event(event: NodeEvent): void {
    const { kind, node } = event;
    if (kind === 'connect-failed') {
      this.#stderr(`${describeEvent(event)}\n`);
      return;
    }
    // 'connecting' precedes any success: an unreachable host must not get a file.
    if (kind === 'connecting') return;
    // on a line of its own: it was glued to a last line of output without its newline
    if (this.verbose) this.#hostSink(node.hostname).writeLine(describeEvent(event));
    else if (kind === 'connected') this.#hostSink(node.hostname);
  }

  /**
   * While a file's queue holds more than a few MiB (a disk slower than the output comes), a promise
   * that resolves once it is written: the nodes stop reading their commands' output until then.
   */
  whenDrained(): Promise<void> | undefined {
    return allDrained([...this.#sinks.values()].map((sink) => sink.whenDrained()));
  }

  /** Nothing to align: each host has its own file. */
  attach(_node: NodeIdentity): void {}

  /** Writes what is queued and closes every file. Resolves even after an I/O error: see `error`. */
  async close(): Promise<void> {
    await Promise.all([...this.#sinks.values()].map((sink) => sink.close()));
  }

  /**
   * The host's stdout sink. When it is created, a `.err` file left by an earlier run into the same
   * directory is removed (it is written again only if the host prints on stderr): a stale one
   * would pass for this run's.
   */
  #hostSink(hostname: string): FileSink {
    const path = this.outFile(hostname);
    if (!this.#sinks.has(path)) {
      const errFile = this.errFile(hostname);
      this.#errCleared.set(
        errFile,
        // never a rejection nobody waits for: a failure is reported as any other I/O error
        this.#ensureDirectory()
          .then(() => rm(errFile, { force: true }))
          .catch((error: unknown) => this.#fail(error)),
      );
    }
    return this.#sink(path);
  }

  /** The sink of `path`; created, and its file truncated, on the first call. */
  #sink(path: string): FileSink {
    let sink = this.#sinks.get(path);
    if (!sink) {
      sink = new FileSink(
        path,
        () => this.#errCleared.get(path) ?? this.#ensureDirectory(),
        (error) => this.#fail(error),
      );
      this.#sinks.set(path, sink);
      sink.write('');
    }
    return sink;
  }

  #ensureDirectory(): Promise<void> {
    this.#directory ??= mkdir(this.runName, { recursive: true }).then(() => {});
    return this.#directory;
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    const reason = error instanceof Error ? error.message : String(error);
    this.#stderr(`SubdirFormatter: cannot write the output under ${this.runName}: ${reason}\n`);
  }
}
