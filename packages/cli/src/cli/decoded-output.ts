/**
 * `--encoding`: the output is decoded from that encoding and shown as text (UTF-8) in every
 * format. Without this, `-r` and `-o` write the bytes as they came (binary output stays intact),
 * so `--encoding` would change nothing there; with it, a UTF-16 or Latin-1 file reads as text.
 */
import type { Formatter, NodeEvent, NodeIdentity, OutputLine } from '@jobgraph/ssh';

/** A formatter that hands on each line's decoded text without its bytes. */
export class DecodedOutput implements Formatter {
  readonly inner: Formatter;

  constructor(inner: Formatter) {
    this.inner = inner;
  }

  line(line: OutputLine): void {
    const { bytes: _bytes, ...text } = line;
    this.inner.line(text);
  }

  event(event: NodeEvent): void {
    this.inner.event(event);
  }

  attach(node: NodeIdentity): void {
    this.inner.attach?.(node);
  }

  /** The inner formatter's back-pressure, passed on. */
  whenDrained(): Promise<void> | undefined {
    return this.inner.whenDrained?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
