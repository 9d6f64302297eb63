/**
 * SshJob: a job that runs a list of commands on one node (apssh's SshJob).
 */
import { AbstractJob, type JobContext, type JobOptions, jobOptionKeys } from '@jobgraph/core';
import {
  AbstractCommand,
  type Arg,
  checkCommandOptions,
  isRenderable,
  type Renderable,
} from './commands/command.js';
import { Run } from './commands/run.js';
import { CommandFailedError, SshError, SshErrorCode } from './errors.js';
import './events.js';
import { LocalNode } from './local-node.js';
import { type CommandNode, type CommandResult, describeResult } from './node.js';
import { SshNode } from './ssh-node.js';

/** What a job accepts as a command: a command line, a template, or a command object. */
export type CommandLike = string | Renderable | AbstractCommand;

/**
 * `command`/`commands`: one CommandLike, or a list. A list of command objects runs them in
 * order; a list of words (strings, numbers, templates) is ONE command line, as in apssh
 * (`['uname', '-a']` is `uname -a`). `null` entries are dropped (handy for conditions).
 */
export type CommandSpec = CommandLike | ReadonlyArray<CommandLike | Arg | null | undefined>;

/** Options of {@link SshJob}. */
export interface SshJobOptions extends JobOptions {
  /** Where the commands run. */
  node: CommandNode;
  /** The commands (alias of `commands`). */
  command?: CommandSpec;
  /** The commands (alias of `command`). */
  commands?: CommandSpec;
  /**
   * Keep the node's connection open after the run (close it with `closeSshInScheduler`
   * or `node.close()`); otherwise it is closed when the run ends, so the script exits.
   * @default false
   */
  keepConnection?: boolean;
  /** Overrides `verbose` on every command. */
  verbose?: boolean;
}

function invalid(message: string): SshError {
  return new SshError(SshErrorCode.INVALID_OPTION, message);
}

/** The commands of a spec, following apssh's normalisation (with errors instead of placeholders). */
export function normalizeCommands(spec: CommandSpec | undefined): AbstractCommand[] {
  if (spec === undefined || spec === null || spec === '') {
    throw invalid(
      'SshJob needs a command: give `command` (or `commands`) a command line or a list of commands',
    );
  }
  if (spec instanceof AbstractCommand) return [spec];
  if (typeof spec === 'string' || isRenderable(spec)) return [new Run(spec as Arg)];
  if (Array.isArray(spec)) {
    const items = spec.filter((item) => item !== null && item !== undefined);
    if (items.length === 0) throw invalid('SshJob needs at least one command that is not null');
    if (items[0] instanceof AbstractCommand) {
      const stray = items.find((item) => !(item instanceof AbstractCommand));
      if (stray !== undefined) {
        throw invalid(`SshJob commands mix command objects and a plain ${typeof stray}: use Run(...) for it`);
      }
      return items as AbstractCommand[];
    }
    const stray = items.find(
      (item) => !(typeof item === 'string' || typeof item === 'number' || isRenderable(item)),
    );
    if (stray !== undefined)
      throw invalid('SshJob commands: a list of words must hold strings, numbers or templates');
    return [new Run(items as Arg[])];
  }
  throw invalid(`SshJob commands: cannot make sense of ${typeof spec}`);
}

/** The options an SshJob takes: a job's, and its own. */
const SSH_JOB_OPTION_KEYS = jobOptionKeys('node', 'command', 'commands', 'keepConnection', 'verbose');

/**
 * A job that runs commands in order on a node. A critical job (the default) stops at the
 * first failing command and throws {@link CommandFailedError}; a non-critical job runs
 * them all, and its result is the last failing exit code (0 if none; -1 for a command
 * that ended on a signal); with `retries` it is run again while attempts remain, and it is
 * not {@link SshJob.isAchieved | achieved} (`keepOnlyFailed()` keeps it). A command that could
 * not run at all (a lost connection) throws, critical or not.
 *
 * @example
 * ```ts
 * new SshJob({
 *   node: fit01,
 *   commands: [new Run('apt-get update'), new RunScript('setup.sh'), new Pull('results.csv', 'results-fit01.csv')],
 *   required: checkLease,
 *   scheduler,
 * })
 * ```
 */
export class SshJob extends AbstractJob<number> {
  readonly node: CommandNode;
  readonly commands: readonly AbstractCommand[];
  readonly keepConnection: boolean;
  #failures: string[] = [];

