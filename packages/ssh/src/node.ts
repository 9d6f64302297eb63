/**
 * What commands need from a node, remote or local.
 */
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Formatter, NodeIdentity, OutputLine } from './formatters/formatter.js';
import type { RemoteFs } from './fs/remote-fs.js';
import { LineSplitter } from './output.js';
import type { SudoRequest } from './sudo.js';

/** Options of one command run on a node. */
export interface RunRequest {
  /** Aborting it cancels the command: the channel is closed and the remote process group killed. */
  readonly signal?: AbortSignal | undefined;
  /** Run under a pseudo-terminal (stderr then arrives merged into stdout). @default false */
  readonly pty?: boolean | undefined;
  /** Environment variables, set through the command line (sshd refuses most `env` requests). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Forward X11 to the local `$DISPLAY`. @default false */
  readonly x11?: boolean | undefined;
  /** Called with every output line, besides the node's formatter. */
  readonly onLine?: ((line: OutputLine) => void) | undefined;
  /**
   * Called, at most 10 times a second a stream, with the state of a progress bar the command draws
   * with carriage returns in a line not ended yet (see `LineSplitter.progress`): the line itself
   * comes to `onLine` once it ends. For a live view; nothing is printed or logged of it.
   */
  readonly onProgress?: ((progress: OutputProgress) => void) | undefined;
  /** Show stdout lines through the node's formatter. @default true (false while capturing) */
  readonly printStdout?: boolean | undefined;
  /** Show stderr lines through the node's formatter. @default true */
  readonly printStderr?: boolean | undefined;
  /** How the command is named in session events. */
  readonly label?: string | undefined;
  /**
   * Written to the command's standard input, then end-of-file (a stream is piped, with
   * back-pressure, and not destroyed if the command ends before reading it all). A command
   * that exits without reading its input is no error: the result is its status.
   * @default none: the input is closed at once (end-of-file, as `ssh host cmd < /dev/null`)
   * @example `node.run('sha256sum', { stdin: createReadStream('big.iso') })`
   */
  readonly stdin?: string | Buffer | Readable | undefined;
  /**
   * The encoding of the command's output, any label `TextDecoder` knows (`utf-16le`,
   * `latin1`, `shift_jis`, …): each line's text is decoded from it, invalid bytes as U+FFFD;
   * its `bytes` stay the raw bytes. An unknown encoding is refused before anything runs.
   * @default 'utf-8'
   * @example `node.run('cat report.txt', { encoding: 'utf-16le' })`
   */
  readonly encoding?: string | undefined;
  /**
   * Stops the command when it prints nothing (stdout nor stderr) for this many ms: it is
   * killed as a cancelled one (its process group, root included) and `run()` rejects with an
   * SshError `ERR_IDLE_TIMEOUT` once it is gone. A positive number, at most 2147483647.
   * @default none: no limit
   * @example `node.run('tail -f /var/log/syslog', { idleTimeout: 60_000 })`
   */
  readonly idleTimeout?: number | undefined;
  /**
   * Run the command under sudo: `true` as root with no password (a NOPASSWD rule), or
   * `{ user?, password? }`. The password is fed through stdin, before `stdin` (never in a command
   * line, log, event or error), and refused together with `pty` (the terminal would echo it).
   * sudo never waits on a prompt: no sudo, a password needed or refused, all reject at once with
   * an SshError `ERR_SUDO`. Cancelling kills the command's processes through sudo as well.
   * @default none: the command runs as the login user
   * @example `node.run('apt-get update', { sudo: { password: process.env.SUDO_PASSWORD } })`
   */
  readonly sudo?: SudoRequest | undefined;
}

/** How a command ended: an exit code, or a signal name without `SIG`, or neither (connection lost). */
export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** For a Push or Pull over SFTP: the bytes of file content copied (a resumed Pull: the rest it read). */
  readonly bytes?: number;
}

/** A place where commands run: an {@link SshNode} or the {@link LocalNode}. */
export interface CommandNode extends NodeIdentity {
  readonly formatter: Formatter;
  /** Runs a shell command line; resolves when it has ended. */
  run(command: string, request?: RunRequest): Promise<CommandResult>;
  /** The node's files (SFTP for an SshNode, the local disk for the LocalNode): see {@link RemoteFs}. */
  readonly fs: RemoteFs;
  /** Number of SSH hops to reach the node (0 for the local node). */
  distance(): number;
  /** Closes what the node holds open (connections, files). */
  close(): Promise<void>;
}

/** The result as one word for messages: `0`, `TERM`, `no status`. */
export function describeResult(result: CommandResult): string {
  if (result.signal !== null) return result.signal;
  if (result.exitCode !== null) return String(result.exitCode);
  return 'no status';
}

