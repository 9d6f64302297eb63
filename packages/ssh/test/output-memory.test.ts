/**
 * Output that cannot blow the controller's memory: a command printing hundreds of MB, with no
 * newline or through a consumer slower than the network, runs in a child process with a 64 MB
 * heap (fixtures/output-child.ts) whose stdout this test reads, fast or slowly. The child reports
 * the most its stdout ever held unwritten (measured after each write, no sampling) and its peak
 * RSS: without the bound on a line, 200 MB of zeros is held whole (RSS ~770 MB); without
 * back-pressure, what a slow reader has not taken yet queues up (hundreds of MB, or the child dies
 * of its small heap).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bed } from './bed.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/output-child.ts', import.meta.url));
const MB = 1024 * 1024;
/** What the child's stdout may hold unwritten: a few pipe buffers' worth, not the output. */
const QUEUE_BOUND = 8 * MB;
/** The child's peak RSS: ~95 MB at rest (tsx and ssh2 loaded), ~160 MB with the output flowing. */
const RSS_BOUND = 300 * MB;

const loopback = JSON.stringify({
  hostname: bed.loopback.hostname,
  port: bed.loopback.port,
  username: 'root',
  keys: [bed.keys.ed25519],
  knownHosts: bed.knownHosts,
  hostKeyPolicy: 'strict',
  agent: false,
});

interface Report {
  result: { exitCode: number | null; signal: string | null };
  written: number;
  maxQueued: number;
  maxRss: number;
}

