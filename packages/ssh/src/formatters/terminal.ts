/**
 * Formatters that print on the terminal: TerminalFormatter (any apssh format) and its
 * presets RawFormatter, HostFormatter and TimeHostFormatter.
 */
import type { Formatter, NodeEvent, NodeEventKind, NodeIdentity, OutputLine } from './formatter.js';
import { allDrained, type StdioWriter, safeWriter, stdioWriter, type Write } from './stdio.js';
import { LineTemplate } from './template.js';

/** The prefix of apssh's event lines. */
const SEP = '==========';

const route = (event: NodeEvent) => (event.direct === false ? 'tunnelled' : 'direct');

/**
 * One text per event kind, zx-style: adding a kind to {@link NodeEventKind} does not
 * compile until it has a text here.
 */
const EVENT_TEXTS: { readonly [K in NodeEventKind]: (event: NodeEvent) => string } = {
  connecting: (e) => `${SEP} Connecting (${route(e)}) to ${e.node}`,
  // apssh says "Authorization OK user@host"; ours names the route too, as apssh's SubdirFormatter does.
  connected: (e) => `${SEP} Connected (${route(e)}) to ${e.node}`,
  'connect-failed': (e) => `Connection failed to ${e.node}${e.detail === undefined ? '' : `: ${e.detail}`}`,
  disconnected: (e) => `${SEP} Connection closed to ${e.node}`,
  'session-start': (e) => `${SEP} Session started for ${e.detail ?? ''}`,
  'session-stop': (e) => `${SEP} Session ended for ${e.detail ?? ''}`,
  'sftp-start': () => `${SEP} SFTP subsystem started`,
  'sftp-stop': () => `${SEP} SFTP subsystem stopped`,
  message: (e) => e.detail ?? '',
};

/**
 * The text apssh's VerboseFormatter prints for an event, without newline. The node is
 * named by its `toString()`, so a tunnelled node shows its gateways.
 *
 * @param event - a connection or session event.
 * @returns e.g. `========== Connecting (direct) to root@fit01`, or
 *   `Connection failed to root@fit01: Permission denied`, or a `message`'s text.
 *
 * @example
 * ```ts
 * describeEvent({ kind: 'session-start', node, time: new Date(), detail: 'hostname' })
 * // '========== Session started for hostname'
 * ```
 */
export function describeEvent(event: NodeEvent): string {
  return EVENT_TEXTS[event.kind](event);
}

/** Options of {@link TerminalFormatter}. */
export interface TerminalFormatterOptions {
  /**
   * Print connection and session events (`========== Connected …`) and `message`
   * events on stderr. A failed connection is printed in any case.
   * apssh's presets default to true; ours are quiet unless asked.
   * @default false
   */
  verbose?: boolean | undefined;
  /** Where formatted stdout lines go. @default process.stdout, made EPIPE-safe */
  stdout?: Write | undefined;
  /** Where formatted stderr lines and events go. @default process.stderr, made EPIPE-safe */
  stderr?: Write | undefined;
}

/**
 * Prints each line through an apssh format: remote stdout on stdout, remote stderr on
 * stderr, and, when verbose, the node's connection and session events on stderr,
 * formatted like a line (so `{host}` prefixes them too). A failed connection is always
 * printed, unformatted: `Connection failed to root@fit01: <reason>`.
 *
 * Placeholders: `{line}`, `{linenl}`, `{nl}`, `{host}`, `{fqdn}`, `{user}`, `{time}`
 * and strftime `%` codes (see {@link expandTemplate}). Unlike apssh, `{user}` is filled
 * for output lines too, and columns are padded on the right, not centred.
 *
 * Writing never throws: a closed pipe or a writer that throws is remembered in
 * {@link TerminalFormatter.error} and the text dropped.
 *
 * @example
 * ```ts
 * const formatter = new TerminalFormatter('[%H:%M] {host} {linenl}', { verbose: true })
 * const node = new SshNode({ hostname: 'fit01.inria.fr', formatter })
 * // [01:36] fit01 Linux
 * ```
 */
export class TerminalFormatter implements Formatter {
  /** Whether events are printed; a node's `verbose` option may set it. */
  verbose: boolean;
  /** The format and the column widths of the nodes attached so far. */
  protected readonly template: LineTemplate;
  /** Writes to stdout; never throws. */
  protected readonly writeStdout: Write;
  /** Writes to stderr; never throws. */
  protected readonly writeStderr: Write;
  /**
   * For the raw format on the standard streams: writes a line's bytes as they came, so that
   * binary output (`jobgraph ssh -r 'tar c dir' > dir.tar`) passes intact. A writer given in the
   * options receives text, as its type says.
   */
  readonly #rawBytes: { stdout?: (bytes: Uint8Array) => void; stderr?: (bytes: Uint8Array) => void } = {};
  /** The standard streams written to (not the writers given in the options): their back-pressure. */
  readonly #stdio: StdioWriter[] = [];
  #error: unknown;

