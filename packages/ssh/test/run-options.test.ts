/**
 * The per-command options of node.run: stdin, encoding and idleTimeout, in-process and
 * against the real test bed (SshNode on loopback and through the gateway, LocalNode).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
  CommandFailedError,
  type CommandNode,
  LocalNode,
  type OutputLine,
  Run,
  RunString,
} from '../src/index.js';
import { LineSplitter } from '../src/output.js';
import { checkRunOptions, idleWatch } from '../src/run-options.js';
import {
  closeAfterEach,
  gatewayNode,
  loopbackNode,
  RecordingFormatter,
  recorder,
  targetNode,
} from './bed.js';

const track = closeAfterEach();

function split(chunks: readonly Buffer[], encoding: string): Array<{ text: string; bytes: Buffer }> {
  const lines: Array<{ text: string; bytes: Buffer }> = [];
  const splitter = new LineSplitter((text, bytes) => lines.push({ text, bytes }), encoding);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Runs `command` and returns its stdout bytes, from the lines' `bytes`. */
async function stdoutBytes(node: CommandNode, command: string, stdin: Buffer | Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  const result = await node.run(command, {
    stdin,
    printStdout: false,
    onLine: (line: OutputLine) => {
      if (line.stream === 'stdout' && line.bytes !== undefined) parts.push(line.bytes);
    },
  });
  expect(result).toEqual({ exitCode: 0, signal: null });
  return Buffer.concat(parts);
}

/** An endless stream of 64 KiB chunks, made as they are read. */
function endless(): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let made = 0;
  const stream = new Readable({
    read() {
      made++;
      this.push(chunk);
    },
  });
  Object.defineProperty(stream, 'made', { get: () => made });
  return stream;
}

describe('LineSplitter with an encoding', () => {
  it('UTF-16LE: splits on the code unit 0A 00, each line with its raw bytes, across any chunking', () => {
    const text = 'hé\n€😀\n\nend';
    const bytes = Buffer.from(text, 'utf16le');
    for (const size of [1, 2, 3, 5, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      const lines = split(chunks, 'utf-16le');
      expect(lines.map((line) => line.text)).toEqual(['hé\n', '€😀\n', '\n', 'end']);
      expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(bytes);
      expect(lines[0]?.bytes).toEqual(Buffer.from('hé\n', 'utf16le'));
    }
  });

  it('UTF-16: a 0x0A byte inside a code unit is no newline; invalid units become U+FFFD', () => {
    // U+010A is 0A 01; a lone low surrogate; an odd byte at the end
    const bytes = Buffer.concat([
      Buffer.from('\u010a\n', 'utf16le'),
      Buffer.from([0x00, 0xdc, 0x0a, 0x00, 0x41]),
    ]);
    const lines = split([bytes], 'utf-16le');
    expect(lines.map((line) => line.text)).toEqual(['\u010a\n', '\ufffd\n', '\ufffd']);
    expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(bytes);
    expect(split([Buffer.from([0x00, 0x68, 0x00, 0x0a])], 'utf-16be').map((line) => line.text)).toEqual([
      'h\n',
    ]);
  });

  it('Latin-1 and Shift_JIS: decoded per line, invalid bytes replaced, bytes kept', () => {
    expect(split([Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])], 'latin1')).toEqual([
      { text: 'café\n', bytes: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]) },
    ]);
    // 日本 in Shift_JIS, split inside a character; then a lead byte cut by a newline
    const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x0a, 0x82, 0x0a]);
    const lines = split([sjis.subarray(0, 1), sjis.subarray(1)], 'shift_jis');
    expect(lines.map((line) => line.text)).toEqual(['日本\n', '\ufffd\n']);
    expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(sjis);
  });
});

