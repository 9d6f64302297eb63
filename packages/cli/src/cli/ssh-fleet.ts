/**
 * The fan-out of `jobgraph ssh`: one `Fleet` (@jobgraph/ssh) holds every target, and one
 * `fleet.run` runs the command on all of them, each result a value (one target's failure never
 * stops the others).
 * - Each target is a fleet host `{ node, name }` named as `-o` names its file (targets/names.ts),
 *   so two targets of one host (`root@h` and `bob@h`, `h` direct and `gw->h`) stay apart.
 * - `-w N` is Fleet's `concurrency` (the others wait their turn, in target order); `--timeout`
 *   its per-host `timeout` (the remote process killed); `--stdin`, `--encoding`,
 *   `--idle-timeout`, `--sudo` its command options; `--host-args` its `hostArgs`, keyed by name.
 * - The output goes through each node's formatter as it comes, never held (`collect: false`).
 * - Ctrl-C (SIGTERM, SIGHUP) aborts the run's `signal`: every remote command is killed, targets
 *   still waiting for their turn never start.
 * - `-s`: the script is copied to each target as its step before its command (Fleet's
 *   `prepare`), in its turn: `-w` counts the copy and the command together, and so does
 *   `--timeout`; a slow or dead target holds up no other. A target whose copy failed does not
 *   run the command, and fails with that error (or is unreachable). After the run — also after a
 *   timeout or Ctrl-C — the copy is removed from every target that the copy reached, best effort.
 * - `-v`: the formatter's events of each target as they come (connections, sessions), a line
 *   as the run starts (and as the copies are removed), and at the end one line per target: how
 *   it went, how long.
 * - Some library messages name the library's options: they are told in the CLI's words
 *   (`--sudo-password-file`, `--idle-timeout`).
 */
import {
  Fleet,
  type FleetResult,
  type FleetRunOptions,
  type Formatter,
  type HostArg,
  type PrivateKey,
  SshError,
  SshErrorCode,
  type SshNode,
} from '@jobgraph/ssh';
import { NodeFactory } from '../targets/nodes.js';
import { type Target, targetText } from '../targets/resolve.js';
import { type FanoutResult, isUnreachable, noExitCode, type Outcome } from './fanout.js';
import { onInterrupt } from './interrupt.js';
import type { Io } from './run.js';
import type { TargetOptions } from './target-options.js';

/** What runs on every target. */
export interface FleetCommandPlan {
  /** The command line of every target; a template of Fleet's (`{0}`, `{name}`) when `hostArgs` is given. */
  readonly line: string;
  /** Each target's `--host-args` entry, in target order. */
  readonly hostArgs?: readonly HostArg[] | undefined;
  /** Done on each target before the command (the copy of a script); its failure is that target's. */
  readonly prepare?: ((node: SshNode, signal: AbortSignal) => Promise<void>) | undefined;
  /**
   * Undoes `prepare` after the run (removes the script's copy), on each target where `prepare`
   * started and the node is connected; best effort: bounded, its failure ignored.
   */
  readonly cleanup?: ((node: SshNode, signal: AbortSignal) => Promise<void>) | undefined;
}

/** The options of the command on every target (`--stdin`, `--encoding`, `--idle-timeout`, `--sudo`). */
export type CommandSettings = Pick<FleetRunOptions, 'stdin' | 'encoding' | 'idleTimeout' | 'sudo'>;

/** How to run the command of `jobgraph ssh` on every target. */
export interface FleetFanoutSettings {
  readonly plan: FleetCommandPlan;
  readonly command: CommandSettings;
  /** Each target's name in the fleet: the name of its `-o` file. */
  readonly names: ReadonlyMap<Target, string>;
  readonly options: TargetOptions;
  readonly keys: PrivateKey[] | undefined;
  readonly formatter: Formatter;
}

/** One target in the fleet, and what became of it. */
interface Member {
  readonly target: Target;
  readonly node: SshNode;
  readonly name: string;
  /** How far the step before the command (the copy of a script) went. */
  prepared?: 'started' | 'done';
  result?: FleetResult;
}

/** Whether `error`, or one of its causes, is `reason`. */
function causedBy(error: unknown, reason: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && depth < 8; depth++) {
    if (cause === reason) return true;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return false;
}

