/**
 * How the parts of an SshNode tell its formatter what happens to the connection and its
 * sessions (`connecting`, `session-start`, `sftp-stop`…).
 */
import type { Formatter, NodeEventKind, NodeIdentity } from '../formatters/formatter.js';

/** The node as events and output lines name it, with the formatter that shows them. */
export type EventSource = NodeIdentity & { readonly formatter: Formatter };

/** What an event may add to its kind. */
export interface EventDetail {
  readonly detail?: string;
  readonly direct?: boolean;
}

/** Hands one event to the node's formatter; a failing formatter must not break the connection logic. */
export function nodeEvent(node: EventSource, kind: NodeEventKind, extra: EventDetail = {}): void {
  try {
    node.formatter.event({ kind, node, time: new Date(), ...extra });
  } catch {
    // dropped: see above
  }
}
