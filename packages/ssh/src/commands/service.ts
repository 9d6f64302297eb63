/**
 * Service: Run commands that start, stop and inspect a transient systemd unit
 * (apssh's `Service`), with every value jobgraph inserts quoted for the shell.
 */
import { SshError, SshErrorCode } from '../errors.js';
import { shellQuote } from '../ssh-node/shell.js';
import { type Arg, isRenderable, type Renderable } from './command.js';
import { Run, type RunOptions } from './run.js';

/** Options of {@link Service}. */
export interface ServiceOptions {
  /**
   * The name of the transient unit (`systemd-run --unit=<id>`): letters, digits and
   * `: _ . @ -`, not starting with `-`.
   */
  serviceId: string;
  /** Give the service a pseudo-terminal (`systemd-run --pty`). @default false */
  tty?: boolean;
  /** The unit's `Type=` (`systemd-run --service-type=<type>`). @default 'simple' */
  systemdType?: string;
  /** Environment variables of the service (`systemd-run --setenv=NAME='value'`). */
  environ?: Record<string, string>;
  /** Stop the unit first if it is active, and reset its failed state. @default true */
  stopIfRunning?: boolean;
  /** Makes the generated Runs verbose. @default false */
  verbose?: boolean;
}

/** Options of {@link Service.statusCommand}. */
export interface ServiceStatusOptions extends RunOptions {
  /** A remote file that receives the status (`systemctl status <id> > 'output'`). */
  output?: string;
}

/** Options of {@link Service.journalCommand}. */
export interface ServiceJournalOptions extends RunOptions {
  /** Only entries since then (`journalctl --since '5s ago'`). */
  since?: string;
}

