/**
 * LocalNode: runs commands on this machine, through `/bin/sh -c`, with the same
 * output handling as an SshNode (apssh's LocalNode).
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Formatter } from './formatters/formatter.js';
import { HostFormatter } from './formatters/terminal.js';
import { LocalFsBackend } from './fs/local-fs.js';
import { NodeFs } from './fs/node-fs.js';
import type { RemoteFs } from './fs/remote-fs.js';
import { type CommandNode, type CommandResult, outputSplitters, type RunRequest } from './node.js';
import { killScript, LeadingFrames } from './remote-process.js';
import {
  checkCommandLine,
  checkRunOptions,
  feedInput,
  idleTimeoutError,
  idleWatch,
  stdinError,
} from './run-options.js';
import { localUsername } from './ssh-node/local-user.js';
import { withEnv } from './ssh-node/shell.js';
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
} from './sudo.js';

/** Options of {@link LocalNode}. */
export interface LocalNodeOptions {
  /** How output is shown. @default a HostFormatter */
  formatter?: Formatter;
  /** Show session events. @default false */
  verbose?: boolean;
}

/** How long a cancelled local command gets between SIGTERM and SIGKILL. */
const KILL_GRACE = 2_000;
/** How long after the SIGKILL the output may stay open (held by a process of another session). */
const CLOSE_GRACE = 1_000;

/**
 * The local machine as a node: `hostname` is `LOCALNODE`.
 *
 * @example
 * ```ts
 * new SshJob({ node: new LocalNode(), command: 'sha256sum results/*', scheduler })
 * ```
 */
export class LocalNode implements CommandNode {
  readonly hostname = 'LOCALNODE';
  readonly username: string;
  readonly formatter: Formatter;
  readonly verbose: boolean;
  #fs: RemoteFs | undefined;

  constructor(options: LocalNodeOptions = {}) {
    this.username = localUsername();
    this.verbose = options.verbose ?? false;
    this.formatter = options.formatter ?? new HostFormatter({ verbose: this.verbose });
    this.formatter.attach?.(this);
  }

  toString(): string {
    return `${this.username}@${this.hostname}`;
  }

  /**
   * The local disk, with the same calls, results and errors as an SshNode's `fs`
   * (see {@link RemoteFs}); relative paths from the working directory. Made at first use.
   */
  get fs(): RemoteFs {
    this.#fs ??= new NodeFs(new LocalFsBackend(this.toString()));
    return this.#fs;
  }

  /** 0: no hop. */
  distance(): number {
    return 0;
  }

  /** Nothing to close. */
  async close(): Promise<void> {}

  /**
   * Runs a command line with `/bin/sh -c` in its own process group; cancelling kills
   * the whole group (TERM, then KILL after 2 s) and rejects with the signal's reason; so does
   * an `idleTimeout`, with an SshError `ERR_IDLE_TIMEOUT`. `stdin`, `encoding`: see {@link RunRequest}.
   */
  run(command: string, request: RunRequest = {}): Promise<CommandResult> {
    const signal = request.signal;
    try {
      checkCommandLine(command);
      checkRunOptions(request);
      // a rejection, as SshNode's: callers chain .catch() on the promise
      signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    const label = request.label ?? command;
    const sudo = checkSudo(request.sudo, request.pty);
    const stdin = sudo === undefined ? request.stdin : stdinWithPassword(sudo, request.stdin);
    this.#event('session-start', label);
    return new Promise<CommandResult>((resolve, reject) => {
      const line =
        sudo === undefined
          ? withEnv(command, request.env)
          : sudoCommandLine(withEnv(command, request.env), sudo);
      const child = spawn('/bin/sh', ['-c', line], {
        detached: true,
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
      const output = outputSplitters(this, request, label);
      const { stdout: outLines, stderr: errLines } = output;
      let idle: Error | undefined;
      const watch = idleWatch(request.idleTimeout, () => {
        // waiting for a slow consumer (the output paused, node.ts) is not the command being idle
        if (output.waiting) {
          watch.touch();
          return;
        }
        idle = idleTimeoutError(this.toString(), label, request.idleTimeout ?? 0);
        onAbort();
      });
      output.follow(child.stdout, (chunk) => {
        watch.touch();
        outLines.push(chunk);
      });
      // under sudo, the verdict of its check comes first on stderr (sudo.ts)
      let verdict: SudoVerdict | undefined;
      const errFrames = new LeadingFrames(
        sudo === undefined ? [] : [SUDO_TAG],
        (_tag, payload) => {
          verdict = payload as SudoVerdict;
        },
        (chunk) => errLines.push(chunk),
      );
      output.follow(child.stderr, (chunk) => {
        watch.touch();
        errFrames.push(chunk);
      });
      const input = stdin === undefined || child.stdin === null ? undefined : feedInput(stdin, child.stdin);
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const killGroup = (name: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, name);
        } catch {
          // already gone
        }
      };
      let closeTimer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        output.release(); // a cancelled command ends whatever the consumer's pace
        if (sudo !== undefined && child.pid !== undefined) killUnderSudo(child.pid, sudo);
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE);
        // A process of another session (`setsid daemon &`) may hold the output open for good,
        // and 'close' waits for every holder: the pipes are let go once the group is killed.
        closeTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, KILL_GRACE + CLOSE_GRACE);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        output.release();
        watch.clear();
        input?.stop();
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        clearTimeout(closeTimer);
        this.#event('session-stop', label);
        reject(error);
      });
      child.on('close', (code, signalName) => {
        watch.clear();
        input?.stop();
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        clearTimeout(closeTimer);
        errFrames.end();
        outLines.end();
        errLines.end();
        this.#event('session-stop', label);
        if (signal?.aborted) reject(signal.reason);
        else if (idle !== undefined) reject(idle);
        else if (sudo !== undefined && verdict !== undefined && verdict !== 'ok') {
          reject(sudoError(verdict, this.toString(), label, sudo));
        } else if (input?.error !== undefined) reject(stdinError(this.toString(), label, input.error));
        else if (output.callbackFailure !== undefined) reject(output.callbackFailure.error);
        else resolve({ exitCode: code, signal: signalName === null ? null : signalName.replace(/^SIG/, '') });
      });
    });
  }

  #event(kind: 'session-start' | 'session-stop', detail: string): void {
    try {
      this.formatter.event({ kind, node: this, time: new Date(), detail });
    } catch {
      // formatters must not break commands
    }
  }
}

/**
 * Kills a sudo command's process group through sudo (its processes are not this user's to
 * signal unless this process is root); the script bounds itself (TERM, then KILL after 2 s).
 */
function killUnderSudo(pid: number, sudo: SudoOptions): void {
  const password = passwordLine(sudo);
  const killer = spawn('/bin/sh', ['-c', underSudo(killScript(pid), sudo)], {
    stdio: [password === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'],
  });
  killer.on('error', () => undefined);
  if (password !== undefined && killer.stdin !== null) feedInput(password, killer.stdin);
}