/**
 * What became of a target. `stop`: the reason of Ctrl-C, if it came; a target stopped by it, or
 * that never had its turn, is cancelled; one that had ended, or failed on its own, keeps that.
 */
function outcomeOf(member: Member, stop: unknown): Outcome {
  const { target, node, result } = member;
  if (result?.finished === true) {
    // as an SshJob's result: -1 for a command ended by a signal (apssh's)
    const code = result.exitCode ?? -1;
    const signal = result.signal ?? undefined;
    return {
      target,
      node,
      status: code === 0 ? 'succeeded' : 'failed',
      result: code,
      error: undefined,
      signal,
    };
  }
  const error = result?.error;
  if (error === undefined || (stop !== undefined && causedBy(error, stop))) {
    return { target, node, status: 'cancelled', result: undefined, error: undefined };
  }
  const status = isUnreachable(error) ? 'unreachable' : 'failed';
  return { target, node, status, result: undefined, error: inCliWords(error, member) };
}

/**
 * An error as the CLI tells it: the library's option names replaced by the CLI's, a timeout
 * during the copy of the script said so (no command was killed); the library's error is its cause.
 */
function inCliWords(error: Error, member: Member): Error {
  if (!(error instanceof SshError)) return error;
  let message = error.message;
  if (error.code === SshErrorCode.SUDO) {
    message = message.replace('give sudo: { password }', 'use --sudo-password-file');
  } else if (error.code === SshErrorCode.IDLE_TIMEOUT) {
    message = message.replace('(idleTimeout)', '(--idle-timeout)');
  } else if (error.code === SshErrorCode.COMMAND_TIMEOUT && member.prepared === 'started') {
    message = message.replace(/, killed: .*$/s, ' while its script was copied');
  }
  if (message === error.message) return error;
  const node = error.node === undefined ? {} : { node: error.node };
  return new SshError(error.code as SshErrorCode, message, { cause: error, ...node });
}

/**
 * `-v`'s line for a target at the end: `root@fit01: succeeded (exit code 0) after 1.25 s`, how
 * long its command took; why one failed is said below it, as without `-v` (errorLines).
 */
function progressLine(outcome: Outcome, member: Member): string {
  const { status, result } = outcome;
  const code =
    result === undefined ? '' : result === -1 ? ` (${noExitCode(outcome)})` : ` (exit code ${result})`;
  // a cancelled target may never have had its turn: no duration
  const took =
    member.result === undefined || status === 'cancelled'
      ? ''
      : ` after ${(member.result.durationMs / 1000).toFixed(2)} s`;
  return `jobgraph ssh: ${member.node.toString()}: ${status}${code}${took}\n`;
}

/**
 * Fleet's `prepare` for `plan.prepare`: notes how far each member's went (for `cleanup`, and to
 * tell a timeout during the copy); a failure once its signal aborted (a stop, Ctrl-C, the
 * timeout) is that signal's reason.
 */
function preparing(
  prepare: NonNullable<FleetCommandPlan['prepare']>,
  memberOf: (name: string) => Member,
): NonNullable<FleetRunOptions['prepare']> {
  return async (host, signal) => {
    const member = memberOf(host.name);
    member.prepared = 'started';
    try {
      await prepare(member.node, signal);
    } catch (error) {
      throw signal.aborted ? signal.reason : error;
    }
    member.prepared = 'done';
  };
}

/**
 * `plan.cleanup` on every member whose `prepare` started and whose node is connected (a host
 * never reached has nothing to undo, and is not waited for again), all at once, each bounded by
 * its node's connect timeout; failures are ignored.
 */
