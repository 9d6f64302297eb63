/**
 * AbstractCommand: one step of an SshJob (apssh's commands).
 */
import type { Capture } from '@jobgraph/deferred';
import { SshError, SshErrorCode } from '../errors.js';
import type { OutputLine } from '../formatters/formatter.js';
import type { CommandNode, CommandResult, OutputProgress, RunRequest } from '../node.js';

/**
 * The most characters a `capture` holds (64 Mi): a capture is a value for later commands (a pod
 * name, a JSON document), and a string past ~512 Mi characters cannot be made at all.
 */
export const MAX_CAPTURE_CHARS = 64 * 1024 * 1024;

/** A template rendered right before the command runs (a `Deferred`): anything with `render()`. */
export interface Renderable {
  /** The final text; throws if a value it needs is missing. */
  render(): string;
  /** A readable form for labels, even before the values exist. */
  toString(): string;
}

/** One word of a command line. */
export type Arg = string | number | Renderable;

/** What a command needs to run. */
export interface CommandContext {
  readonly node: CommandNode;
  readonly signal: AbortSignal;
  /** Every output line, besides the node's formatter (the job turns them into events). */
  readonly onLine?: ((line: OutputLine) => void) | undefined;
  /** The state of a progress bar drawn with carriage returns (see `RunRequest.onProgress`). */
  readonly onProgress?: ((progress: OutputProgress) => void) | undefined;
}

/** Options every command takes. */
export interface CommandOptions {
  /** Label in listings and graphs. @default the command line */
  label?: string;
  /**
   * Results that count as success besides 0: exit codes, or signal names without `SIG`
   * (`'TERM'`) for a command killed by a signal.
   * @default []
   */
  allowedExits?: Array<number | string>;
  /** Report what the command does, through the node's formatter. @default false */
  verbose?: boolean;
  /** Stores the command's stdout (without its last newline) into a variable once it has run. */
  capture?: Capture;
}

export function isRenderable(value: unknown): value is Renderable {
  return typeof value === 'object' && value !== null && typeof (value as Renderable).render === 'function';
}

/** The final text of an argument (templates rendered now, strictly). */
export function renderArg(arg: Arg): string {
  return isRenderable(arg) ? arg.render() : String(arg);
}

/** A readable text of an argument (templates left visible). */
export function showArg(arg: Arg): string {
  return String(arg);
}

const SIGNAL_NAME = /^[A-Z][A-Z0-9]*$/;

/** Base class of the commands an SshJob runs in order. */
export abstract class AbstractCommand {
  label: string | undefined;
  verbose: boolean;
  readonly allowedExits: ReadonlySet<number | string>;
  readonly capture: Capture | undefined;

  constructor(options: CommandOptions = {}) {
    this.label = options.label;
    this.verbose = options.verbose ?? false;
    this.capture = options.capture;
    for (const exit of options.allowedExits ?? []) {
      const valid =
        (typeof exit === 'number' && Number.isInteger(exit) && exit >= 0 && exit <= 255) ||
        (typeof exit === 'string' && SIGNAL_NAME.test(exit.replace(/^SIG/, '')));
      if (!valid) {
        throw new SshError(
          SshErrorCode.INVALID_OPTION,
          `Expected allowedExits to hold exit codes (0-255) or signal names like 'TERM', got ${JSON.stringify(exit)}`,
        );
      }
    }
    this.allowedExits = new Set(
      (options.allowedExits ?? []).map((exit) =>
        typeof exit === 'string' ? exit.replace(/^SIG/, '') : exit,
      ),
    );
  }

  /** The default label: what the command does, in one line. */
  abstract labelLine(): string;

  /** The label: `label` if given, else {@link AbstractCommand.labelLine}. */
  getLabelLine(): string {
    return this.label ?? this.labelLine();
  }

  /** Runs the command on `ctx.node`. */
  abstract execute(ctx: CommandContext): Promise<CommandResult>;

  /** 0 is always success; so are the allowed exit codes and signals. */
  isSuccess(result: CommandResult): boolean {
    if (result.exitCode === 0) return true;
    if (result.exitCode !== null) return this.allowedExits.has(result.exitCode);
    return result.signal !== null && this.allowedExits.has(result.signal);
  }

  /**
   * Runs a command line on the node, capturing its stdout into `capture` (not printed
   * then) and passing every line to `ctx.onLine`, unless `quiet`.
   */
  protected async runLine(
    ctx: CommandContext,
    line: string,
    request: Omit<
      RunRequest,
      'signal' | 'label' | 'onLine' | 'onProgress' | 'printStdout' | 'printStderr'
    > & {
      quiet?: boolean;
    } = {},
  ): Promise<CommandResult> {
    const { quiet = false, ...rest } = request;
    const captured: string[] = [];
    let capturedChars = 0;
    const capturing = this.capture !== undefined;
    const result = await ctx.node.run(line, {
      ...rest,
      signal: ctx.signal,
      label: this.getLabelLine(),
      printStdout: !capturing && !quiet,
      printStderr: !quiet,
      onLine: (output) => {
        if (capturing && output.stream === 'stdout') {
          // past the bound, counted and dropped: the command ends as it would, then fails
          capturedChars += output.linenl.length;
          if (capturedChars <= MAX_CAPTURE_CHARS) captured.push(output.linenl);
        }
        if (!quiet) ctx.onLine?.(output);
      },
      ...(quiet || ctx.onProgress === undefined ? {} : { onProgress: ctx.onProgress }),
    });
    if (capturedChars > MAX_CAPTURE_CHARS) {
      throw new SshError(
        SshErrorCode.CAPTURE_TOO_LARGE,
        `The output captured into "${this.capture?.varname}" on ${ctx.node.toString()} is ${capturedChars} characters, over the ${MAX_CAPTURE_CHARS} a capture holds: nothing was stored (a capture is for a value; write a large output to a file, and Pull it)`,
        { node: ctx.node.toString() },
      );
    }
    this.capture?.store(captured.join(''));
    return result;
  }

  /** Reports a step through the node's formatter when verbose. */
  protected say(ctx: CommandContext, message: string): void {
    if (!this.verbose) return;
    try {
      ctx.node.formatter.event({ kind: 'message', node: ctx.node, time: new Date(), detail: message });
    } catch {
      // formatters must not break commands
    }
  }

  toString(): string {
    return `<${this.constructor.name}: ${this.labelLine()}>`;
  }
}

/** The option names of every command (CommandOptions). */
export const COMMAND_OPTION_KEYS = ['label', 'allowedExits', 'verbose', 'capture'] as const;
/** The option names of a command's run (CommandIoOptions). */
export const IO_OPTION_KEYS = ['stdin', 'encoding', 'idleTimeout', 'sudo'] as const;

/**
 * Refuses options that are no object, and names no command knows: a typo (`allowedExit`,
 * `recursive` for `recurse`, `ptty`) was silently ignored, the command run without it. `known`
 * undefined checks the object only: a subclass of the user's may take options of its own.
 * @throws SshError `ERR_INVALID_OPTION`: `Unknown option "recursive" for Push; expected one of: …`
 */
export function checkCommandOptions(
  where: string,
  options: unknown,
  known: readonly string[] | undefined,
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `Expected the options of ${where} to be an object, got ${Array.isArray(options) ? 'a list' : options === null ? 'null' : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (known !== undefined && !known.includes(key)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Unknown option ${JSON.stringify(key)} for ${where}; expected one of: ${known.join(', ')}`,
      );
    }
  }
}