interface Outcome {
  code: number | null;
  signal: string | null;
  /** What the parent read from the child's stdout. */
  received: number;
  sha256: string;
  /** The child's stdout, when kept. */
  bytes?: Buffer;
  report: Report | undefined;
  stderr: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
const scratch = mkdtempSync(join(tmpdir(), 'jobgraph-output-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs `command` in the child and reads its stdout at most `rate` bytes a second (`Infinity`: as
 * fast as it comes), pausing the pipe in between: a slow consumer, as `| slow-reader` would be.
 */
function runChild(options: {
  node: 'loopback' | 'local';
  format: 'raw' | 'host';
  command: string;
  rate?: number;
  keep?: boolean;
  stdin?: string;
}): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  env.JOBGRAPH_OUTPUT_NODE = options.node === 'local' ? 'local' : loopback;
  env.JOBGRAPH_OUTPUT_FORMAT = options.format;
  env.JOBGRAPH_OUTPUT_COMMAND = options.command;
  if (options.stdin !== undefined) env.JOBGRAPH_OUTPUT_STDIN = options.stdin;
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=64', '--conditions=@jobgraph/source', '--import', 'tsx', CHILD],
    { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const rate = options.rate ?? Number.POSITIVE_INFINITY;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let received = 0;
  let sincePause = 0;
  const started = Date.now();
  let stderr = '';
  const stdout = child.stdout as NonNullable<typeof child.stdout>;
  stdout.on('data', (chunk: Buffer) => {
    received += chunk.length;
    hash.update(chunk);
    if (options.keep) kept.push(chunk);
    sincePause += chunk.length;
    if (rate !== Number.POSITIVE_INFINITY && sincePause >= MB) {
      sincePause = 0;
      stdout.pause();
      const due = started + (received / rate) * 1000;
      setTimeout(() => stdout.resume(), Math.max(1, due - Date.now()));
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const last = stderr.trim().split('\n').at(-1) ?? '';
      let report: Report | undefined;
      try {
        report = JSON.parse(last) as Report;
      } catch {
        report = undefined;
      }
      resolve({
        code,
        signal,
        received,
        sha256: hash.digest('hex'),
        ...(options.keep ? { bytes: Buffer.concat(kept) } : {}),
        report,
        stderr: stderr.slice(-2000),
      });
    });
  });
}

function sha256Of(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What the child ended with, checked: exit 0, the command's status 0, every byte read. */
function expectComplete(outcome: Outcome, size: number): Report {
  expect({
    code: outcome.code,
    signal: outcome.signal,
    stderr: outcome.report ? '' : outcome.stderr,
  }).toEqual({
    code: 0,
    signal: null,
    stderr: '',
  });
  const report = outcome.report as Report;
  expect(report.result).toEqual({ exitCode: 0, signal: null });
  expect(outcome.received).toBe(size);
  expect(report.written).toBe(size);
  return report;
}

const TEXT_LINE = 'a line of text, about eighty characters long, as a log or a build prints them';
/** `yes` of the line, cut at `size` bytes, and the same bytes here. */
function textOf(size: number): { command: string; sha256: string } {
  const line = `${TEXT_LINE}\n`;
  const whole = Math.floor(size / line.length);
  const text = line.repeat(whole) + line.slice(0, size - whole * line.length);
  return { command: `yes '${TEXT_LINE}' | head -c ${size}`, sha256: sha256Of(text) };
}

describe('output memory (child with a 64 MB heap)', () => {
  it('200 MB with no newline (head -c /dev/zero), raw: completes, bytes exact, memory bounded', async () => {
    const size = 200 * MB;
    const outcome = await runChild({ node: 'loopback', format: 'raw', command: `head -c ${size} /dev/zero` });
    const report = expectComplete(outcome, size);
    expect(outcome.sha256).toBe(sha256Of(Buffer.alloc(size)));
    expect(report.maxQueued).toBeLessThan(QUEUE_BOUND);
    expect(report.maxRss).toBeLessThan(RSS_BOUND);
  }, 60_000);

  it('100 MB of text, raw, read at 50 MB/s: the command waits for the reader, the queue stays small', async () => {
    const size = 100 * MB;
    const text = textOf(size);
    const outcome = await runChild({ node: 'loopback', format: 'raw', command: text.command, rate: 50 * MB });
    const report = expectComplete(outcome, size);
    expect(outcome.sha256).toBe(text.sha256);
    expect(report.maxQueued).toBeLessThan(QUEUE_BOUND);
    expect(report.maxRss).toBeLessThan(RSS_BOUND);
  }, 60_000);

  it('20 MB of text through the host formatter (strings), read at 10 MB/s: bounded too', async () => {
    const size = 20 * MB;
    const text = textOf(size);
    const outcome = await runChild({
      node: 'loopback',
      format: 'host',
      command: text.command,
      rate: 10 * MB,
    });
    const lines = Math.ceil(size / (TEXT_LINE.length + 1));
    const prefix = `root@${bed.loopback.hostname}:`.length;
    const report = expectComplete(outcome, size + lines * prefix + 1); // the last line gets a newline
    expect(report.maxQueued).toBeLessThan(QUEUE_BOUND);
  }, 60_000);

  it('LocalNode: 50 MB of text read at 25 MB/s, bounded alike', async () => {
    const size = 50 * MB;
    const text = textOf(size);
    const outcome = await runChild({ node: 'local', format: 'raw', command: text.command, rate: 25 * MB });
    const report = expectComplete(outcome, size);
    expect(outcome.sha256).toBe(text.sha256);
    expect(report.maxQueued).toBeLessThan(QUEUE_BOUND);
  }, 60_000);

  it('binary output (all 256 byte values, MBs without a newline) comes back byte-identical through raw', async () => {
    // 4 MB with no 0x0A at all, then 4 MB of every byte value in a scrambled order
    const noNewline = Buffer.alloc(4 * MB);
    const any = Buffer.alloc(4 * MB);
    let seed = 12345;
    for (let i = 0; i < noNewline.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const byte = seed >>> 24;
      noNewline[i] = byte === 10 ? 11 : byte;
      any[i] = (seed >>> 16) & 0xff;
    }
    const data = Buffer.concat([noNewline, any, Buffer.from([0xe2, 0x82])]); // ends in a cut character
    expect(new Set(data).size).toBe(256);
    const file = join(scratch, 'binary.bin');
    writeFileSync(file, data);
    const outcome = await runChild({
      node: 'loopback',
      format: 'raw',
      command: 'cat',
      stdin: file,
      keep: true,
    });
    expectComplete(outcome, data.length);
    expect(outcome.bytes?.equals(data)).toBe(true);
  }, 60_000);
});