describe('run options: checks before anything runs', () => {
  it('refuses an unknown encoding, a bad stdin, a bad idleTimeout with one-line ERR_INVALID_OPTION', async () => {
    expect(() => checkRunOptions({ encoding: 'klingon' })).toThrow(
      "Invalid run option encoding: expected an encoding that TextDecoder knows ('utf-8', 'utf-16le', 'latin1', …), got \"klingon\"",
    );
    expect(() => checkRunOptions({ stdin: 42 as unknown as string })).toThrow(
      'Invalid run option stdin: expected a string, a Buffer or a Readable stream, got 42',
    );
    for (const idleTimeout of [0, -1, Number.NaN, 3_000_000_000]) {
      expect(() => checkRunOptions({ idleTimeout })).toThrow(
        /^Invalid run option idleTimeout: expected a positive number of milliseconds, at most 2147483647, got /,
      );
    }
    const node = loopbackNode();
    await expect(node.run('true', { encoding: 'klingon' })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    expect(node.connectionCount).toBe(0);
    await expect(new LocalNode().run('true', { idleTimeout: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    expect(() => new Run('true', { encoding: 'klingon' })).toThrow('Invalid run option encoding');
  });

  it('refuses an env value that is no string or holds a NUL, and a command with a NUL, before connecting, never showing the value', async () => {
    const bad = [
      [{ PORT: 8080 }, 'Invalid run option env.PORT: expected a string without NUL characters, got number'],
      [{ X: undefined }, 'Invalid run option env.X: expected a string without NUL characters, got undefined'],
      [
        { TOKEN: 'secret\0x' },
        'Invalid run option env.TOKEN: expected a string without NUL characters, got one with a NUL',
      ],
      [
        { 'A-B': 'x' },
        'Invalid run option env: "A-B" is not a variable name (letters, digits and _, not first a digit)',
      ],
      [null, 'Invalid run option env: expected an object of names to string values, got object'],
    ] as const;
    const node = loopbackNode();
    for (const [env, message] of bad) {
      const options = { env: env as unknown as Record<string, string> };
      for (const site of [node, new LocalNode()]) {
        const error = await site.run('true', options).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', message });
        expect((error as Error).message).not.toContain('secret');
      }
      expect(() => new Run('true', options)).toThrow(message);
    }
    for (const site of [node, new LocalNode()]) {
      await expect(site.run('echo secret\0; true')).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
        message: 'Invalid command: it holds a NUL character (a command line ends at the first NUL)',
      });
    }
    expect(node.connectionCount).toBe(0);
  });

  it('refuses options of the wrong type, and stdin with pty, before anything runs (they ran, then failed, or hung)', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { onLine: 'notfn' },
        'Invalid run option onLine: expected a function of each output line, got "notfn"',
      ],
      [{ signal: 'nope' }, 'Invalid run option signal: expected an AbortSignal, got "nope"'],
      [{ pty: 'yes' }, 'Invalid run option pty: expected true or false, got "yes"'],
      [{ printStdout: 0 }, 'Invalid run option printStdout: expected true or false, got 0'],
      // the terminal echoed the input before the PID frame, gave no end of input: cat never
      // ended, and a cancel left it running
      [{ pty: true, stdin: 'abc\n' }, 'Invalid run options: stdin with pty is not supported'],
    ];
    const node = loopbackNode();
    for (const [options, message] of cases) {
      for (const site of [node, new LocalNode()]) {
        await expect(site.run('echo ran > /dev/null; cat', options as never)).rejects.toMatchObject({
          code: 'ERR_INVALID_OPTION',
          message: expect.stringContaining(message),
        });
      }
    }
    expect(node.connectionCount).toBe(0);
  });

  it('a multi-line command is one line in an error message (cut past 200 characters), whole in the error', () => {
    const error = new CommandFailedError('false\n  # more', 'root@h', 1, null);
    expect(error.message).toBe('Command failed with exit code 1 on root@h: false ⏎ # more');
    expect(error.command).toBe('false\n  # more');
    const long = new CommandFailedError(`echo ${'x'.repeat(500)}`, 'root@h', 2, null);
    expect(long.message).toMatch(/: echo x+…$/);
    expect(long.message.length).toBeLessThan(260);
  });

  it('the idle watch fires once after idleTimeout without output, later with output (fake timers)', () => {
    vi.useFakeTimers();
    try {
      const fired = vi.fn();
      const watch = idleWatch(1000, fired);
      vi.advanceTimersByTime(900);
      watch.touch();
      vi.advanceTimersByTime(900);
      expect(fired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(100);
      expect(fired).toHaveBeenCalledTimes(1);
      watch.clear();
      const none = idleWatch(undefined, fired);
      none.touch();
      vi.advanceTimersByTime(10_000_000);
      expect(fired).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

const sites: Array<[string, () => CommandNode]> = [
  ['SshNode on loopback', () => track(loopbackNode())],
  ['SshNode through the gateway', () => track(targetNode(0, track(gatewayNode())))],
  ['LocalNode', () => new LocalNode({ formatter: new RecordingFormatter() })],
];

describe.each(sites)('%s', (_name, make) => {
  it('a cancel ends the run within a bound, even when a process of another session holds the output open', async () => {
    const node = make();
    const marker = `sleep 61.${process.pid % 1000}`;
    const controller = new AbortController();
    const started = Date.now();
    const run = node.run(`setsid ${marker} & echo started; sleep 100`, {
      signal: controller.signal,
      onLine: (line) => {
        if (line.linenl.startsWith('started')) controller.abort(new Error('stop'));
      },
    });
    try {
      await expect(run).rejects.toThrow('stop');
      // (a LocalNode waited for the other session's process: 61 s)
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      // (the pattern does not match this pkill's own shell)
      execFileSync('sh', ['-c', `pkill -f '[s]${marker.slice(1)}' || true`]);
    }
  }, 60_000);

  it('stdin: 10 MiB of random bytes through cat come back byte-identical', async () => {
    const node = make();
    const data = randomBytes(10 * 1024 * 1024);
    expect(sha256(await stdoutBytes(node, 'cat', data))).toBe(sha256(data));
    // a stream, and a string
    const streamed = await stdoutBytes(
      node,
      'cat',
      Readable.from([data.subarray(0, 100_000), data.subarray(100_000, 300_000)]),
    );
    expect(sha256(streamed)).toBe(sha256(data.subarray(0, 300_000)));
    await node.run('cat', { stdin: 'héllo\n' });
    expect((node.formatter as RecordingFormatter).stdout()).toBe('héllo\n');
  }, 60_000);

  it('stdin: a command that exits without reading it all gives its status; an endless stream is read only as needed', async () => {
    const node = make();
    expect(await node.run('exit 3', { stdin: randomBytes(4 * 1024 * 1024) })).toEqual({
      exitCode: 3,
      signal: null,
    });
    const stream = endless();
    expect(await node.run('head -c 100000 >/dev/null', { stdin: stream })).toEqual({
      exitCode: 0,
      signal: null,
    });
    // back-pressure: far less than was asked for ever existed (an unbounded pipe would never end)
    expect((stream as unknown as { made: number }).made).toBeLessThan(1000);
    stream.destroy();
    // without stdin, the input is closed at once, as before
    expect(await node.run('cat; echo done')).toEqual({ exitCode: 0, signal: null });
  }, 60_000);

  it('stdin: a stream that fails ends the input, and run() rejects with ERR_STDIN once the command ended', async () => {
    const node = make();
    let sent = false;
    const failing = new Readable({
      read() {
        if (sent) this.destroy(new Error('disk on fire'));
        else this.push('first\n');
        sent = true;
      },
    });
    await expect(node.run('cat', { stdin: failing, label: 'cat' })).rejects.toMatchObject({
      code: 'ERR_STDIN',
      message: `The stdin stream of a command failed on ${node.toString()}: disk on fire (cat)`,
    });
    expect((node.formatter as RecordingFormatter).stdout()).toBe('first\n');
  });

  it('encoding: UTF-16LE and Latin-1 output decoded, invalid bytes replaced', async () => {
    const node = make();
    const lines: OutputLine[] = [];
    await node.run("printf 'h\\000\\351\\000\\n\\000x\\000'", {
      encoding: 'utf-16le',
      onLine: (line) => lines.push(line),
    });
    expect(lines.map((line) => line.linenl)).toEqual(['hé\n', 'x']);
    expect(lines[0]?.bytes).toEqual(Buffer.from([0x68, 0, 0xe9, 0, 0x0a, 0]));
    lines.length = 0;
    await node.run("printf 'caf\\351\\n'", { encoding: 'iso-8859-1', onLine: (line) => lines.push(line) });
    expect(lines.map((line) => line.linenl)).toEqual(['café\n']);
    lines.length = 0;
    await node.run("printf '\\223\\372\\n\\202\\n'", {
      encoding: 'shift_jis',
      onLine: (line) => lines.push(line),
    });
    expect(lines.map((line) => line.linenl)).toEqual(['日\n', '\ufffd\n']);
    expect((await node.run('true', { encoding: 'utf-16le' })).exitCode).toBe(0);
  });

  it('idleTimeout: tail -f is stopped, its partial output delivered, then it is gone', async () => {
    const node = make();
    const marker = `jgidle-${process.pid}-${Date.now()}`;
    const label = `tail -f /tmp/${marker}`;
    const lines: OutputLine[] = [];
    const running = node.run(`touch /tmp/${marker}; echo partial; exec tail -f /tmp/${marker}`, {
      idleTimeout: 500,
      label,
      onLine: (line) => lines.push(line),
    });
    const error = await running.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: 'ERR_IDLE_TIMEOUT',
      message: `Command stopped after 500 ms without output (idleTimeout) on ${node.toString()}: ${label}`,
    });
    expect(lines.map((line) => line.linenl)).toEqual(['partial\n']);
    const gone = new RecordingFormatter();
    const checker = node instanceof LocalNode ? new LocalNode({ formatter: gone }) : node;
    await checker.run(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo gone`, {
      printStdout: false,
      onLine: (line) => gone.line(line),
    });
    expect(gone.stdout()).toBe('gone\n');
    await checker.run(`rm -f /tmp/${marker}`);
  }, 30_000);
});

describe('Run with the options', () => {
  it('passes stdin, encoding and idleTimeout to the node', async () => {
    const node = track(loopbackNode());
    const controller = new AbortController();
    const result = await new Run('cat', { stdin: 'a\u00e9\n', encoding: 'latin1' }).execute({
      node,
      signal: controller.signal,
    });
    expect(result.exitCode).toBe(0);
    // é in UTF-8 (C3 A9) read back as Latin-1
    expect(recorder(node).stdout()).toBe('a\u00c3\u00a9\n');
    await expect(
      new Run('sleep 30', { idleTimeout: 300 }).execute({ node, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ERR_IDLE_TIMEOUT' });
  }, 30_000);
});

describe('RunString with the options', () => {
  it('feeds the script its stdin and decodes its output', async () => {
    const node = track(loopbackNode());
    const controller = new AbortController();
    const result = await new RunString('#!/bin/sh\nread name\nprintf "hi %s\\351\\n" "$name"\n', [], {
      stdin: 'bob\n',
      encoding: 'latin1',
    }).execute({ node, signal: controller.signal });
    expect(result.exitCode).toBe(0);
    expect(recorder(node).stdout()).toBe('hi bob\u00e9\n');
    expect(() => new RunString('true', [], { idleTimeout: -5 })).toThrow('Invalid run option idleTimeout');
  }, 30_000);
});
