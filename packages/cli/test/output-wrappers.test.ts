/**
 * The formatters jobgraph ssh wraps around the user's (-o names, --encoding text) pass the inner
 * formatter's back-pressure on: without it, reading the command's output would never wait for a
 * full file queue or stdout pipe (packages/ssh/test/output-pressure.test.ts shows the pause itself).
 */

import type { Formatter, NodeEvent, OutputLine } from '@jobgraph/ssh';
import { SubdirFormatter } from '@jobgraph/ssh';
import { describe, expect, it } from 'vitest';
import { DecodedOutput } from '../src/cli/decoded-output.js';
import { NamedOutput } from '../src/cli/named-output.js';

class Gate implements Formatter {
  pending: Promise<void> | undefined;
  line(_line: OutputLine): void {}
  event(_event: NodeEvent): void {}
  whenDrained(): Promise<void> | undefined {
    return this.pending;
  }
}

describe('back-pressure through the CLI output wrappers', () => {
  it('DecodedOutput passes the inner whenDrained on', () => {
    const gate = new Gate();
    const decoded = new DecodedOutput(gate);
    expect(decoded.whenDrained()).toBeUndefined();
    gate.pending = Promise.resolve();
    expect(decoded.whenDrained()).toBe(gate.pending);
  });

  it('NamedOutput passes the SubdirFormatter whenDrained on', () => {
    const inner = new SubdirFormatter('/tmp');
    const pending = Promise.resolve();
    Object.assign(inner, { whenDrained: () => pending });
    expect(new NamedOutput(inner, new Map()).whenDrained()).toBe(pending);
  });
});
