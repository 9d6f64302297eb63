/**
 * One command on a connection: an exec channel within the channel budget, its output split
 * into lines for the formatter, its exit status — and, when it is cancelled, the remote
 * process group killed over a second channel (remote-process.ts says why).
 */
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { type CommandResult, outputSplitters, type RunRequest } from '../node.js';
import {
  killScript,
  LeadingFrames,
  orphanKillScript,
  PID_TAG,
  pidOf,
  runTag,
  withHangUpGuard,
  withPidReport,
} from '../remote-process.js';
import { feedInput, idleTimeoutError, idleWatch, stdinError } from '../run-options.js';
import { openWithRetry, type SessionBudget } from '../session-budget.js';
import {
  checkSudo,
  passwordLine,
  SUDO_TAG,
  type SudoOptions,
  type SudoVerdict,
  stdinWithPassword,
  sudoCommandLine,
  sudoError,
  underSudo,
} from '../sudo.js';
import type { Connection, ExecChannel, ExitStatus } from '../transport/transport.js';
import { type EventSource, nodeEvent } from './node-events.js';
import { envExports } from './shell.js';
import { hasDisplay } from './x11-forwarding.js';

/** Where a command runs. */
export interface CommandSite {
  /** The node, for output lines, events and messages. */
  readonly node: EventSource;
  readonly connection: Connection;
  /** The connection's channel budget: the command holds one slot while it runs. */
  readonly budget: SessionBudget;
  /** How long the server may keep refusing the channel, in ms. */
  readonly openTimeout: number;
  /** Where a command that a dropped connection may have left running is noted. */
  readonly orphans?: Orphans;
}

/** A command whose connection dropped while it ran, which its host may not know yet. */
export interface Orphan {
  readonly pid: number;
  /** The tag in its guard's command line (remote-process.ts). */
  readonly tag: string;
  readonly sudo: SudoOptions | undefined;
}

/** Linux's MAX_ARG_STRLEN: the most one argument of exec may be; sshd gives the command to the shell as one. */
const MAX_ARGUMENT_BYTES = 128 * 1024;

/** Why sshd may have failed to exec a command line, when it is that long ("Unable to exec" said nothing). */
function tooLong(line: string): string {
  const bytes = Buffer.byteLength(line);
  return bytes < MAX_ARGUMENT_BYTES
    ? ''
    : ` (the command line is ${bytes} bytes: a Linux shell takes at most ${MAX_ARGUMENT_BYTES} in one argument; give a long text as stdin, or run it as a RunString)`;
}

/**
 * Runs a command line and resolves with how it ended (SshNode.run says how, for the user).
 * @throws SshError `ERR_SSH_CHANNEL` when no channel opens, or the connection is lost meanwhile;
 * `ERR_IDLE_TIMEOUT` after its `idleTimeout`; `ERR_STDIN` when its `stdin` stream failed.
 */
export async function runRemoteCommand(
  site: CommandSite,
  command: string,
  request: RunRequest,
): Promise<CommandResult> {
  const { node, connection, budget } = site;
  // without a display here, every X client of the command was refused in silence ("cannot open display")
  if (request.x11 === true && !hasDisplay()) {
    throw new SshError(
      SshErrorCode.INVALID_OPTION,
      `x11 on ${node.toString()}: DISPLAY is not set here (expected an X display such as :0 to forward to)`,
      { node: node.toString() },
    );
  }
  const tag = guarded(request) ? runTag() : undefined;
  // made before a slot is taken: a bad env name or sudo option throws here, with no slot to give back
  const line = withPidReport(commandLine(command, request, tag));
  const release = await budget.acquire('command', request.signal);
  let channel: ExecChannel;
  try {
    channel = await openWithRetry(
      () => connection.exec(line, execOptions(request)),
      node.toString(),
      site.openTimeout,
      request.signal,
    );
  } catch (error) {
    release();
    // cancelled while the channel was being opened (or retried): the cancel's reason, as at every other moment
    if (request.signal?.aborted === true && error === request.signal.reason) throw error;
    throw error instanceof SshError
      ? error
      : new SshError(
          SshErrorCode.CHANNEL,
          `Cannot run a command on ${node.toString()}: ${messageOf(error)}${tooLong(line)}`,
          {
            cause: error,
            node: node.toString(),
          },
        );
  }
  return follow(site, channel, command, request, release, tag);
}

/**
 * Whether the command gets the hang-up guard of remote-process.ts, which ends it when the
 * connection drops: when jobgraph does not use its input (no `stdin`; a pty session gets its
 * hang-up from sshd).
 */
function guarded(request: RunRequest): boolean {
  return request.pty !== true && request.stdin === undefined;
}

/**
 * The line the login shell runs: the command with its environment, or the sudo script around them.
 * Everything jobgraph puts in front (the PID frame, the guard, the `export`s) is one first line,
 * the command from the second on: the shell's line numbers are the command's own plus one, and a
 * syntax error in it shows its own line only (on the first line, it showed jobgraph's too).
 */
