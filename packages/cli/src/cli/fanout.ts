/**
 * What `jobgraph ssh`, `push` and `pull` share: choosing the targets, checking that there is a key,
 * Ctrl-C, and telling what happened to each; and the fan-out of `push` and `pull`, one SshJob per
 * target (a window of them at once). `jobgraph ssh` runs its command through Fleet (ssh-fleet.ts).
 */
import { constants } from 'node:os';
import { attachVerboseRenderer, Scheduler } from '@jobgraph/core';
import {
  type CommandSpec,
  closeSshInScheduler,
  encryptedDefaultKeys,
  type Formatter,
  loadAgentKeys,
  loadPrivateKeys,
  type PrivateKey,
  SshError,
  SshErrorCode,
  SshJob,
  type SshNode,
} from '@jobgraph/ssh';
import { NodeFactory } from '../targets/nodes.js';
import { type ResolvedTargets, resolveTargets, type Target, targetText } from '../targets/resolve.js';
import { readTargetArgument } from '../targets/sources.js';
import { UsageError } from './errors.js';
import { CLI_SHUTDOWN_TIMEOUT_MS, onInterrupt, type StopSignal } from './interrupt.js';
import type { Io } from './run.js';
import type { TargetOptions } from './target-options.js';

/** Reads the -t and -x arguments and resolves them. */
export async function selectTargets(
  options: TargetOptions,
  io?: Pick<Io, 'stderr'>,
): Promise<ResolvedTargets> {
  if (options.targets.length === 0) {
    throw new UsageError('no target: give at least one with -t (a host, a list, a file or a directory)');
  }
  // a word that is a host name and a directory here: read as the directory (as apssh does), said
  const onShadow = (argument: string, directory: string) =>
    io?.stderr.write(
      `jobgraph: ${argument}: read as the targets named by the files of the directory ${directory} (write user@${argument} to mean the host)\n`,
    );
  const read = async (argument: string) => readTargetArgument(argument, { onShadow });
  const targets = (await Promise.all(options.targets.map(read))).flat();
  const exclusions = (await Promise.all(options.excludes.map(read))).flat();
  if (targets.length === 0) {
    const given = options.targets.map((target) => JSON.stringify(target)).join(', ');
    throw new UsageError(`no target: -t ${given} names none (an empty list, file or directory)`);
  }
  try {
    return await resolveTargets(targets, exclusions, {
      login: options.login,
      gateway: options.gateway,
      port: options.port,
      sshConfig: options.sshConfig,
    });
  } catch (error) {
    // a broken ssh config is a bad command line (-F), like a bad target
    if (error instanceof SshError && error.code === SshErrorCode.SSH_CONFIG) {
      // a ~/.ssh/config made for ssh (a Match exec of gpg-agent) must not leave the user stuck
      throw new UsageError(`${error.message} (-F none reads no ssh config)`, { cause: error });
    }
    throw error;
  }
}

/** The lines of `-L`: one target per line, as its node prints itself. */
export function listText(selection: ResolvedTargets): string {
  return selection.selected.map((target) => `${targetText(target)}\n`).join('');
}

