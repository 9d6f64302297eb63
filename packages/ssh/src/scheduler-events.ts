/**
 * The SSH connections of a scheduler's nodes in its event stream: `ssh:connect`,
 * `ssh:connect-failed`, `ssh:close` (declared in events.ts), beside the jobs' events, for a log
 * (`jobgraph run --log`), a live view or a report's timeline.
 */
import type { PureScheduler } from '@jobgraph/core';
import type { NodeEvent } from './formatters/formatter.js';
import type { SshNode } from './ssh-node.js';
import { usedNodes } from './topology.js';

/**
 * Announces in `scheduler`'s event stream the connections of the SshNodes its SshJobs use, their
 * gateways included (those in the scheduler when it is called: call it after adding the jobs).
 * Errors are one line; a connection shared by several node objects is announced for each.
 * @returns a function that stops it
 *
 * @example
 * ```ts
 * const stop = attachSshEvents(scheduler)
 * scheduler.on('ssh:close', (event) => { if (event.lost) console.log(`lost ${event.node}: ${event.error}`) })
 * await scheduler.run()
 * stop()
 * ```
 */
export function attachSshEvents(scheduler: PureScheduler): () => void {
  const stops = usedNodes(scheduler, true).map((node) =>
    node.onEvent((event) => announceConnection(scheduler, node, event)),
  );
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}

function announceConnection(scheduler: PureScheduler, node: SshNode, event: NodeEvent): void {
  const name = node.toString();
  switch (event.kind) {
    case 'connected':
      scheduler.announce({ type: 'ssh:connect', node: name, direct: event.direct ?? true });
      return;
    case 'connect-failed':
      scheduler.announce({
        type: 'ssh:connect-failed',
        node: name,
        error: oneLine(event.detail ?? 'failed'),
      });
      return;
    case 'disconnected':
      scheduler.announce(
        event.detail === undefined
          ? { type: 'ssh:close', node: name, lost: false }
          : { type: 'ssh:close', node: name, lost: true, error: oneLine(event.detail) },
      );
      return;
    default:
      // sessions and SFTP channels: the commands' own events (cmd:*) say more
      return;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
