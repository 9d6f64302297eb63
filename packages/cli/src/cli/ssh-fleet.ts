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
 * - `-s`: the script is copied to every target first, by `fleet.each` (within `-w`, each copy
 *   within `--timeout`); a target whose copy failed is left out of the run, with that error.
 *   With `-s`, `--timeout` thus bounds the copy and then the command, each on its own.
 * - `-v`: the formatter's events of each target as they come (connections, sessions), a line
 *   as the copy and the run start, and at the end one line per target: how it went, how long.
 */
import {
  Fleet,
  type FleetResult,
  type FleetRunOptions,
  type Formatter,
  type HostArg,
  type PrivateKey,
  type SshNode,
} from '@jobgraph/ssh';
import { NodeFactory } from '../targets/nodes.js';
import { type Target, targetText } from '../targets/resolve.js';
import { type FanoutResult, isUnreachable, NO_EXIT_CODE, type Outcome } from './fanout.js';
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
  /** Why the step before the command (the copy of a script) failed. */
  prepareError?: unknown;
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
    return { target, node, status: code === 0 ? 'succeeded' : 'failed', result: code, error: undefined };
  }
  const error = member.prepareError ?? result?.error;
  if (error === undefined || (stop !== undefined && causedBy(error, stop))) {
    return { target, node, status: 'cancelled', result: undefined, error: undefined };
  }
  return { target, node, status: isUnreachable(error) ? 'unreachable' : 'failed', result: undefined, error };
}

/**
 * `-v`'s line for a target at the end: `root@fit01: succeeded (exit code 0) after 1.25 s`, how
 * long its command took; why one failed is said below it, as without `-v` (errorLines).
 */
function progressLine(outcome: Outcome, member: Member): string {
  const { status, result } = outcome;
  const code = result === undefined ? '' : result === -1 ? ` (${NO_EXIT_CODE})` : ` (exit code ${result})`;
  // a cancelled target may never have had its turn: no duration
  const took =
    member.result === undefined || status === 'cancelled'
      ? ''
      : ` after ${(member.result.durationMs / 1000).toFixed(2)} s`;
  return `jobgraph ssh: ${member.node.toString()}: ${status}${code}${took}\n`;
}

/** The step before the command (the copy of a script), within `--timeout`. */
async function prepareWithin(
  prepare: NonNullable<FleetCommandPlan['prepare']>,
  node: SshNode,
  signal: AbortSignal,
  timeout: number | undefined,
): Promise<void> {
  // a target that waited its turn (-w) while Ctrl-C came does not start
  if (signal.aborted) throw signal.reason;
  if (timeout === undefined) return prepare(node, signal);
  const expired = new AbortController();
  const timer = setTimeout(() => {
    expired.abort(
      new Error(
        `Command ran past its timeout of ${timeout} ms on ${node.toString()} while its script was copied`,
      ),
    );
  }, timeout);
  try {
    await prepare(node, AbortSignal.any([signal, expired.signal]));
  } finally {
    clearTimeout(timer);
  }
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
  const fleet = new Fleet(members.map(({ node, name }) => ({ node, name })));
  const concurrency = options.window > 0 ? options.window : undefined;
  const say = (text: string) => {
    if (options.verbose) io.stderr.write(`jobgraph ssh: ${text}\n`);
  };

  const controller = new AbortController();
  const { signal } = controller;
  const interrupt = onInterrupt(controller, io);
  try {
    let ready = fleet;
    const { prepare } = plan;
    if (prepare !== undefined) {
      say(`copying the script to ${fleet.size} target(s), ${windowText(concurrency)}`);
      const copies = await fleet.each(
        async (host) => {
          const member = byName.get(host.name) as Member;
          try {
            await prepareWithin(prepare, member.node, signal, options.timeout);
          } catch (error) {
            // a copy that fails once Ctrl-C came was stopped by it
            throw signal.aborted ? signal.reason : error;
          }
        },
        concurrency === undefined ? {} : { concurrency },
      );
      for (const copy of copies) {
        if (!copy.ok) (byName.get(copy.host) as Member).prepareError = copy.error;
      }
      ready = fleet.filter((host) => byName.get(host.name)?.prepareError === undefined);
    }
    if (ready.size > 0 && !signal.aborted) {
      say(`running the command on ${ready.size} target(s), ${windowText(concurrency)}`);
      const hostArgs =
        plan.hostArgs === undefined
          ? undefined
          : Object.fromEntries(
              members.map((member, index) => [member.name, plan.hostArgs?.[index] as HostArg]),
            );
      const results = await ready.run(plan.line, {
        ...settings.command,
        ...(hostArgs === undefined ? {} : { hostArgs }),
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
        signal,
        // shown as it comes, never held: `-r 'tar c /'` may print more than memory holds
        print: true,
        collect: false,
      });
      for (const result of results) (byName.get(result.host) as Member).result = result;
    }
  } finally {
    try {
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
