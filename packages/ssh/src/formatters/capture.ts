/**
 * CaptureFormatter: keeps the remote stdout in memory instead of printing it, the
 * rough equivalent of `output=$(ssh host command)`.
 */
import type { OutputLine } from './formatter.js';
import type { Write } from './stdio.js';
import { TerminalFormatter } from './terminal.js';

/** Options of {@link CaptureFormatter}. */
export interface CaptureFormatterOptions {
  /**
   * Print connection and session events on stderr (a failed connection always is).
   * apssh's CaptureFormatter is verbose; ours is quiet unless asked.
   * @default false
   */
  verbose?: boolean | undefined;
  /** Where formatted stderr lines and events go. @default process.stderr, made EPIPE-safe */
  stderr?: Write | undefined;
}

/**
 * Accumulates the stdout lines of its nodes in memory; stderr lines are still printed,
 * formatted, on stderr, and events behave as in {@link TerminalFormatter}.
 *
 * The capture holds every stdout line received since {@link CaptureFormatter.startCapture},
 * each with its newline as it arrived (the last line of a command may have none): the
 * raw text, whatever `format` says. Lines of every node using this formatter land in
 * the same capture, in arrival order.
 *
 * @example
 * ```ts
 * const formatter = new CaptureFormatter()
 * const node = new SshNode({ hostname: 'fit01', formatter })
 * formatter.startCapture()
 * await new Scheduler({ jobs: [new SshJob({ node, commands: ['echo LINE1', 'echo LINE2'] })] }).run()
 * formatter.getCapture() // 'LINE1\nLINE2\n'
 * ```
 */
export class CaptureFormatter extends TerminalFormatter {
  #capture = '';

  /**
   * @param format - the format of the stderr lines and events. @default '{linenl}'
   * @param options - verbosity and the stderr sink.
   */
  constructor(format = '{linenl}', options: CaptureFormatterOptions = {}) {
    // stdout is never written: captured lines go to memory.
    super(format, { verbose: options.verbose, stderr: options.stderr, stdout: () => {} });
  }

  /** Empties the capture: what follows is what {@link CaptureFormatter.getCapture} returns. */
  startCapture(): void {
    this.#capture = '';
  }

  /**
   * @returns the stdout received since the last {@link CaptureFormatter.startCapture}
   *   (or since construction), lines concatenated with their newlines.
   */
  getCapture(): string {
    return this.#capture;
  }

  /** Captures a stdout line; prints a stderr line on stderr, formatted. */
  override line(line: OutputLine): void {
    if (line.stream === 'stdout') this.#capture += line.linenl;
    else super.line(line);
  }
}