/** The output of one command: its two line splitters, read with the formatter's back-pressure. */
export interface CommandOutput {
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;
  /**
   * What `request.onLine` threw, the first time it did (it is not called again): the command
   * runs to its end all the same, then rejects with it.
   */
  readonly callbackFailure: { readonly error: unknown } | undefined;
  /**
   * Reads `stream`, each chunk handed to `onChunk` (which pushes it into a splitter). When the
   * formatter's sink is full after a chunk ({@link Formatter.whenDrained}), the stream is paused
   * until it has drained: the transport stops reading (SSH: the channel's window is not
   * replenished, so sshd stops sending and the remote command blocks on its writes; a local
   * command blocks on its pipe), and memory stays bounded whatever the consumer's pace.
   */
  follow(stream: Readable, onChunk: (chunk: Buffer) => void): void;
  /** Whether a stream is paused, waiting for the formatter: the command is not idle then. */
  readonly waiting: boolean;
  /**
   * Stops pausing for good and resumes the paused streams: a cancelled command must end whatever
   * the consumer's pace, and the output left once a channel has closed is in memory already.
   */
  release(): void;
  /** After {@link CommandOutput.release}: resolves when every stream read has ended (bounded: 2 s). */
  ended(): Promise<void>;
}

/** The state of a progress bar in a command's output (see `RunRequest.onProgress`). */
export interface OutputProgress {
  readonly stream: 'stdout' | 'stderr';
  /** The bar's text now, trimmed, without control characters' interpretation. */
  readonly text: string;
}

/** The least time between two progress reports of one stream, in ms. */
const PROGRESS_EVERY = 100;

/**
 * The two line splitters of a command: each line goes to the node's formatter (unless
 * the request hides that stream) and to `request.onLine`. A failing formatter must not
 * lose the command's status, so its errors are dropped here; a failing `onLine` is the
 * caller's own code: its error is kept ({@link CommandOutput.callbackFailure}), and thrown
 * to the caller once the command has ended. Neither may reach the stream that read the line
 * (an 'error' there closed the whole connection, or crashed the process).
 */
export function outputSplitters(
  node: NodeIdentity & { readonly formatter: Formatter },
  request: RunRequest,
  label: string,
): CommandOutput {
  let callbackFailure: { error: unknown } | undefined;
  const deliver = (stream: 'stdout' | 'stderr') => (linenl: string, bytes: Buffer) => {
    const line: OutputLine = { node, stream, linenl, bytes, time: new Date(), command: label };
    if (stream === 'stderr' ? request.printStderr !== false : request.printStdout !== false) {
      try {
        node.formatter.line(line);
      } catch {
        // dropped: see above
      }
    }
    if (callbackFailure !== undefined || request.onLine === undefined) return;
    try {
      request.onLine(line);
    } catch (error) {
      callbackFailure = { error };
    }
  };
  const printing = request.printStdout !== false || request.printStderr !== false;
  const pressure = (): Promise<void> | undefined => {
    if (!printing) return undefined;
    try {
      return node.formatter.whenDrained?.();
    } catch {
      return undefined; // a formatter that throws here puts on no brake
    }
  };
  const streams: Readable[] = [];
  const paused = new Set<Readable>();
  let released = false;
  const splitter = (stream: 'stdout' | 'stderr') => {
    const lines = new LineSplitter(deliver(stream), request.encoding);
    const onProgress = request.onProgress;
    if (onProgress === undefined) return lines;
    let last = 0;
    let shown: string | undefined;
    const push = lines.push.bind(lines);
    // after each chunk, the bar's state if it changed, at most every PROGRESS_EVERY ms
    lines.push = (chunk: Buffer) => {
      push(chunk);
      if (callbackFailure !== undefined) return;
      const now = Date.now();
      if (now - last < PROGRESS_EVERY) return;
      const text = lines.progress();
      if (text === undefined || text === shown) return;
      last = now;
      shown = text;
      try {
        onProgress({ stream, text });
      } catch (error) {
        callbackFailure = { error };
      }
    };
    return lines;
  };
  return {
    stdout: splitter('stdout'),
    stderr: splitter('stderr'),
    get callbackFailure() {
      return callbackFailure;
    },
    follow(stream, onChunk) {
      streams.push(stream);
      const resume = () => {
        paused.delete(stream);
        if (!released) stream.resume();
      };
      stream.on('data', (chunk: Buffer) => {
        onChunk(chunk);
        if (released || paused.has(stream)) return;
        const wait = pressure();
        if (wait === undefined) return;
        paused.add(stream);
        stream.pause();
        wait.then(resume, resume);
      });
    },
    get waiting() {
      return paused.size > 0;
    },
    release() {
      released = true;
      for (const stream of paused) stream.resume();
      paused.clear();
    },
    async ended() {
      const open = streams.filter((stream) => !stream.readableEnded && !stream.destroyed);
      if (open.length === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(open.map((stream) => finished(stream, { writable: false }).catch(() => undefined))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 2_000);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
