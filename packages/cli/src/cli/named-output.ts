/**
 * `-o DIR`: each target's output goes into `DIR/<its name>` (see targets/names.ts) rather than
 * `DIR/<host name>`, so that two targets on one host keep apart, an ssh config alias stays an alias,
 * and the names match what `--mark` writes.
 */
import type { Formatter, NodeEvent, NodeIdentity, OutputLine, SubdirFormatter } from '@jobgraph/ssh';

/** A formatter that renames the targets' nodes for a SubdirFormatter; gateways get no file. */
export class NamedOutput implements Formatter {
  readonly inner: SubdirFormatter;
  /** Name by node text (`gwuser@gw->user@host`, as a node prints itself). */
  readonly #names: ReadonlyMap<string, string>;

  constructor(inner: SubdirFormatter, names: ReadonlyMap<string, string>) {
    this.inner = inner;
    this.#names = names;
  }

  #renamed(node: NodeIdentity): NodeIdentity | undefined {
    const name = this.#names.get(node.toString());
    if (name === undefined) return undefined;
    return { hostname: name, username: node.username, toString: () => node.toString() };
  }

  line(line: OutputLine): void {
    const node = this.#renamed(line.node);
    if (node !== undefined) this.inner.line({ ...line, node });
  }

  event(event: NodeEvent): void {
    const node = this.#renamed(event.node);
    // a gateway's connection failure is still worth a line on stderr; the rest of it, no file
    if (node !== undefined) this.inner.event({ ...event, node });
    else if (event.kind === 'connect-failed') this.inner.event(event);
  }

  /** The files' back-pressure: reading the command's output waits while their queue is full. */
  whenDrained(): Promise<void> | undefined {
    return this.inner.whenDrained?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