/** The text of `-n`: the targets selected and excluded, then what would run on each. */
export function dryRunText(selection: ResolvedTargets, action: string): string {
  const { selected, excluded } = selection;
  const lines = [`${selected.length} target(s) selected, ${excluded.length} excluded`];
  for (const target of selected) lines.push(`  ${targetText(target)}`);
  if (excluded.length > 0) {
    lines.push('excluded:');
    for (const target of excluded) lines.push(`  ${targetText(target)}`);
  }
  lines.push(`would run: ${action}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The keys of `-k` (all must load), or undefined to let each node use the agent, the default key
 * files and the ssh config's IdentityFiles. Without -k and -K, refuses to go on when none of
 * those has a key (apssh: "Could not find any usable key").
 */
export async function chooseKeys(
  options: TargetOptions,
  targets: readonly Target[],
): Promise<PrivateKey[] | undefined> {
  if (options.keys.length > 0) {
    try {
      return await loadPrivateKeys(options.keys);
    } catch (error) {
      throw new UsageError(`-k: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  if (options.okIfNoKey) return undefined;
  const fromConfig = targets.some((target) =>
    [...target.gateways, target.host].some((hop) => (hop.config?.identityFiles.length ?? 0) > 0),
  );
  if (fromConfig) return undefined;
  const [agent, files, encrypted] = await Promise.all([
    loadAgentKeys(),
    loadPrivateKeys(),
    encryptedDefaultKeys(),
  ]);
  if (agent.length === 0 && files.length === 0) {
    const found =
      encrypted.length === 0
        ? 'no ~/.ssh/id_ed25519, id_ecdsa or id_rsa'
        : `${encrypted.join(', ')} encrypted (ssh-add it)`;
    throw new UsageError(`no usable key: no ssh-agent key and ${found}; give -k FILE, or -K to try anyway`);
  }
  return undefined;
}

/** What happened on one target. */
export interface Outcome {
  readonly target: Target;
  readonly node: SshNode;
  /**
   * succeeded: the command returned 0; failed: another exit code, or an error once connected;
   * unreachable: no connection (refused, timed out, authentication or host key refused);
   * cancelled: stopped by Ctrl-C before it ended.
   */
  readonly status: 'succeeded' | 'failed' | 'unreachable' | 'cancelled';
  /** The exit code, when the command ran to its end. */
  readonly result: number | undefined;
  /** The error, when there is no exit code. */
  readonly error: unknown;
  /** The signal that ended the command (`KILL`), when it is known. */
  readonly signal?: string | undefined;
}

/** Why a command that ran has no exit code (an SshJob's result -1, as apssh's). */
export const NO_EXIT_CODE = 'ended by a signal, or lost its connection';

/** Why `outcome`'s command has no exit code: the signal when it is known, else {@link NO_EXIT_CODE}. */
export function noExitCode(outcome: Pick<Outcome, 'signal'>): string {
  return outcome.signal === undefined ? NO_EXIT_CODE : `killed by signal ${outcome.signal}`;
}

const UNREACHABLE = new Set<string>([SshErrorCode.CONNECT, SshErrorCode.AUTH, SshErrorCode.HOST_KEY]);

/** Whether `error` (or one of its causes) says the host could not be reached. */
export function isUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && depth < 8; depth++) {
    if (cause instanceof SshError && UNREACHABLE.has(cause.code)) return true;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return false;
}

function outcomeOf(target: Target, node: SshNode, job: SshJob): Outcome {
  if (!job.isDone()) return { target, node, status: 'cancelled', result: undefined, error: undefined };
  const error = job.raisedException();
  if (error !== undefined) {
    return {
      target,
      node,
      status: isUnreachable(error) ? 'unreachable' : 'failed',
      result: undefined,
      error,
    };
  }
  const result = job.result() as number;
  return { target, node, status: result === 0 ? 'succeeded' : 'failed', result, error: undefined };
}

/** How to run one command (or copy) on every target. */
export interface FanoutSettings {
  /** The command of each target. */
  readonly command: (target: Target) => CommandSpec;
  readonly options: TargetOptions;
  readonly keys: PrivateKey[] | undefined;
  readonly formatter: Formatter;
  /** Called when a target is done (for a progress line). */
  readonly onSettled?: ((outcome: Outcome, settled: number, total: number) => void) | undefined;
}

/** The outcomes of a fan-out run, in target order, and whether Ctrl-C (or SIGTERM, SIGHUP) stopped it. */
export interface FanoutResult {
  readonly outcomes: Outcome[];
  readonly interrupted: boolean;
  /** The signal that stopped it, if one did. */
  readonly signal?: StopSignal | undefined;
}

/**
 * Runs the command on every target (at most `-w` at once), each job non-critical so that one
 * target's failure does not stop the others. Ctrl-C cancels the jobs (their remote processes are
 * killed when the login is root) and closes the connections.
 */
