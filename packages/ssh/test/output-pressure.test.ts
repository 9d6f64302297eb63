/**
 * Back-pressure from a formatter to the command: while its sink is full (`whenDrained()` returns a
 * promise), the node stops reading the command's output (SSH: the channel window is not
 * replenished, so sshd stops sending and the remote command blocks), and reads on once it drains.
 * A cancelled command ends whatever the formatter does, and waiting for it is not idleness.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Formatter, OutputLine } from '../src/index.js';
import { LocalNode, SubdirFormatter } from '../src/index.js';
import { closeAfterEach, loopbackNode } from './bed.js';
import { until } from './probes.js';

const MB = 1024 * 1024;
const track = closeAfterEach();
const execFileAsync = promisify(execFile);

/** Counts the bytes it gets; its sink is "full" until `open()`. */
class GatedFormatter implements Formatter {
  bytes = 0;
  /** How many times a node asked whether it may go on while the gate was closed. */
  asked = 0;
  #open = false;
  #opened: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => {
    this.#opened = resolve;
  });
  line(line: OutputLine): void {
    this.bytes += line.bytes?.length ?? 0;
  }
  event(): void {}
  whenDrained(): Promise<void> | undefined {
    if (this.#open) return undefined;
    this.asked += 1;
    return this.#gate;
  }
  open(): void {
    this.#open = true;
    this.#opened();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Is a process whose command line holds `text` running on this machine (the loopback host)? */
async function running(text: string): Promise<boolean> {
  try {
    await execFileAsync('pgrep', ['-f', text]);
    return true;
  } catch {
    return false;
  }
}

describe.each([
  ['SshNode (loopback)', (formatter: Formatter) => track(loopbackNode({ formatter }))],
  ['LocalNode', (formatter: Formatter) => new LocalNode({ formatter })],
])('%s: back-pressure', (_name, makeNode) => {
  it('a full formatter stops the reading: a few MB at most come in, all of it once it drains', async () => {
    const formatter = new GatedFormatter();
    const node = makeNode(formatter);
    const size = 64 * MB;
    const run = node.run(`head -c ${size} /dev/zero`);
    await until(() => formatter.asked > 0);
    // unchecked, the 64 MB would be in within a fraction of this
    await pause(400);
    expect(formatter.bytes).toBeLessThan(8 * MB);
    formatter.open();
    expect(await run).toEqual({ exitCode: 0, signal: null });
    expect(formatter.bytes).toBe(size);
  });

  it('cancelled while held back: rejects at once and the process is gone', async () => {
    const formatter = new GatedFormatter(); // never drains
    const node = makeNode(formatter);
    const size = 1073741000 + Math.floor(Math.random() * 800);
    const stop = new AbortController();
    const run = node.run(`head -c ${size} /dev/zero`, { signal: stop.signal });
    await until(() => formatter.asked > 0);
    const reason = new Error('stop');
    stop.abort(reason);
    await expect(run).rejects.toBe(reason);
    await until(async () => !(await running(`head -c ${size}`)), 10_000);
  });

  it('waiting for the formatter is not idleness: no idle timeout while held back', async () => {
    const formatter = new GatedFormatter();
    const node = makeNode(formatter);
    const run = node.run(`head -c ${16 * MB} /dev/zero`, { idleTimeout: 200 });
    await until(() => formatter.asked > 0);
    await pause(700);
    formatter.open();
    expect(await run).toEqual({ exitCode: 0, signal: null });
    expect(formatter.bytes).toBe(16 * MB);
  });
});

describe('SubdirFormatter back-pressure', () => {
  it('a file queue over its bound asks to wait, and the wait ends with the queue written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-subdir-'));
    try {
      const formatter = new SubdirFormatter(dir, { stderr: () => undefined });
      const node = { hostname: 'h1', username: 'root', toString: () => 'root@h1' };
      expect(formatter.whenDrained()).toBeUndefined();
      const piece = Buffer.alloc(MB, 0x61);
      for (let i = 0; i < 6; i++) {
        formatter.line({ node, stream: 'stdout', linenl: '', bytes: piece, time: new Date() });
      }
      const wait = formatter.whenDrained();
      expect(wait).toBeInstanceOf(Promise);
      await wait;
      expect(formatter.whenDrained()).toBeUndefined();
      await formatter.close();
      expect((await readFile(formatter.outFile('h1'))).length).toBe(6 * MB);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
