/**
 * Run: a command line on the node (apssh's `Run`).
 */
import { SshError, SshErrorCode } from '../errors.js';
import type { CommandResult } from '../node.js';
import { type CommandIoOptions, commandIo } from '../run-options.js';
import {
  AbstractCommand,
  type Arg,
  COMMAND_OPTION_KEYS,
  type CommandContext,
  type CommandOptions,
  checkCommandOptions,
  IO_OPTION_KEYS,
  isRenderable,
  renderArg,
  showArg,
} from './command.js';

/** Options of {@link Run}. */
export interface RunOptions extends CommandOptions, CommandIoOptions {
  /** Forward X11 to the local `$DISPLAY`. @default false */
  x11?: boolean;
  /** Run under a pseudo-terminal (stdout and stderr then merge). @default false */
  pty?: boolean;
  /** Environment variables, exported before the command (quoted for the shell). */
  env?: Record<string, string>;
  /** Neither show nor keep the output. @default false */
  ignoreOutputs?: boolean;
}

/** The options {@link Run} takes. */
const RUN_OPTION_KEYS = [...COMMAND_OPTION_KEYS, ...IO_OPTION_KEYS, 'pty', 'env', 'ignoreOutputs', 'x11'];

/**
 * Runs a command line: its words are joined with spaces, unquoted, so the remote shell
 * interprets them (`$(hostname)`, `&&`, pipes), as in apssh. Templates (`Deferred`) are
 * rendered right before the command runs.
 *
 * @example
 * ```ts
 * new Run('apt-get install -y iperf3')
 * new Run(['tail', '-n', 1, '/etc/lsb-release'])     // = 'tail -n 1 /etc/lsb-release'
 * new Run('sleep 2; pkill -TERM sleep', { allowedExits: ['TERM'] })
 * new Run('sha256sum', { stdin: 'some text' })
 * new Run('type report.txt', { encoding: 'utf-16le', idleTimeout: 60_000 })
 * ```
 */
export class Run extends AbstractCommand {
  readonly argv: readonly Arg[];
  readonly x11: boolean;
  readonly pty: boolean;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly ignoreOutputs: boolean;
  /** `stdin`, `encoding`, `idleTimeout`, as given. */
  readonly io: Readonly<CommandIoOptions>;

  constructor(command: Arg | readonly Arg[], options: RunOptions = {}) {
    checkCommandOptions('Run', options, new.target === Run ? RUN_OPTION_KEYS : undefined);
    super(options);
    this.argv = Array.isArray(command) ? [...command] : [command as Arg];
    if (this.argv.length === 0) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        'Expected Run to be given a command, got an empty list',
      );
    }
    // `new Run(null)` ran the command `null`, `new Run('')` nothing, and both said it went well
    for (const word of this.argv) {
      if (!(typeof word === 'string' || typeof word === 'number' || isRenderable(word)))
        throw new SshError(
          SshErrorCode.INVALID_OPTION,
          `Expected Run to be given a command line (a string, a template, or a list of words), got ${word === null ? 'null' : typeof word} in it`,
        );
    }
    if (this.argv.every((word) => typeof word === 'string' && word.trim() === ''))
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        'Expected Run to be given a command, got an empty command line',
      );
    this.x11 = options.x11 ?? false;
    this.pty = options.pty ?? false;
    this.env = options.env;
    this.ignoreOutputs = options.ignoreOutputs ?? false;
    this.io = commandIo(options);
  }

  /** The command line as it runs now (templates rendered, strictly). */
  commandLine(): string {
    return this.argv.map(renderArg).join(' ');
  }

  labelLine(): string {
    return this.argv.map(showArg).join(' ');
  }

  async execute(ctx: CommandContext): Promise<CommandResult> {
    const line = this.commandLine();
    this.say(ctx, `Run: -> ${line}`);
    const result = await this.runLine(ctx, line, {
      pty: this.pty,
      env: this.env,
      x11: this.x11,
      ...this.io,
      quiet: this.ignoreOutputs,
    });
    this.say(ctx, `Run: ${result.signal ?? result.exitCode} <- ${line}`);
    return result;
  }
}