/** What systemd accepts in a unit name, minus `\` (its escape character); no leading `-`. */
const UNIT_NAME = /^[A-Za-z0-9:_.@][A-Za-z0-9:_.@-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SERVICE_TYPE = /^[a-z][a-z-]*$/;

function invalid(message: string): SshError {
  return new SshError(SshErrorCode.INVALID_OPTION, message);
}

/** One line of text without NUL (which no shell command line can carry). */
function checkText(what: string, value: unknown, options: { empty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(`Expected ${what} to be a string, got ${typeof value}`);
  if (value.includes('\0')) throw invalid(`Expected ${what} not to contain a NUL character`);
  if (!options.empty && value === '') throw invalid(`Expected ${what} to be a non-empty string`);
  return value;
}

/**
 * Shell syntax that made only part of a command the unit: operators, redirections, subshells, a
 * second line. In the `systemd-run` line such a command was read by the login shell, so that only
 * its first simple command became the unit (`sleep 100; echo after` ran `echo after` in the
 * session; `tcpdump … > log` redirected systemd-run). Expansions (`$HOME`, backquotes) are not
 * in it: the login shell expands them as it did in apssh (a system unit has no `$HOME`).
 */
const SHELL_SYNTAX = new Set([';', '&', '|', '<', '>', '(', ')', '\n']);

/**
 * Whether `text` holds shell syntax outside quotes: apssh's `sh -c "while true; do date; done"`
 * is a plain command line, whose quotes the login shell removes.
 */
function hasShellSyntax(text: string): boolean {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (quote === '"' && char === '\\') i += 1;
    } else if (char === '\\') {
      i += 1;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (SHELL_SYNTAX.has(char)) {
      return true;
    }
  }
  return false;
}

/** The unit's command as the systemd-run line ends: as it is, or whole through `/bin/sh -c` when it is shell syntax. */
function unitLine(text: string): string {
  return hasShellSyntax(text) ? `/bin/sh -c ${shellQuote(text)}` : text;
}

/** {@link unitLine} of a command, a template's when it is rendered. */
function unitCommand(command: string | Renderable): Arg {
  if (!isRenderable(command)) return unitLine(command);
  return { render: () => unitLine(command.render()), toString: () => command.toString() };
}

/**
 * A command to run as a transient systemd service on a node, through `systemd-run`:
 * the Run commands to start, stop, and inspect it, for an SshJob.
 *
 * The service id, the environment and the `since`/`output` options are quoted or
 * checked, so that no value given to them reaches the shell as code. The command is
 * shell text of the user: a plain command line ends the `systemd-run` line as in apssh
 * (the unit runs that program); one with shell syntax (`;`, `&&`, `|`, redirections,
 * parentheses, several lines) runs whole in the unit through `/bin/sh -c '…'` (apssh gave it
 * to the login shell, where only its first simple command became the unit): its variables are
 * then the unit's (`environ`). The lines are POSIX `sh` (they work under a `dash` login shell).
 *
 * @example
 * ```ts
 * const capture = new Service('tcpdump -i eth0 -w capture.pcap', { serviceId: 'tcpdump', tty: true })
 * new SshJob({ node, commands: [capture.startCommand()], scheduler })
 * // ... later
 * new SshJob({ node, commands: [capture.stopCommand()], scheduler, required: experiment })
 * ```
 */
export class Service {
  readonly command: string | Renderable;
  readonly serviceId: string;
  readonly tty: boolean;
  readonly systemdType: string;
  readonly environ: Readonly<Record<string, string>>;
  readonly stopIfRunning: boolean;
  readonly verbose: boolean;

  constructor(command: string | Renderable, options: ServiceOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalid('Expected Service to be given an options object with a serviceId');
    }
    if (isRenderable(command)) {
      this.command = command;
    } else {
      if (typeof command !== 'string' || command.trim() === '') {
        throw invalid('Expected Service to be given a command: a non-empty command line or a template');
      }
      this.command = checkText('the Service command', command);
    }
    const { serviceId } = options;
    if (typeof serviceId !== 'string' || serviceId.length > 255 || !UNIT_NAME.test(serviceId)) {
      throw invalid(
        `Expected serviceId to be a systemd unit name (letters, digits and ':_.@-', not starting with '-'), got ${JSON.stringify(serviceId)}`,
      );
    }
    this.serviceId = serviceId;
    this.tty = options.tty ?? false;
    const systemdType = options.systemdType ?? 'simple';
    if (typeof systemdType !== 'string' || !SERVICE_TYPE.test(systemdType)) {
      throw invalid(
        `Expected systemdType to be a systemd service type like 'simple', 'exec', 'forking', 'oneshot' or 'notify', got ${JSON.stringify(systemdType)}`,
      );
    }
    this.systemdType = systemdType;
    const environ: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.environ ?? {})) {
      if (!ENV_NAME.test(name)) {
        throw invalid(
          `Expected the environ names of Service ${serviceId} to be variable names (letters, digits, _), got ${JSON.stringify(name)}`,
        );
      }
      environ[name] = checkText(`the value of environ ${name}`, value, { empty: true });
    }
    this.environ = environ;
    this.stopIfRunning = options.stopIfRunning ?? true;
    this.verbose = options.verbose ?? false;
  }

  /**
   * The Run that starts the service: stops it first when `stopIfRunning`, then
   * `systemd-run [--pty] [--setenv=NAME='value' …] --unit=<id> --service-type=<type> <command>`
   * (`/bin/sh -c '<command>'` for a command with shell syntax).
   * A template command is rendered when the Run runs. Options go to the Run.
   */
  startCommand(options: RunOptions = {}): Run {
    const id = this.serviceId;
    const pieces: string[] = [];
    if (this.stopIfRunning) {
      pieces.push(`systemctl is-active --quiet ${id} && systemctl stop ${id}`);
      pieces.push(`systemctl reset-failed ${id} >/dev/null 2>&1`);
    }
    const words = ['systemd-run'];
    if (this.tty) words.push('--pty');
    for (const [name, value] of Object.entries(this.environ))
      words.push(`--setenv=${name}=${shellQuote(value)}`);
    words.push(`--unit=${id}`, `--service-type=${this.systemdType}`);
    pieces.push(words.join(' '));
    const argv: Arg[] = [pieces.join('; '), unitCommand(this.command)];
    return this.#run(argv, 'start', options);
  }

  /** The Run that stops the service: `systemctl stop <id>`. */
  stopCommand(options: RunOptions = {}): Run {
    return this.#run([`systemctl stop ${this.serviceId}`], 'stop', options);
  }

  /**
   * The Run that shows the status of the service: `systemctl status <id>`, into the
   * remote file `output` if given. Note that systemctl exits with 3 for an inactive unit.
   */
  statusCommand(options: ServiceStatusOptions = {}): Run {
    const { output, ...runOptions } = options;
    let line = `systemctl status ${this.serviceId}`;
    if (output !== undefined) line += ` > ${shellQuote(checkText('the status output', output))}`;
    return this.#run([line], 'status', runOptions);
  }

  /** The Run that shows the journal of the service: `journalctl --unit <id> [--since '<since>']`. */
  journalCommand(options: ServiceJournalOptions = {}): Run {
    const { since, ...runOptions } = options;
    let line = `journalctl --unit ${this.serviceId}`;
    if (since !== undefined) line += ` --since ${shellQuote(checkText('the journal since', since))}`;
    return this.#run([line], 'journal', runOptions);
  }

  #run(argv: Arg[], mode: string, options: RunOptions): Run {
    return new Run(argv, {
      ...options,
      label: options.label ?? `Service: ${mode} ${this.serviceId}`,
      verbose: options.verbose ?? this.verbose,
    });
  }

  toString(): string {
    return `<Service ${this.serviceId}: ${String(this.command)}>`;
  }
}