  /**
   * @param format - an apssh format, e.g. `'{user}{host}:{linenl}'`.
   * @param options - verbosity and sinks.
   */
  constructor(format: string, options: TerminalFormatterOptions = {}) {
    this.verbose = options.verbose ?? false;
    this.template = new LineTemplate(format);
    const remember = (error: unknown) => {
      this.#error ??= error;
    };
    // the standard streams take text and bytes alike (a closure each; nothing is done until a write)
    const stdout = stdioWriter('stdout');
    const stderr = stdioWriter('stderr');
    this.writeStdout = safeWriter(options.stdout ?? stdout, remember);
    this.writeStderr = safeWriter(options.stderr ?? stderr, remember);
    if (options.stdout === undefined) this.#stdio.push(stdout);
    if (options.stderr === undefined) this.#stdio.push(stderr);
    if (format === '{linenl}') {
      if (options.stdout === undefined) this.#rawBytes.stdout = stdout;
      if (options.stderr === undefined) this.#rawBytes.stderr = stderr;
    }
  }

  /** The format given to the constructor. */
  get format(): string {
    return this.template.format;
  }

  /** The first error a writer threw, if any. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * While process.stdout or process.stderr (those this formatter writes to) holds more than its
   * high-water mark — a pipe read slower than the output comes —, a promise of its `'drain'`:
   * the nodes stop reading their commands' output until then. Writers given in the options put
   * on no brake.
   */
  whenDrained(): Promise<void> | undefined {
    return allDrained(this.#stdio.map((writer) => writer.whenDrained()));
  }

  /** Widens the host columns for `node`. */
  attach(node: NodeIdentity): void {
    this.template.attach(node);
  }

  /**
   * Prints a line, formatted, on the stream it came from. A last line without a newline gets one
   * when the format adds text around it (`root@fit01:no newline`, then the next host on its own
   * line); the raw format `{linenl}` prints the output exactly as it came.
   */
  line(line: OutputLine): void {
    const raw = this.#rawBytes[line.stream];
    if (raw !== undefined && line.bytes !== undefined) {
      try {
        raw(line.bytes);
      } catch (error) {
        this.#error ??= error;
      }
      return;
    }
    const ended =
      line.linenl.endsWith('\n') || this.template.format === '{linenl}' ? line.linenl : `${line.linenl}\n`;
    const text = this.template.render(ended, line.node, line.time);
    if (line.stream === 'stderr') this.writeStderr(text);
    else this.writeStdout(text);
  }

  /** Prints an event on stderr when verbose; a failed connection always. */
  event(event: NodeEvent): void {
    if (event.kind === 'connect-failed') {
      this.writeStderr(`${describeEvent(event)}\n`);
    } else if (this.verbose) {
      this.writeStderr(this.template.render(`${describeEvent(event)}\n`, event.node, event.time));
    }
  }
}

/**
 * `TerminalFormatter('{linenl}')`: the remote output as is, as with plain `ssh`.
 *
 * @example
 * ```ts
 * new SshNode({ hostname: 'fit01', formatter: new RawFormatter() }) // Linux
 * ```
 */
export class RawFormatter extends TerminalFormatter {
  /**
   * @param options - verbosity (@default false, where apssh defaults to true) and sinks.
   */
  constructor(options: TerminalFormatterOptions = {}) {
    super('{linenl}', options);
  }
}

/**
 * `TerminalFormatter('{user}{host}:{linenl}')`: each line prefixed with its node,
 * e.g. `root@fit01:Linux`. The default formatter of a node.
 *
 * @example
 * ```ts
 * new SshNode({ hostname: 'fit01.inria.fr', formatter: new HostFormatter({ verbose: true }) })
 * ```
 */
export class HostFormatter extends TerminalFormatter {
  /**
   * @param options - verbosity (@default false, where apssh defaults to true) and sinks.
   */
  constructor(options: TerminalFormatterOptions = {}) {
    super('{user}{host}:{linenl}', options);
  }
}

/**
 * `TerminalFormatter('{time}:{host}:{linenl}')`: each line prefixed with its arrival
 * time and host, e.g. `01-36-42:fit01:Linux`.
 *
 * @example
 * ```ts
 * new SshNode({ hostname: 'fit01.inria.fr', formatter: new TimeHostFormatter() })
 * ```
 */
export class TimeHostFormatter extends TerminalFormatter {
  /**
   * @param options - verbosity (@default false, where apssh defaults to true) and sinks.
   */
  constructor(options: TerminalFormatterOptions = {}) {
    super('{time}:{host}:{linenl}', options);
  }
}
