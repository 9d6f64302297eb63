/**
 * Nodes on the test bed (real sshd on loopback, gateway and targets in network
 * namespaces), and a formatter that records what it is given.
 */
import { afterEach, inject } from 'vitest';
import '../../../test/testbed/global-setup.js';
import type { Formatter, HostSettings, NodeEvent, OutputLine } from '../src/index.js';
import { SshNode, type SshNodeOptions } from '../src/index.js';

export const bed = inject('testbed');

/** Keeps every line and event; prints nothing. */
export class RecordingFormatter implements Formatter {
  readonly lines: OutputLine[] = [];
  readonly events: NodeEvent[] = [];
  line(line: OutputLine): void {
    this.lines.push(line);
  }
  event(event: NodeEvent): void {
    this.events.push(event);
  }
  /** The stdout text received. */
  stdout(): string {
    return this.lines
      .filter((line) => line.stream === 'stdout')
      .map((line) => line.linenl)
      .join('');
  }
  stderr(): string {
    return this.lines
      .filter((line) => line.stream === 'stderr')
      .map((line) => line.linenl)
      .join('');
  }
}

type Extra = Omit<SshNodeOptions, 'hostname'>;

/** Options shared by every node of the bed: its key, its known_hosts, strict checking. */
export function common(extra: Extra = {}): Extra {
  return {
    username: 'root',
    keys: [bed.keys.ed25519],
    knownHosts: bed.knownHosts,
    hostKeyPolicy: 'strict',
    agent: false,
    formatter: new RecordingFormatter(),
    connectTimeout: 10_000,
    ...extra,
  };
}

export function loopbackNode(extra: Extra = {}): SshNode {
  return new SshNode({ hostname: bed.loopback.hostname, port: bed.loopback.port, ...common(extra) });
}

export function gatewayNode(extra: Extra = {}): SshNode {
  return new SshNode({ hostname: bed.gateway.hostname, port: bed.gateway.port, ...common(extra) });
}

/** Target 0 or 1, behind `gateway` (a new gateway node if none is given). */
export function targetNode(index: 0 | 1, gateway: SshNode = gatewayNode(), extra: Extra = {}): SshNode {
  const target = bed.targets[index];
  return new SshNode({ hostname: target.hostname, port: target.port, gateway, ...common(extra) });
}

export function recorder(node: { formatter: Formatter }): RecordingFormatter {
  return node.formatter as RecordingFormatter;
}

/** The bed's gateway as a Fleet (or CLI) writes it: `root@host:port`. */
export const gatewaySpec = `root@${bed.gateway.hostname}:${bed.gateway.port}`;

/** The bed's loopback sshd as a Fleet writes it: `host:port`. */
export const loopbackSpec = `${bed.loopback.hostname}:${bed.loopback.port}`;

/** The bed's credentials as Fleet settings (see {@link common}), with `extra` over them. */
export function fleetSettings(extra: HostSettings = {}): HostSettings {
  return { ...common(), ...extra } as HostSettings;
}

/**
 * A `track(node)` for a test file (call it at the top level): the nodes it is given are closed
 * after each test, remotest first (targets before their gateways).
 */
export function closeAfterEach(): <T extends SshNode>(node: T) => T {
  const opened: SshNode[] = [];
  afterEach(async () => {
    for (const node of opened.splice(0).sort((a, b) => b.distance() - a.distance())) await node.close();
  });
  return (node) => {
    opened.push(node);
    return node;
  };
}
