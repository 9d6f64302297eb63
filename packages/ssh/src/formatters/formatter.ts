/**
 * Formatters: how the remote output and the connection events of a node are shown.
 * A node has one formatter (shared by all its jobs); several nodes may share one.
 */

/** Who produced a line or an event. */
export interface NodeIdentity {
  /** The host name or address as given (`fit01.inria.fr`, `10.0.0.5`, `LOCALNODE`). */
  readonly hostname: string;
  /** The login, or undefined (the local node). */
  readonly username: string | undefined;
  /** `user@host`, or `gwuser@gw->user@host` through gateways. */
  toString(): string;
}

/** One line of a command's output, as it arrives. */
export interface OutputLine {
  readonly node: NodeIdentity;
  readonly stream: 'stdout' | 'stderr';
  /**
   * The line with its newline; the last line of a stream may have none, nor the pieces of a line
   * longer than 1 MiB (`MAX_LINE_BYTES` in output.ts), which comes as several OutputLines of at most 1 MiB each,
   * the last with the newline, each piece's text ending on a character boundary: joined, their
   * `linenl` are the line's text. Never empty.
   */
  readonly linenl: string;
  /**
   * The same line as the bytes that came (`linenl` replaces invalid UTF-8 with U+FFFD): what the
   * raw and file formatters write, so that binary output passes intact. Absent from lines that
   * were not read from a command (a formatter's own, a test's).
   */
  readonly bytes?: Buffer;
  /** When the line arrived. */
  readonly time: Date;
  /** The command that printed it, as shown in labels. */
  readonly command?: string;
}

/** What happened to a node's connection or sessions. */
export type NodeEventKind =
  | 'connecting'
  | 'connected'
  | 'connect-failed'
  | 'disconnected'
  | 'session-start'
  | 'session-stop'
  | 'sftp-start'
  | 'sftp-stop'
  | 'message';

/** A connection or session event of a node. */
export interface NodeEvent {
  readonly kind: NodeEventKind;
  readonly node: NodeIdentity;
  readonly time: Date;
  /** For sessions: the command; for `message`: the text; for `connect-failed`: the reason. */
  readonly detail?: string;
  /** For `connecting`/`connected`: false when tunnelled through a gateway. */
  readonly direct?: boolean;
}

/**
 * Renders output lines and node events. Implementations must not throw: a formatter
 * that cannot write (a full disk, a closed pipe) reports it on its own channel.
 */
export interface Formatter {
  /** A line of output. */
  line(line: OutputLine): void;
  /** A connection or session event; most formatters show them only when verbose. */
  event(event: NodeEvent): void;
  /** Called when a node starts using this formatter (e.g. to align host columns). */
  attach?(node: NodeIdentity): void;
  /**
   * Back-pressure: `undefined` while the formatter takes more lines; while its sink is full (a
   * stream whose `write()` returned false, a file queue over its bound), a promise that resolves
   * once it has drained — or can never drain (a closed pipe): it never rejects. A node stops
   * reading the command's output meanwhile, so that memory stays bounded with a slow consumer.
   * A formatter that wraps another passes its answer on. Without it, lines are never held back.
   */
  whenDrained?(): Promise<void> | undefined;
  /** Flushes and releases what the formatter holds (open files). */
  close?(): Promise<void>;
}