function commandLine(command: string, request: RunRequest, tag: string | undefined): string {
  const sudo = checkSudo(request.sudo, request.pty);
  const exports = envExports(request.env);
  const withEnvironment = `${exports === '' ? '' : `${exports}; `}\n${command}`;
  // under sudo the guard runs as the command's user, who may signal its processes
  const script = tag === undefined ? withEnvironment : withHangUpGuard(withEnvironment, tag);
  return sudo === undefined ? script : sudoCommandLine(script, sudo);
}

function execOptions(request: RunRequest) {
  return {
    ...(request.pty ? { pty: true } : {}),
    ...(request.x11 ? { x11: true } : {}),
    // the input stays open: for the caller's stdin, or (never written) for the guard
    ...(request.stdin !== undefined || guarded(request) ? { stdin: true } : {}),
  };
}

/**
 * Feeds the command's input: the caller's `stdin` (after the sudo password's line), ended
 * when it ends; for a guarded command only the password's line, if any, and never an end.
 */
function feedCommandInput(channel: ExecChannel, request: RunRequest, sudo: SudoOptions | undefined) {
  if (guarded(request)) {
    const password = sudo === undefined ? undefined : passwordLine(sudo);
    channel.stdin.on('error', () => undefined);
    if (password !== undefined) channel.stdin.write(password);
    return undefined;
  }
  const stdin = sudo === undefined ? request.stdin : stdinWithPassword(sudo, request.stdin);
  return stdin === undefined ? undefined : feedInput(stdin, channel.stdin);
}

/** Passes the channel's output on, line by line, until it closes; gives back its slot. */
async function follow(
  site: CommandSite,
  channel: ExecChannel,
  command: string,
  request: RunRequest,
  release: () => void,
  tag: string | undefined,
): Promise<CommandResult> {
  const { node, connection } = site;
  const label = request.label ?? command;
  nodeEvent(node, 'session-start', { detail: label });
  let pid: number | undefined;
  const sudo = checkSudo(request.sudo, request.pty);
  let verdict: SudoVerdict | undefined;
  const output = outputSplitters(node, request, label);
  const { stdout: outLines, stderr: errLines } = output;
  // The PID frame comes first on stderr (or on stdout under a pty, where both merge).
  // Cancelling: the remote process group is killed over another channel (sshd ignores
  // signal requests for root, and does not close a channel whose process still runs).
  // An idle timeout cancels the same way, through a signal of its own.
  const { signal, unlink } = withIdleStop(request, () =>
    idleTimeoutError(node.toString(), label, request.idleTimeout ?? 0),
  );
  let cancelled = false;
  let killing: Promise<void> | undefined;
  const kill = () => {
    if (pid !== undefined)
      killing ??= killProcessGroup(connection, killScript(pid), node.toString(), sudo).then(() => undefined);
  };
  const onFrame = (tag: string, payload: string) => {
    if (tag === SUDO_TAG) {
      verdict = payload as SudoVerdict;
      return;
    }
    pid = pidOf(payload);
    if (cancelled) kill();
  };
  const onAbort = () => {
    cancelled = true;
    output.release(); // a cancelled command ends whatever the consumer's pace
    kill();
  };
  // the PID frame, then (under sudo) the verdict of its check: on stderr, or stdout under a pty
  const tags = sudo === undefined ? [PID_TAG] : [PID_TAG, SUDO_TAG];
  const outFrames = new LeadingFrames(tags, onFrame, (chunk) => outLines.push(chunk));
  const errFrames = new LeadingFrames(tags, onFrame, (chunk) => errLines.push(chunk));
  // waiting for a slow consumer (the output paused, output.ts) is not the command being idle
  const watch = idleWatch(request.idleTimeout, () => (output.waiting ? watch.touch() : unlink.idle()));
  output.follow(channel.stdout, (chunk) => {
    watch.touch();
    if (request.pty) outFrames.push(chunk);
    else outLines.push(chunk);
  });
  output.follow(channel.stderr, (chunk) => {
    watch.touch();
    errFrames.push(chunk);
  });
  const input = feedCommandInput(channel, request, sudo);
  signal?.addEventListener('abort', onAbort, { once: true });
  // Cancelled while the channel was opening: the remote process has started all the same
  // (an abort event does not fire again for a listener added afterwards).
  if (signal?.aborted === true) onAbort();
  let status: ExitStatus;
  try {
    status = await (signal === undefined ? channel.exit : untilCancelled(channel, signal, () => killing));
    // the channel has closed: what a paused stderr still holds is in memory, read it to its end
    output.release();
    await output.ended();
  } finally {
    output.release();
    watch.clear();
    unlink.done();
    input?.stop();
    signal?.removeEventListener('abort', onAbort);
    release();
    outFrames.end();
    errFrames.end();
    outLines.end();
    errLines.end();
    nodeEvent(node, 'session-stop', { detail: label });
  }
  const lost = status.code === null && status.signal === null && connection.closed;
  // its guard ends it once sshd notices; the next connection makes sure of it (also when it was
  // being cancelled: a kill over a connection already gone never ran)
  if (lost && pid !== undefined && tag !== undefined) site.orphans?.note({ pid, tag, sudo });
  if (cancelled) throw signal?.reason;
  if (sudo !== undefined && verdict !== undefined && verdict !== 'ok') {
    throw sudoError(verdict, node.toString(), label, sudo);
  }
  if (input?.error !== undefined) throw stdinError(node.toString(), label, input.error);
  if (output.callbackFailure !== undefined) throw output.callbackFailure.error;
  if (lost) {
    throw new SshError(
      SshErrorCode.CHANNEL,
      `Connection to ${node.toString()} lost while running: ${label}`,
      {
        node: node.toString(),
      },
    );
  }
  return { exitCode: status.code, signal: status.signal };
}

