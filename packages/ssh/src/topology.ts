/**
 * Topology: which SSH nodes a scheduler uses, drawn as a graph, and closed together
 * (apssh's `apssh.topology`).
 */
import { exportGraph, type PureScheduler } from '@jobgraph/core';
import { endpointText } from './endpoint-text.js';
import { SshError, SshErrorCode } from './errors.js';
import { SshJob } from './ssh-job.js';
import { SshNode } from './ssh-node.js';

/** Options of {@link closeSshInScheduler}. */
export interface CloseSshOptions {
  /** Close the gateways of the nodes too (transitively). @default true */
  manageGateways?: boolean;
}

function checkScheduler(scheduler: unknown, what: string): asserts scheduler is PureScheduler {
  if (
    typeof scheduler !== 'object' ||
    scheduler === null ||
    typeof (scheduler as PureScheduler).iterateJobs !== 'function'
  ) {
    throw new SshError(SshErrorCode.INVALID_OPTION, `${what}: expected a scheduler, got ${typeof scheduler}`);
  }
}

/**
 * The SshNodes used by the scheduler's SshJobs (nested schedulers included), with their
 * gateways (transitively) when `gateways` is true, each object once, in first-seen order
 * (jobs in `iterateJobs()` order; a node, then its gateway chain).
 */
export function usedNodes(scheduler: PureScheduler, gateways: boolean): SshNode[] {
  const seen = new Set<SshNode>();
  for (const job of scheduler.iterateJobs()) {
    if (!(job instanceof SshJob) || !(job.node instanceof SshNode)) continue;
    let node: SshNode | undefined = job.node;
    while (node !== undefined && !seen.has(node)) {
      seen.add(node);
      node = gateways ? node.gateway : undefined;
    }
  }
  return [...seen];
}

/** The nodes sorted by increasing `distance()`, ties in first-seen order (the sort is stable). */
function byDistance(nodes: readonly SshNode[]): Array<{ node: SshNode; distance: number }> {
  return nodes.map((node) => ({ node, distance: node.distance() })).sort((a, b) => a.distance - b.distance);
}

function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function box(index: number, label: string): string {
  return `${index} [style="rounded", label=${quoted(label)}, shape="box"]`;
}

/**
 * The SSH topology of a scheduler in DOT, in apssh's format (`topology_dot`): node 0 is
 * the local node, then every SshNode used by an SshJob of the scheduler (nested
 * schedulers included) and all their gateways, numbered 1.. by increasing `distance()`
 * and, at one distance, in first-seen order (jobs in `iterateJobs()` order, each node
 * before its gateways); then one edge per node, `<its gateway's number, or 0> -> <its number>`.
 *
 * A node's label is `user@host`, with `:port` appended when the port is not 22
 * (apssh never shows the port). Node identity is the object: two SshNode objects for
 * the same host are two boxes. Jobs on the LocalNode are not drawn (as in apssh).
 *
 * @example
 * ```
 * digraph apssh{
 * graph[];
 * 0 [style="rounded", label="Local Node", shape="box"]
 * 1 [style="rounded", label="inria_tutorial@faraday", shape="box"]
 * 2 [style="rounded", label="root@fit01", shape="box"]
 * 0 -> 1
 * 1 -> 2
 * }
 * ```
 */
export function topologyDot(scheduler: PureScheduler): string {
  checkScheduler(scheduler, 'topologyDot');
  const ordered = byDistance(usedNodes(scheduler, true)).map((entry) => entry.node);
  const numbers = new Map<SshNode, number>(ordered.map((node, offset) => [node, offset + 1]));
  const lines = ['digraph apssh{', 'graph[];', box(0, 'Local Node')];
  for (const node of ordered) {
    lines.push(box(numbers.get(node) ?? 0, endpointText(node.username, node.hostname, node.port)));
  }
  for (const node of ordered) {
    const from = node.gateway === undefined ? 0 : (numbers.get(node.gateway) ?? 0);
    lines.push(`${from} -> ${numbers.get(node) ?? 0}`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * Writes {@link topologyDot} to `path` (`.dot` added when it has no such extension).
 * @returns the path written.
 * @throws JobGraphError `ERR_GRAPH_RENDER` when the file cannot be written.
 */
export function topologyAsDotfile(scheduler: PureScheduler, path: string): Promise<string> {
  return exportGraph(topologyDot(scheduler), path, 'dot');
}

/**
 * Renders {@link topologyDot} as SVG (in-process, no `dot` binary) and writes it to
 * `path` (`.svg` added when it has no such extension).
 * @returns the path written.
 */
export function topologyAsSvgfile(scheduler: PureScheduler, path: string): Promise<string> {
  return exportGraph(topologyDot(scheduler), path, 'svg');
}

/**
 * Renders {@link topologyDot} as PNG and writes it to `path` (`.png` added when it has
 * no such extension). Unlike apssh, no `.dot` file is left beside it.
 * @returns the path written.
 */
export function topologyAsPngfile(scheduler: PureScheduler, path: string): Promise<string> {
  return exportGraph(topologyDot(scheduler), path, 'png');
}

/**
 * Closes every SshNode used by the scheduler's SshJobs (nested schedulers included) and,
 * with `manageGateways`, their gateways, remotest first: the nodes are grouped by
 * `distance()` and each group is closed at once, from the largest distance to the
 * smallest, so that a gateway closes only after the nodes tunnelled through it.
 *
 * This is how connections kept with `keepConnection: true` are closed; afterwards no
 * connection of these nodes keeps the Node.js process alive. Nodes that never connected
 * or are already closed are fine; a later run reconnects lazily.
 *
 * @example
 * ```ts
 * await scheduler.run()
 * await closeSshInScheduler(scheduler)
 * ```
 */
export async function closeSshInScheduler(
  scheduler: PureScheduler,
  options: CloseSshOptions = {},
): Promise<void> {
  checkScheduler(scheduler, 'closeSshInScheduler');
  const manageGateways = options.manageGateways ?? true;
  const levels = new Map<number, SshNode[]>();
  for (const { node, distance } of byDistance(usedNodes(scheduler, manageGateways))) {
    const level = levels.get(distance);
    if (level === undefined) levels.set(distance, [node]);
    else level.push(node);
  }
  const failures: unknown[] = [];
  for (const distance of [...levels.keys()].sort((a, b) => b - a)) {
    const outcomes = await Promise.allSettled((levels.get(distance) ?? []).map((node) => node.close()));
    for (const outcome of outcomes) if (outcome.status === 'rejected') failures.push(outcome.reason);
  }
  // Every node was given its chance to close before a failure is reported.
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, 'Some SSH connections failed to close');
}