export async function runFanout(
  targets: readonly Target[],
  settings: FanoutSettings,
  io: Io,
): Promise<FanoutResult> {
  const { options } = settings;
  const factory = new NodeFactory({
    keys: settings.keys,
    knownHosts: options.knownHosts,
    hostKeyPolicy: options.hostKeyPolicy,
    connectTimeout: options.connectTimeout,
    formatter: settings.formatter,
    verbose: options.verbose,
  });
  const scheduler = new Scheduler({
    jobsWindow: options.window,
    label: 'jobgraph',
    shutdownTimeout: CLI_SHUTDOWN_TIMEOUT_MS,
  });
  const runs: { target: Target; node: SshNode; job: SshJob }[] = [];
  for (const target of targets) {
    const node = await factory.node(target);
    if (options.debug) io.stderr.write(`jobgraph: target ${target.text} is ${node.toString()}\n`);
    const job = new SshJob({
      node,
      command: settings.command(target),
      critical: false,
      label: node.toString(),
      scheduler,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
    runs.push({ target, node, job });
  }

  let settled = 0;
  const byJob = new Map(runs.map((run) => [run.job as unknown, run]));
  const onSettled = (job: unknown) => {
    const run = byJob.get(job);
    if (run === undefined || settings.onSettled === undefined) return;
    settled++;
    settings.onSettled(outcomeOf(run.target, run.node, run.job), settled, runs.length);
  };
  const stopListening = [
    scheduler.on('job:done', ({ job }) => onSettled(job)),
    scheduler.on('job:failed', ({ job }) => onSettled(job)),
  ];
  const stopRenderer = options.verbose
    ? attachVerboseRenderer(scheduler, { write: (text) => io.stderr.write(text) })
    : undefined;

  const controller = new AbortController();
  const interrupt = onInterrupt(controller, io);
  try {
    try {
      await scheduler.run({ signal: controller.signal });
    } catch (error) {
      if (!interrupt.interrupted) throw error;
    }
  } finally {
    stopRenderer?.();
    for (const stop of stopListening) stop();
    try {
      await closeSshInScheduler(scheduler);
    } finally {
      await settings.formatter.close?.();
      interrupt.dispose();
    }
  }
  return {
    outcomes: runs.map((run) => outcomeOf(run.target, run.node, run.job)),
    interrupted: interrupt.interrupted,
    signal: interrupt.signal,
  };
}

/** `jobgraph ssh: 40 targets: 37 succeeded, 2 failed, 1 unreachable` (and how many were cancelled, if any). */
export function summaryLine(command: string, result: FanoutResult): string {
  const count = (status: Outcome['status']) =>
    result.outcomes.filter((outcome) => outcome.status === status).length;
  const cancelled = count('cancelled');
  return (
    `jobgraph ${command}: ${result.outcomes.length} target(s): ${count('succeeded')} succeeded, ` +
    `${count('failed')} failed, ${count('unreachable')} unreachable` +
    `${cancelled > 0 ? `, ${cancelled} cancelled` : ''}${result.interrupted ? ' (interrupted)' : ''}\n`
  );
}

/**
 * One line per target that failed (`jobgraph ssh: root@fit01: exit code 3`, or the error: a
 * timeout, a missing local file…). Unreachable targets have had their "Connection failed" line
 * from the formatter already.
 */
export function errorLines(command: string, result: FanoutResult): string {
  return result.outcomes
    .filter((outcome) => outcome.status === 'failed')
    .map((outcome) => {
      const error = outcome.error;
      const why =
        outcome.result === -1
          ? noExitCode(outcome)
          : outcome.result !== undefined
            ? `exit code ${outcome.result}`
            : (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
      return `jobgraph ${command}: ${outcome.node.toString()}: ${why}\n`;
    })
    .join('');
}

/** The exit code: 0 iff every target returned 0; 130 after Ctrl-C, 143 after SIGTERM, 129 after SIGHUP. */
export function exitCodeOfFanout(result: FanoutResult): number {
  if (result.interrupted) return 128 + constants.signals[result.signal ?? 'SIGINT'];
  return result.outcomes.every((outcome) => outcome.status === 'succeeded') ? 0 : 1;
}
