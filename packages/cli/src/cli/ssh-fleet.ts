/**
 * The fan-out of `jobgraph ssh`: each target's command runs through `Fleet.run` (@jobgraph/ssh),
 * which gives the per-host result (errors as values), the per-target timeout with the remote
 * process killed, stdin, encoding, the idle timeout, sudo and the `hostArgs` templates; the
 * output is shown through each node's formatter (`print`).
 *
 * Why one Fleet per target, each run as a job of a Scheduler, rather than one `fleet.run()` over
 * all the targets:
 * - `-w N` bounds how many targets work at once; Fleet runs all its hosts at once;
 * - a Fleet names a host `host[:port]` and refuses the same name twice, while two targets may
 *   share one (`root@h` and `bob@h`, or `h` direct and `gw->h`);
 * - `-s` copies the script to each target before its run (`Fleet.run` takes a command line);
 * - `-v` shows the progress of the jobs, and Ctrl-C cancels them, as `jobgraph run` does.
 */
import { attachVerboseRenderer, Job, Scheduler } from '@jobgraph/core';
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
import type { Target } from '../targets/resolve.js';
import { type FanoutResult, isUnreachable, type Outcome } from './fanout.js';
import { CLI_SHUTDOWN_TIMEOUT_MS, onInterrupt } from './interrupt.js';
import type { Io } from './run.js';
import type { TargetOptions } from './target-options.js';

/** What one target runs. */
export interface TargetRun {
  /** The command line; a template of Fleet's (`{0}`, `{name}`) when `hostArg` is given. */
  readonly line: string;
  /** The target's `--host-args` entry. */
  readonly hostArg?: HostArg | undefined;
  /** Done on the node before the command (the copy of a script); its failure is the target's. */
  readonly prepare?: ((node: SshNode, signal: AbortSignal) => Promise<void>) | undefined;
}

/** The options of the command on every target (`--stdin`, `--encoding`, `--idle-timeout`, `--sudo`). */
export type CommandSettings = Pick<FleetRunOptions, 'stdin' | 'encoding' | 'idleTimeout' | 'sudo'>;

/** How to run the command of `jobgraph ssh` on every target. */
export interface FleetFanoutSettings {
  /** What each target runs. */
  readonly run: (target: Target, index: number, node: SshNode) => TargetRun;
  readonly command: CommandSettings;
  readonly options: TargetOptions;
  readonly keys: PrivateKey[] | undefined;
  readonly formatter: Formatter;
}

/** What became of one target's job. */
interface Settled {
  readonly result?: FleetResult;
  /** An error before the command ran (the copy of a script), or thrown by Fleet. */
  readonly error?: unknown;
  /** Whether it came after Ctrl-C (then an unfinished command counts as cancelled). */
  readonly afterStop: boolean;
}

function outcomeOf(target: Target, node: SshNode, settled: Settled | undefined): Outcome {
  const cancelled = { target, node, status: 'cancelled', result: undefined, error: undefined } as const;
  if (settled === undefined) return cancelled;
  const { result } = settled;
  if (result?.finished === true) {
    // as an SshJob's result: -1 for a command ended by a signal (apssh's)
    const code = result.exitCode ?? -1;
    return { target, node, status: code === 0 ? 'succeeded' : 'failed', result: code, error: undefined };
  }
  if (settled.afterStop) return cancelled;
  const error = settled.error ?? result?.error;
  return { target, node, status: isUnreachable(error) ? 'unreachable' : 'failed', result: undefined, error };
}

/**
 * The step before the command (the copy of a script), within `--timeout` as the command is (the
 * limit is on the whole target, as it was for an SshJob). @returns what is left of the timeout
 */
async function prepareWithin(
  prepare: TargetRun['prepare'],
  node: SshNode,
  signal: AbortSignal,
  timeout: number | undefined,
): Promise<number | undefined> {
  if (prepare === undefined) return timeout;
  if (timeout === undefined) {
    await prepare(node, signal);
    return undefined;
  }
  const began = performance.now();
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
  return Math.max(1, Math.round(timeout - (performance.now() - began)));
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

/**
 * Runs the command on every target (at most `-w` at once); one target's failure never stops the
 * others. Ctrl-C (SIGTERM, SIGHUP) stops every command (remote processes killed) and closes the
 * connections.
 */
export async function runFleetFanout(
  targets: readonly Target[],
  settings: FleetFanoutSettings,
  io: Io,
): Promise<FanoutResult> {
  const { options, command } = settings;
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
  const controller = new AbortController();
  const settled: (Settled | undefined)[] = [];
  const nodes: SshNode[] = [];
  for (const [index, target] of targets.entries()) {
    const node = await factory.node(target);
    nodes.push(node);
    if (options.debug) io.stderr.write(`jobgraph: target ${target.text} is ${node.toString()}\n`);
    const { line, hostArg, prepare } = settings.run(target, index, node);
    const fleet = new Fleet([node]);
    const runOptions: FleetRunOptions = {
      ...command,
      ...(hostArg === undefined ? {} : { hostArgs: [hostArg] }),
      // shown as it comes, never held: `-r 'tar c /'` may print more than memory holds
      print: true,
      collect: false,
    };
    new Job(
      async ({ signal }) => {
        const settle = (outcome: Omit<Settled, 'afterStop'>) => {
          settled[index] = { ...outcome, afterStop: controller.signal.aborted };
        };
        try {
          const left = await prepareWithin(prepare, node, signal, options.timeout);
          const [result] = await fleet.run(line, {
            ...runOptions,
            ...(left === undefined ? {} : { timeout: left }),
            signal,
          });
          settle(result === undefined ? {} : { result });
        } catch (error) {
          settle({ error });
          throw error;
        }
        // a failed target is a failed job, for -v's lines
        const result = settled[index]?.result;
        if (result?.error !== undefined) throw result.error;
        return result?.exitCode;
      },
      { label: node.toString(), critical: false, scheduler },
    );
  }

  const stopRenderer = options.verbose
    ? attachVerboseRenderer(scheduler, { write: (text) => io.stderr.write(text) })
    : undefined;
  const interrupt = onInterrupt(controller, io);
  try {
    try {
      await scheduler.run({ signal: controller.signal });
    } catch (error) {
      if (!interrupt.interrupted) throw error;
    }
  } finally {
    stopRenderer?.();
    try {
      await closeNodes(factory.all());
    } finally {
      await settings.formatter.close?.();
      interrupt.dispose();
    }
  }
  return {
    outcomes: targets.map((target, index) => outcomeOf(target, nodes[index] as SshNode, settled[index])),
    interrupted: interrupt.interrupted,
    signal: interrupt.signal,
  };
}
