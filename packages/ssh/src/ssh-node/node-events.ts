/**
 * How the parts of an SshNode tell its formatter what happens to the connection and its
 * sessions (`connecting`, `session-start`, `sftp-stop`…). A connection shared by several node
 * objects tells every one of them (each formatter once), through {@link fanOut}.
 */
import type { Formatter, NodeEvent, NodeEventKind, NodeIdentity } from '../formatters/formatter.js';

/** Where an SshNode keeps the listeners of its events (`node.onEvent()`), beside its formatter. */
export const kNodeListeners: unique symbol = Symbol('jobgraph.nodeListeners');

/** A listener of a node's connection and session events. */
export type NodeEventListener = (event: NodeEvent) => void;

/** The node as events and output lines name it, with the formatter that shows them. */
export type EventSource = NodeIdentity & {
  readonly formatter: Formatter;
  readonly [kNodeListeners]?: ReadonlySet<NodeEventListener>;
};

/** What an event may add to its kind. */
export interface EventDetail {
  readonly detail?: string;
  readonly direct?: boolean;
}

/** Hands one event to the node's formatter; a failing formatter must not break the connection logic. */
export function nodeEvent(node: EventSource, kind: NodeEventKind, extra: EventDetail = {}): void {
  const event: NodeEvent = { kind, node, time: new Date(), ...extra };
  try {
    node.formatter.event(event);
  } catch {
    // dropped: see above
  }
  tellListeners(node, event);
}

/**
 * Hands an event to the node's own listeners only: for a node whose formatter was told already
 * (it shares it with another node), whose listeners must hear it all the same.
 */
export function nodeListenersEvent(node: EventSource, kind: NodeEventKind, extra: EventDetail = {}): void {
  tellListeners(node, { kind, node, time: new Date(), ...extra });
}

/** Hands an event to the node's own listeners (each one's failure dropped, as a formatter's). */
function tellListeners(node: EventSource, event: NodeEvent): void {
  const listeners = node[kNodeListeners];
  if (listeners === undefined) return;
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // dropped: a listener must not break the connection logic
    }
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
      const nodes = [...audience()];
      const shown = new Set(distinctFormatters(nodes));
      for (const node of nodes) {
        // each formatter once; but every node's own listeners, whatever formatter it shares
        if (shown.has(node)) nodeEvent(node, event.kind, detailOf(event));
        else tellListeners(node, { ...event, node });
      }
    },
  };
  return {
    hostname: name.hostname,
    username: name.username,
    toString: () => name.toString(),
    formatter,
  };
}