  constructor(options: SshJobOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalid('Expected SshJob to be given an options object');
    // a typo (`critcal: false`) left the job critical, without a word
    checkCommandOptions('an SshJob', options, new.target === SshJob ? [...SSH_JOB_OPTION_KEYS] : undefined);
    const { node, command, commands, keepConnection, verbose, ...jobOptions } = options;
    if (!(node instanceof SshNode) && !(node instanceof LocalNode)) {
      if (typeof node !== 'object' || node === null || typeof (node as CommandNode).run !== 'function') {
        throw invalid('Expected the node of an SshJob to be an SshNode or a LocalNode');
      }
    }
    if (command !== undefined && commands !== undefined) {
      throw invalid('SshJob: give `command` or `commands`, not both');
    }
    // before super(), which adds the job to its scheduler: a job refused is in none
    const normalized = normalizeCommands(command ?? commands);
    super(jobOptions);
    this.node = node;
    this.commands = normalized;
    this.keepConnection = keepConnection ?? false;
    if (verbose !== undefined) for (const item of this.commands) item.verbose = verbose;
    if (this.keepConnection && node instanceof SshNode) node.keep();
  }

  override async run(ctx: JobContext): Promise<number> {
    this.#failures = [];
    let overall = 0;
    let lastFailure: CommandFailedError | undefined;
    const node = this.node;
    const where = node.toString();
    for (const [offset, item] of this.commands.entries()) {
      ctx.signal.throwIfAborted();
      const index = offset + 1;
      const label = item.getLabelLine();
      ctx.emit({ type: 'cmd:start', node: where, command: label, index });
      let result: CommandResult;
      try {
        result = await item.execute({
          node,
          signal: ctx.signal,
          onLine: (line) =>
            ctx.emit({ type: 'cmd:line', node: where, stream: line.stream, line: line.linenl }),
          onProgress: (progress) =>
            ctx.emit({ type: 'cmd:progress', node: where, stream: progress.stream, text: progress.text }),
        });
      } catch (error) {
        // its end is told too, so that the log and the report do not show it running for good
        const end = { exitCode: null, signal: null, ok: false, error };
        ctx.emit({ type: 'cmd:done', node: where, command: label, index, ...end });
        throw error;
      }
      const ok = item.isSuccess(result);
      ctx.emit({ type: 'cmd:done', node: where, command: label, index, ...result, ok });
      if (ok) continue;
      if (this.critical) {
        this.#failures.push(`!Crit![${index}]:${label}->${describeResult(result)}`);
        throw new CommandFailedError(label, where, result.exitCode, result.signal);
      }
      this.#failures.push(`Ignr[${index}]:${label}->${describeResult(result)}`);
      overall = result.exitCode ?? -1;
      lastFailure = new CommandFailedError(label, where, result.exitCode, result.signal);
    }
    // a non-critical job goes on after a failed command, and is retried once through while
    // attempts remain (`retries` did nothing for it); the last attempt returns the exit code
    if (lastFailure !== undefined && ctx.attempt < 1 + this.retries) throw lastFailure;
    return overall;
  }

  /** Done, and none of its commands failed: a non-critical job whose command failed is done, not achieved (`keepOnlyFailed` keeps it). */
  override isAchieved(): boolean {
    return super.isAchieved() && this.#failures.length === 0;
  }

  /** Closes the node's connection at the end of the run, unless `keepConnection`. */
  override async shutdown(): Promise<void> {
    if (!this.keepConnection && this.node instanceof SshNode) this.node.releaseConnection();
  }

  /** The first command's label, plus `.. + n` for the others. */
  override textLabel(): string {
    const first = this.commands[0]?.getLabelLine() ?? '';
    return this.commands.length > 1 ? `${first}.. + ${this.commands.length - 1}` : first;
  }

  /**
   * `<id>: user@host`, then one line per command label (apssh's). A job given a `label` shows it
   * first (`<id>: <label>`, then `user@host`): apssh leaves it out of graphs, where it is most wanted.
   */
  override graphLabel(): string {
    if (this.label === undefined || this.label === '') return this.details();
    return [`${this.displayId}: ${this.label}`, this.node.toString(), ...this.#commandLabels()].join('\n');
  }

  /** `<id>: user@host`, then one line per command label (the listing's line already has the label). */
  override details(): string {
    return [`${this.displayId}: ${this.node.toString()}`, ...this.#commandLabels()].join('\n');
  }

  #commandLabels(): string[] {
    return this.commands.map((item) => item.getLabelLine()).filter((label) => label !== '');
  }

  /** `OK`, or the failed commands (`Ignr[2]:false->1`); the default text for other exceptions. */
  override resultSummary(): string | undefined {
    if (this.isDone() && this.raisedException() === undefined) {
      return this.#failures.length === 0 ? 'OK' : this.#failures.join(' - ');
    }
    if (this.raisedException() instanceof CommandFailedError) return this.#failures.join(' - ');
    return undefined;
  }
}