async function cleanUp(
  fleet: Fleet,
  cleanup: NonNullable<FleetCommandPlan['cleanup']>,
  memberOf: (name: string) => Member,
  say: (text: string) => void,
): Promise<void> {
  const touched = fleet.filter((host) => {
    const member = memberOf(host.name);
    return member.prepared !== undefined && member.node.isConnected();
  });
  if (touched.size === 0) return;
  say(`removing the script's copy from ${touched.size} target(s)`);
  await touched.each(async (host) => {
    const { node } = memberOf(host.name);
    const bound = AbortSignal.timeout(node.connectTimeout);
    let onAbort = (): void => undefined;
    // bounded even if the removal does not heed its signal
    const expired = new Promise<void>((resolve) => {
      onAbort = resolve;
      bound.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([cleanup(node, bound), expired]);
    } finally {
      bound.removeEventListener('abort', onAbort);
    }
  });
}

/** Closes the nodes, remotest first: a gateway after every node tunnelled through it. */
async function closeNodes(nodes: readonly SshNode[]): Promise<void> {
  const distances = [...new Set(nodes.map((node) => node.distance()))].sort((a, b) => b - a);
  const failures: unknown[] = [];
  for (const distance of distances) {
    const level = nodes.filter((node) => node.distance() === distance);
    for (const outcome of await Promise.allSettled(level.map((node) => node.close()))) {
      if (outcome.status === 'rejected') failures.push(outcome.reason);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** `at most 4 at once`, or `all at once` (`-w`). */
const windowText = (concurrency: number | undefined) =>
  concurrency === undefined ? 'all at once' : `at most ${concurrency} at once`;

/**
 * Runs the command on every target, as one Fleet: at most `-w` at once, one target's failure
 * never stopping the others. Ctrl-C (SIGTERM, SIGHUP) stops every command (remote processes
 * killed) and closes the connections.
 */
export async function runFleetFanout(
  targets: readonly Target[],
  settings: FleetFanoutSettings,
  io: Io,
): Promise<FanoutResult> {
  const { options, plan } = settings;
  const factory = new NodeFactory({
    keys: settings.keys,
    knownHosts: options.knownHosts,
    hostKeyPolicy: options.hostKeyPolicy,
    connectTimeout: options.connectTimeout,
    formatter: settings.formatter,
    verbose: options.verbose,
  });
  const members: Member[] = [];
  for (const target of targets) {
    const node = await factory.node(target);
    if (options.debug) io.stderr.write(`jobgraph: target ${target.text} is ${node.toString()}\n`);
    members.push({ target, node, name: settings.names.get(target) ?? targetText(target) });
  }
  const byName = new Map(members.map((member) => [member.name, member]));
  const memberOf = (name: string) => byName.get(name) as Member;
  const fleet = new Fleet(members.map(({ node, name }) => ({ node, name })));
  const concurrency = options.window > 0 ? options.window : undefined;
  const say = (text: string) => {
    if (options.verbose) io.stderr.write(`jobgraph ssh: ${text}\n`);
  };

  const controller = new AbortController();
  const { signal } = controller;
  const interrupt = onInterrupt(controller, io);
  try {
    const { prepare } = plan;
    say(
      prepare === undefined
        ? `running the command on ${fleet.size} target(s), ${windowText(concurrency)}`
        : `copying and running the script on ${fleet.size} target(s), ${windowText(concurrency)}`,
    );
    const hostArgs =
      plan.hostArgs === undefined
        ? undefined
        : Object.fromEntries(
            members.map((member, index) => [member.name, plan.hostArgs?.[index] as HostArg]),
          );
    // each target's copy (-s) in its turn, within its --timeout: a slow one holds up no other
    const results = await fleet.run(plan.line, {
      ...settings.command,
      ...(hostArgs === undefined ? {} : { hostArgs }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(prepare === undefined ? {} : { prepare: preparing(prepare, memberOf) }),
      signal,
      // shown as it comes, never held: `-r 'tar c /'` may print more than memory holds
      print: true,
      collect: false,
    });
    for (const result of results) memberOf(result.host).result = result;
  } finally {
    try {
      // also after a timeout or Ctrl-C: the remote commands are over (killed), the copies unused
      if (plan.cleanup !== undefined) await cleanUp(fleet, plan.cleanup, memberOf, say);
      await closeNodes(factory.all());
    } finally {
      await settings.formatter.close?.();
      interrupt.dispose();
    }
  }
  const stop = signal.aborted ? signal.reason : undefined;
  const outcomes = members.map((member) => outcomeOf(member, stop));
  if (options.verbose) {
    outcomes.forEach((outcome, index) => {
      io.stderr.write(progressLine(outcome, members[index] as Member));
    });
  }
  return { outcomes, interrupted: interrupt.interrupted, signal: interrupt.signal };
}