/**
 * The signal a command follows: the request's, or with an `idleTimeout`, one of its own that
 * the request's aborts too, and `unlink.idle()` aborts with the idle-timeout error.
 */
function withIdleStop(
  request: RunRequest,
  idleError: () => Error,
): { signal: AbortSignal | undefined; unlink: { idle(): void; done(): void } } {
  if (request.idleTimeout === undefined) {
    return { signal: request.signal, unlink: { idle: () => undefined, done: () => undefined } };
  }
  const stop = new AbortController();
  const outer = request.signal;
  const onOuter = () => stop.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: stop.signal,
    unlink: {
      idle: () => stop.abort(idleError()),
      done: () => outer?.removeEventListener('abort', onOuter),
    },
  };
}

/**
 * The commands of a node that a dropped connection may have left running on its host (a cut link
 * that sshd has not noticed), killed over the next connection before the node's next command, so
 * that a retry never runs beside its first attempt: those still carrying their tag.
 */
export class Orphans {
  readonly #list: Orphan[] = [];
  /** The kill under way: every command waits for it (one kill at a time, never skipped). */
  #kill: Promise<void> | undefined;

  /** Notes a command that its dropped connection may have left running. */
  note(orphan: Orphan): void {
    this.#list.push(orphan);
  }

  /** Kills the noted commands over `connection`, if any: the kill under way, for a command to wait for. */
  killBefore(connection: Connection, node: string): Promise<void> | undefined {
    if (this.#list.length > 0) {
      const before = this.#kill ?? Promise.resolve();
      const kill = before.then(() => this.#killAll(connection, node));
      this.#kill = kill;
      void kill.then(() => {
        if (this.#kill === kill) this.#kill = undefined;
      });
    }
    return this.#kill;
  }

  /** Bounded, never throws. */
  async #killAll(connection: Connection, node: string): Promise<void> {
    const missed: Orphan[] = [];
    await Promise.all(
      this.#list.splice(0).map(async (orphan) => {
        const script = orphanKillScript(orphan.pid, orphan.tag);
        if (!(await killProcessGroup(connection, script, node, orphan.sudo))) missed.push(orphan);
      }),
    );
    // the connection went too before the kill could run: the next one tries again
    this.#list.push(...missed);
  }
}

/**
 * Runs a kill script over a new channel; bounded, never throws. The kill
 * channel does not wait for a slot of the budget (the budget stays below sshd's
 * MaxSessions, so there is room; a refusal is retried).
 * @returns whether the script ran to its end (false: no channel, the connection gone, 10 s passed)
 */
async function killProcessGroup(
  connection: Connection,
  kill: string,
  node: string,
  sudo: SudoOptions | undefined,
): Promise<boolean> {
  if (connection.closed) return false;
  // a command run under sudo belongs to root (or its sudo user): only sudo may signal it
  const script = sudo === undefined ? kill : underSudo(kill, sudo);
  const password = sudo === undefined ? undefined : passwordLine(sudo);
  const work = (async () => {
    const channel = await openWithRetry(
      () => connection.exec(script, password === undefined ? {} : { stdin: true }),
      node,
      5_000,
    );
    if (password !== undefined) feedInput(password, channel.stdin);
    channel.stdout.resume();
    channel.stderr.resume();
    await channel.exit;
    return !connection.closed;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ran = await Promise.race([
    work.catch(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 10_000);
    }),
  ]);
  clearTimeout(timer);
  return ran;
}

/**
 * The exit of a cancelled command: once the kill is done (or if the PID never came),
 * the channel is closed; the wait is bounded in every case.
 */
async function untilCancelled(
  channel: ExecChannel,
  signal: AbortSignal,
  killing: () => Promise<void> | undefined,
): Promise<ExitStatus> {
  let onAbort = (): void => undefined;
  const cancelled = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const exited = channel.exit.then(() => undefined);
  await Promise.race([exited, cancelled]);
  // a job's signal serves all its commands: do not leave one listener per command on it
  signal.removeEventListener('abort', onAbort);
  if (!signal.aborted) return channel.exit;
  // Give the PID frame a moment to arrive if the command was cancelled right away.
  await Promise.race([exited, delay(2_000).then(() => killing())]);
  await Promise.race([exited, killing() ?? Promise.resolve()]);
  channel.close();
  await Promise.race([exited, delay(5_000)]);
  return { code: null, signal: null };
}

/** A pause that does not keep the process alive (it only bounds other waits). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
