/**
 * How the parts of an SshNode tell its formatter what happens to the connection and its
 * sessions (`connecting`, `session-start`, `sftp-stop`…). A connection shared by several node
 * objects tells every one of them (each formatter once), through {@link fanOut}.
 */
import type { Formatter, NodeEvent, NodeEventKind, NodeIdentity } from '../formatters/formatter.js';

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

/** The nodes of `nodes` whose formatter no earlier one has (a formatter shared by two nodes shows an event once). */
export function distinctFormatters(nodes: Iterable<EventSource>): EventSource[] {
  const seen = new Set<Formatter>();
  const kept: EventSource[] = [];
  for (const node of nodes) {
    if (seen.has(node.formatter)) continue;
    seen.add(node.formatter);
    kept.push(node);
  }
  return kept;
}

/** An event's detail fields, those that are set. */
function detailOf(event: NodeEvent): EventDetail {
  return {
    ...(event.detail === undefined ? {} : { detail: event.detail }),
    ...(event.direct === undefined ? {} : { direct: event.direct }),
  };
}

/**
 * An event source standing for every node that `audience()` gives at the time of each event:
 * each of their formatters gets the event once, naming its own node. Output lines never go
 * through it (a command's lines go to the node that ran it). `name` names it in messages.
 */
export function fanOut(name: NodeIdentity, audience: () => Iterable<EventSource>): EventSource {
  const formatter: Formatter = {
    line: () => undefined,
    event: (event) => {
      for (const node of distinctFormatters(audience())) nodeEvent(node, event.kind, detailOf(event));
    },
  };
  return {
    hostname: name.hostname,
    username: name.username,
    toString: () => name.toString(),
    formatter,
  };
}
