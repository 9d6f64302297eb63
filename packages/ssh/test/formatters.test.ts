/**
 * The formatters: apssh's line formats, verbose events, files per host, capture and
 * JSON Lines, fed with fake nodes and collected output.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CaptureFormatter,
  describeEvent,
  expandTemplate,
  HostFormatter,
  JsonLinesFormatter,
  LineTemplate,
  type NodeEvent,
  type NodeEventKind,
  type NodeIdentity,
  type OutputLine,
  RawFormatter,
  SubdirFormatter,
  shortenHostname,
  TerminalFormatter,
  TimeHostFormatter,
} from '../src/formatters/index.js';

const fit01: NodeIdentity = {
  hostname: 'fit01.inria.fr',
  username: 'root',
  toString: () => 'root@fit01.inria.fr',
};
const faraday: NodeIdentity = {
  hostname: 'faraday.inria.fr',
  username: 'inria_r2lab',
  toString: () => 'inria_r2lab@faraday.inria.fr',
};
const address: NodeIdentity = {
  hostname: '192.168.3.1',
  username: 'root',
  toString: () => 'root@192.168.3.1',
};
const local: NodeIdentity = { hostname: 'localhost', username: undefined, toString: () => 'localhost' };

/** 01:36:42 local time, as in apssh's transcript `01-36-42:localhost:tc`. */
const TIME = new Date(2026, 10, 25, 1, 36, 42);

const out = (node: NodeIdentity, linenl: string, extra: Partial<OutputLine> = {}): OutputLine => ({
  node,
  stream: 'stdout',
  linenl,
  time: TIME,
  ...extra,
});
const err = (node: NodeIdentity, linenl: string): OutputLine => out(node, linenl, { stream: 'stderr' });
const event = (node: NodeIdentity, kind: NodeEventKind, extra: Partial<NodeEvent> = {}): NodeEvent => ({
  kind,
  node,
  time: TIME,
  ...extra,
});

/** Collects what a formatter writes on each stream. */
function collectors() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    sinks: {
      stdout: (text: string) => void stdout.push(text),
      stderr: (text: string) => void stderr.push(text),
    },
  };
}

/** Every event kind but connect-failed, with the text apssh's VerboseFormatter prints. */
const VERBOSE_EVENTS: Array<[NodeEvent, string]> = [
  [event(fit01, 'connecting', { direct: true }), '========== Connecting (direct) to root@fit01.inria.fr'],
  [event(fit01, 'connecting', { direct: false }), '========== Connecting (tunnelled) to root@fit01.inria.fr'],
  [event(fit01, 'connected', { direct: true }), '========== Connected (direct) to root@fit01.inria.fr'],
  [event(fit01, 'connected', { direct: false }), '========== Connected (tunnelled) to root@fit01.inria.fr'],
  [event(fit01, 'session-start', { detail: 'hostname' }), '========== Session started for hostname'],
  [event(fit01, 'session-stop', { detail: 'hostname' }), '========== Session ended for hostname'],
  [event(fit01, 'sftp-start'), '========== SFTP subsystem started'],
  [event(fit01, 'sftp-stop'), '========== SFTP subsystem stopped'],
  [event(fit01, 'disconnected'), '========== Connection closed to root@fit01.inria.fr'],
  [event(fit01, 'message', { detail: 'Run: -> hostname' }), 'Run: -> hostname'],
];

describe('shortenHostname', () => {
  it('keeps the part before the first dot', () => {
    expect(shortenHostname('fit01.inria.fr')).toBe('fit01');
    expect(shortenHostname('localhost')).toBe('localhost');
  });

  it('keeps IPv4 and IPv6 addresses whole', () => {
    expect(shortenHostname('192.168.3.1')).toBe('192.168.3.1');
    expect(shortenHostname('::ffff:10.0.0.1')).toBe('::ffff:10.0.0.1');
    expect(shortenHostname('fe80::1')).toBe('fe80::1');
  });
});

describe('expandTemplate', () => {
  const values = { linenl: 'up 3 days\n', time: TIME, hostname: 'fit01.inria.fr', username: 'root' };

  it('expands every placeholder and strftime code', () => {
    expect(expandTemplate('[%Y] {user}|{fqdn}|{host}|{line}|{nl}{time} {linenl}', values)).toBe(
      '[2026] root@|fit01.inria.fr|fit01|up 3 days|\n01-36-42 up 3 days\n',
    );
  });

  it('leaves a % in the remote output untouched', () => {
    expect(expandTemplate('%H {line}', { ...values, linenl: 'disk 100%Y full %%\n' })).toBe(
      '01 disk 100%Y full %%',
    );
  });

  it('does not expand placeholders printed by the remote command', () => {
    expect(expandTemplate('{host}:{linenl}', { ...values, linenl: '{host} {line} {nl}\n' })).toBe(
      'fit01:{host} {line} {nl}\n',
    );
  });

  it('gives empty columns without a node', () => {
    expect(expandTemplate('<{user}{host}{fqdn}>{line}', { linenl: 'x\n', time: TIME })).toBe('<>x');
  });

  it('keeps unknown placeholders as written', () => {
    expect(expandTemplate('{port}:{line}', values)).toBe('{port}:up 3 days');
  });
});

describe('LineTemplate', () => {
  it('pads the columns on the right to the widest node attached', () => {
    const template = new LineTemplate('{user}|{host}|{fqdn}|{line}');
    template.attach(fit01);
    template.attach(faraday);
    expect(template.widths).toEqual({ fqdn: 16, host: 7, user: 12 });
    expect(template.render('a\n', fit01, TIME)).toBe('root@       |fit01  |fit01.inria.fr  |a');
    expect(template.render('b\n', faraday, TIME)).toBe('inria_r2lab@|faraday|faraday.inria.fr|b');
  });

  it('widens the columns with a node first seen in a line', () => {
    const template = new LineTemplate('{host}:{line}');
    expect(template.render('a', fit01, TIME)).toBe('fit01:a');
    expect(template.render('b', faraday, TIME)).toBe('faraday:b');
    expect(template.render('c', fit01, TIME)).toBe('fit01  :c');
  });
});

describe('TerminalFormatter', () => {
  it('prints stdout lines on stdout and stderr lines on stderr, formatted', () => {
    const { stdout, stderr, sinks } = collectors();
    const formatter = new TerminalFormatter('{host}> {linenl}', sinks);
    formatter.line(out(fit01, 'Linux\n'));
    formatter.line(err(fit01, 'warning: low disk\n'));
    expect(stdout).toEqual(['fit01> Linux\n']);
    expect(stderr).toEqual(['fit01> warning: low disk\n']);
    expect(formatter.format).toBe('{host}> {linenl}');
  });

  it('ends a last line without newline, so that the next host starts its own line (apssh runs them together)', () => {
    const { stdout, sinks } = collectors();
    const formatter = new HostFormatter(sinks);
    formatter.line(out(fit01, 'noeol'));
    const withNl = new TerminalFormatter('{line}{nl}', sinks);
    withNl.line(out(fit01, 'noeol'));
    new RawFormatter(sinks).line(out(fit01, 'noeol'));
    // the raw format prints the output exactly as it came
    expect(stdout).toEqual(['root@fit01:noeol\n', 'noeol\n', 'noeol']);
  });

  it('takes %-codes and {time} from the line time', () => {
    const { stdout, sinks } = collectors();
    new TerminalFormatter('%F %T {time} {line}{nl}', sinks).line(out(fit01, 'x\n'));
    expect(stdout).toEqual(['2026-11-25 01:36:42 01-36-42 x\n']);
  });

  it('prints no event when not verbose, which is the default', () => {
    const { stdout, stderr, sinks } = collectors();
    const formatter = new TerminalFormatter('{linenl}', sinks);
    expect(formatter.verbose).toBe(false);
    for (const [e] of VERBOSE_EVENTS) formatter.event(e);
    expect(stderr).toEqual([]);
    expect(stdout).toEqual([]);
  });

  it('prints each event on stderr when verbose, formatted like a line', () => {
    const { stdout, stderr, sinks } = collectors();
    const formatter = new TerminalFormatter('{host}:{linenl}', { ...sinks, verbose: true });
    for (const [e] of VERBOSE_EVENTS) formatter.event(e);
    expect(stderr).toEqual(VERBOSE_EVENTS.map(([, text]) => `fit01:${text}\n`));
    expect(stdout).toEqual([]);
  });

  it('follows verbose when it is switched on later', () => {
    const { stderr, sinks } = collectors();
    const formatter = new RawFormatter(sinks);
    formatter.event(event(fit01, 'sftp-start'));
    formatter.verbose = true;
    formatter.event(event(fit01, 'sftp-stop'));
    expect(stderr).toEqual(['========== SFTP subsystem stopped\n']);
  });

  it('always prints a failed connection, once and unformatted', () => {
    for (const verbose of [false, true]) {
      const { stdout, stderr, sinks } = collectors();
      const formatter = new HostFormatter({ ...sinks, verbose });
      formatter.event(
        event(fit01, 'connect-failed', { detail: 'All configured authentication methods failed' }),
      );
      expect(stderr).toEqual([
        'Connection failed to root@fit01.inria.fr: All configured authentication methods failed\n',
      ]);
      expect(stdout).toEqual([]);
    }
  });

  it('names a failed connection without a reason', () => {
    expect(describeEvent(event(faraday, 'connect-failed'))).toBe(
      'Connection failed to inria_r2lab@faraday.inria.fr',
    );
  });

  it('does not throw when a writer throws, and remembers the first error', () => {
    const broken = new Error('EPIPE');
    const formatter = new RawFormatter({
      stdout: () => {
        throw broken;
      },
      stderr: () => {
        throw new Error('second');
      },
    });
    expect(() => formatter.line(out(fit01, 'a\n'))).not.toThrow();
    expect(() => formatter.event(event(fit01, 'connect-failed', { detail: 'x' }))).not.toThrow();
    expect(formatter.error).toBe(broken);
  });
});

describe('TerminalFormatter on process.stdout', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes to process.stdout by default (the lines of one tick in one write)', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    vi.spyOn(process, 'stdout', 'get').mockReturnValue(stream as unknown as typeof process.stdout);
    new HostFormatter().line(out(fit01, 'hello\n'));
    new HostFormatter().line(out(fit01, 'world\n'));
    expect(chunks).toEqual([]); // corked until the next tick
    await new Promise((resolve) => process.nextTick(resolve));
    expect(chunks.join('')).toBe('root@fit01:hello\nroot@fit01:world\n');
  });

  it('the raw format writes the bytes that came, invalid UTF-8 included', async () => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    vi.spyOn(process, 'stdout', 'get').mockReturnValue(stream as unknown as typeof process.stdout);
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    new RawFormatter().line(out(fit01, bytes.toString('utf8'), { bytes }));
    await new Promise((resolve) => process.nextTick(resolve));
    new HostFormatter().line(out(fit01, bytes.toString('utf8'), { bytes }));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(chunks[0]).toEqual(bytes);
    // a prefixed format is text: invalid bytes become U+FFFD there
    expect(chunks[1]?.toString('utf8')).toBe('root@fit01:\ufffd\ufffd\u0000A\n');
  });

  it('survives a closed pipe (EPIPE) without an unhandled error', async () => {
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes += 1;
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    vi.spyOn(process, 'stdout', 'get').mockReturnValue(stream as unknown as typeof process.stdout);
    const formatter = new RawFormatter();
    expect(() => formatter.line(out(fit01, 'first\n'))).not.toThrow();
    // The stream emits 'error' on a later tick; no listener of ours, which would hide an unhandled one.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
    expect(stream.errored).toMatchObject({ code: 'EPIPE' });
    expect(stream.listenerCount('error')).toBe(1);
    expect(() => formatter.line(out(fit01, 'second\n'))).not.toThrow();
    expect(writes).toBe(1);
  });
});

describe('RawFormatter, HostFormatter, TimeHostFormatter', () => {
  it('use apssh formats', () => {
    const { stdout, sinks } = collectors();
    new RawFormatter(sinks).line(out(fit01, 'raw\n'));
    new HostFormatter(sinks).line(out(fit01, 'vm\n'));
    new TimeHostFormatter(sinks).line(out(fit01, 'tc\n'));
    expect(stdout).toEqual(['raw\n', 'root@fit01:vm\n', '01-36-42:fit01:tc\n']);
  });

  it('align two nodes of different name lengths', () => {
    const { stdout, sinks } = collectors();
    const formatter = new HostFormatter(sinks);
    formatter.attach(fit01);
    formatter.attach(faraday);
    formatter.line(out(fit01, 'a\n'));
    formatter.line(out(faraday, 'b\n'));
    expect(stdout).toEqual(['root@       fit01  :a\n', 'inria_r2lab@faraday:b\n']);
  });

  it('align the time host column too', () => {
    const { stdout, sinks } = collectors();
    const formatter = new TimeHostFormatter(sinks);
    formatter.attach(faraday);
    formatter.line(out(fit01, 'a\n'));
    expect(stdout).toEqual(['01-36-42:fit01  :a\n']);
  });

  it('show an IPv4 host whole', () => {
    const { stdout, sinks } = collectors();
    new HostFormatter(sinks).line(out(address, 'x\n'));
    expect(stdout).toEqual(['root@192.168.3.1:x\n']);
  });

  it('give a node without login no user column', () => {
    const { stdout, sinks } = collectors();
    const formatter = new HostFormatter(sinks);
    formatter.attach(fit01);
    formatter.attach(local);
    formatter.line(out(local, 'l\n'));
    formatter.line(out(fit01, 'r\n'));
    expect(stdout).toEqual(['localhost:l\n', 'root@fit01    :r\n']);
  });

  it('are quiet by default and verbose on request', () => {
    const quiet = collectors();
    const loud = collectors();
    new TimeHostFormatter(quiet.sinks).event(event(fit01, 'connected', { direct: true }));
    new TimeHostFormatter({ ...loud.sinks, verbose: true }).event(
      event(fit01, 'connected', { direct: true }),
    );
    expect(quiet.stderr).toEqual([]);
    expect(loud.stderr).toEqual(['01-36-42:fit01:========== Connected (direct) to root@fit01.inria.fr\n']);
  });
});

describe('CaptureFormatter', () => {
  it('captures the stdout lines since startCapture, with their newlines', () => {
    const { stderr, sinks } = collectors();
    const formatter = new CaptureFormatter('{linenl}', { stderr: sinks.stderr });
    formatter.line(out(fit01, 'before\n'));
    expect(formatter.getCapture()).toBe('before\n');
    formatter.startCapture();
    expect(formatter.getCapture()).toBe('');
    formatter.line(out(fit01, 'LINE1\n'));
    formatter.line(out(faraday, 'LINE2\n'));
    formatter.line(out(fit01, 'noeol'));
    expect(formatter.getCapture()).toBe('LINE1\nLINE2\nnoeol');
    expect(stderr).toEqual([]);
  });

  it('captures the raw text, whatever the format', () => {
    const formatter = new CaptureFormatter('{host}:{linenl}', { stderr: () => {} });
    formatter.line(out(fit01, '100%Y {line}\n'));
    expect(formatter.getCapture()).toBe('100%Y {line}\n');
  });

  it('prints stderr lines formatted on stderr, not in the capture', () => {
    const { stderr, sinks } = collectors();
    const formatter = new CaptureFormatter('{host}:{linenl}', { stderr: sinks.stderr });
    formatter.line(err(fit01, 'oops\n'));
    expect(stderr).toEqual(['fit01:oops\n']);
    expect(formatter.getCapture()).toBe('');
  });

  it('prints events as TerminalFormatter does', () => {
    const quiet = collectors();
    const loud = collectors();
    const failed = event(fit01, 'connect-failed', { detail: 'timeout' });
    const started = event(fit01, 'session-start', { detail: 'cat /etc/hostname' });
    const q = new CaptureFormatter(undefined, { stderr: quiet.sinks.stderr });
    const l = new CaptureFormatter(undefined, { stderr: loud.sinks.stderr, verbose: true });
    for (const f of [q, l]) {
      f.event(started);
      f.event(failed);
    }
    expect(quiet.stderr).toEqual(['Connection failed to root@fit01.inria.fr: timeout\n']);
    expect(loud.stderr).toEqual([
      '========== Session started for cat /etc/hostname\n',
      'Connection failed to root@fit01.inria.fr: timeout\n',
    ]);
  });
});

describe('JsonLinesFormatter', () => {
  it('writes one parseable record per line, with its newline apart', () => {
    const written: string[] = [];
    const formatter = new JsonLinesFormatter({ write: (text) => void written.push(text) });
    formatter.line(out(fit01, 'Linux 100%\n'));
    formatter.line({ ...err(fit01, 'noeol'), command: 'uname' });
    expect(written.every((text) => text.endsWith('\n') && !text.slice(0, -1).includes('\n'))).toBe(true);
    expect(written[0]).toBe(
      `{"type":"line","time":"${TIME.toISOString()}","node":"root@fit01.inria.fr","host":"fit01.inria.fr","stream":"stdout","line":"Linux 100%","newline":true}\n`,
    );
    expect(JSON.parse(written[1] ?? '')).toEqual({
      type: 'line',
      time: TIME.toISOString(),
      node: 'root@fit01.inria.fr',
      host: 'fit01.inria.fr',
      stream: 'stderr',
      line: 'noeol',
      newline: false,
      command: 'uname',
    });
  });

  it('writes every event, verbose or not, with detail and direct when set', () => {
    const written: string[] = [];
    const formatter = new JsonLinesFormatter({ write: (text) => void written.push(text) });
    formatter.event(event(fit01, 'connected', { direct: false }));
    formatter.event(event(fit01, 'session-stop', { detail: 'hostname' }));
    formatter.event(event(fit01, 'sftp-start'));
    expect(written.map((text) => JSON.parse(text))).toEqual([
      {
        type: 'event',
        time: TIME.toISOString(),
        node: 'root@fit01.inria.fr',
        host: 'fit01.inria.fr',
        kind: 'connected',
        direct: false,
      },
      {
        type: 'event',
        time: TIME.toISOString(),
        node: 'root@fit01.inria.fr',
        host: 'fit01.inria.fr',
        kind: 'session-stop',
        detail: 'hostname',
      },
      {
        type: 'event',
        time: TIME.toISOString(),
        node: 'root@fit01.inria.fr',
        host: 'fit01.inria.fr',
        kind: 'sftp-start',
      },
    ]);
  });

  it('does not throw on an invalid date or a throwing writer', () => {
    const formatter = new JsonLinesFormatter({
      write: () => {
        throw new Error('closed');
      },
    });
    expect(() => formatter.line(out(fit01, 'x\n', { time: new Date(Number.NaN) }))).not.toThrow();
    expect(formatter.error).toEqual(new Error('closed'));
  });
});

describe('SubdirFormatter', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'jobgraph-subdir-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  let count = 0;
  /** A fresh run directory, nested so that its creation must be recursive. */
  const runDir = () => join(tmp, `case${++count}`, 'run');
  const read = (path: string) => readFile(path, 'utf8');

  it('appends stdout to <run>/<host> and stderr to <run>/<host>.err, as they came', async () => {
    const run = runDir();
    const { stderr, sinks } = collectors();
    const formatter = new SubdirFormatter(run, { stderr: sinks.stderr });
    formatter.line(out(fit01, 'out1\n'));
    formatter.line(err(fit01, 'err1\n'));
    formatter.line(out(faraday, 'far\n'));
    formatter.line(out(fit01, 'out2'));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe('out1\nout2');
    expect(await read(join(run, 'fit01.inria.fr.err'))).toBe('err1\n');
    expect(await read(join(run, 'faraday.inria.fr'))).toBe('far\n');
    expect((await readdir(run)).sort()).toEqual(['faraday.inria.fr', 'fit01.inria.fr', 'fit01.inria.fr.err']);
    expect(formatter.error).toBeUndefined();
    expect(stderr).toEqual([]);
  });

  it('writes the bytes that came: binary output passes intact', async () => {
    const run = runDir();
    const formatter = new SubdirFormatter(run);
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    formatter.line(out(fit01, bytes.toString('utf8'), { bytes }));
    formatter.line(err(fit01, 'text without bytes\n'));
    await formatter.close();
    expect(await readFile(join(run, 'fit01.inria.fr'))).toEqual(bytes);
    expect(await read(join(run, 'fit01.inria.fr.err'))).toBe('text without bytes\n');
  });

  it('keeps the order of many lines', async () => {
    const run = runDir();
    const formatter = new SubdirFormatter(run);
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`);
    for (const line of lines) formatter.line(out(fit01, line));
    await formatter.close();
    expect(await read(formatter.outFile('fit01.inria.fr'))).toBe(lines.join(''));
  });

  it('truncates the files of a host at its first appearance, then appends across reconnections', async () => {
    const run = runDir();
    const previous = new SubdirFormatter(run);
    previous.line(out(fit01, 'stale\n'));
    previous.line(err(fit01, 'stale err\n'));
    await previous.close();

    const formatter = new SubdirFormatter(run);
    formatter.event(event(fit01, 'connected', { direct: true }));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe('');
    // the earlier run's stderr is not this run's: a host that prints nothing on stderr has no .err
    expect(await readdir(run)).toEqual(['fit01.inria.fr']);

    formatter.line(out(fit01, 'a\n'));
    formatter.line(err(fit01, 'e1\n'));
    await formatter.close();
    formatter.event(event(fit01, 'disconnected'));
    formatter.event(event(fit01, 'connected', { direct: true }));
    formatter.line(out(fit01, 'b\n'));
    formatter.line(err(fit01, 'e2\n'));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe('a\nb\n');
    expect(await read(join(run, 'fit01.inria.fr.err'))).toBe('e1\ne2\n');
  });

  it('truncates on the first line when no connected event came', async () => {
    const run = runDir();
    const first = new SubdirFormatter(run);
    first.line(out(fit01, 'old\n'));
    await first.close();
    const second = new SubdirFormatter(run);
    second.line(err(fit01, 'only stderr\n'));
    await second.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe('');
  });

  it('writes the events into the host file when verbose', async () => {
    const run = runDir();
    const formatter = new SubdirFormatter(run, { verbose: true });
    formatter.event(event(fit01, 'connecting', { direct: false }));
    formatter.event(event(fit01, 'connected', { direct: false }));
    formatter.event(event(fit01, 'session-start', { detail: 'hostname' }));
    formatter.line(out(fit01, 'fit01\n'));
    formatter.event(event(fit01, 'session-stop', { detail: 'hostname' }));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe(
      [
        '========== Connected (tunnelled) to root@fit01.inria.fr',
        '========== Session started for hostname',
        'fit01',
        '========== Session ended for hostname',
        '',
      ].join('\n'),
    );
  });

  it('an event after output without its newline is on a line of its own (it was glued to it)', async () => {
    const run = runDir();
    const formatter = new SubdirFormatter(run, { verbose: true });
    formatter.event(event(fit01, 'connected', { direct: true }));
    formatter.line(out(fit01, 'noeol'));
    formatter.event(event(fit01, 'session-stop', { detail: 'printf noeol' }));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe(
      '========== Connected (direct) to root@fit01.inria.fr\nnoeol\n========== Session ended for printf noeol\n',
    );
  });

  it('writes no event into the file when not verbose', async () => {
    const run = runDir();
    const formatter = new SubdirFormatter(run);
    formatter.event(event(fit01, 'connected', { direct: true }));
    formatter.event(event(fit01, 'session-start', { detail: 'hostname' }));
    formatter.line(out(fit01, 'fit01\n'));
    await formatter.close();
    expect(await read(join(run, 'fit01.inria.fr'))).toBe('fit01\n');
  });

  it('reports a failed connection on stderr and creates no file for it', async () => {
    const run = runDir();
    const { stderr, sinks } = collectors();
    const formatter = new SubdirFormatter(run, { verbose: true, stderr: sinks.stderr });
    formatter.event(event(address, 'connecting', { direct: true }));
    formatter.event(event(address, 'connect-failed', { detail: 'connect ECONNREFUSED' }));
    formatter.line(out(fit01, 'up\n'));
    await formatter.close();
    expect(stderr).toEqual(['Connection failed to root@192.168.3.1: connect ECONNREFUSED\n']);
    expect(await readdir(run)).toEqual(['fit01.inria.fr']);
  });

  it('keeps a host name from escaping the run directory', () => {
    const formatter = new SubdirFormatter('run');
    expect(formatter.outFile('a/../b')).toBe(join('run', 'a_.._b'));
    expect(formatter.errFile('..')).toBe(join('run', '_...err'));
  });

  it('does not crash when the directory cannot be created, and says so once', async () => {
    const blocker = join(tmp, 'a-file');
    await writeFile(blocker, 'not a directory\n');
    const { stderr, sinks } = collectors();
    const formatter = new SubdirFormatter(join(blocker, 'run'), { verbose: true, stderr: sinks.stderr });
    formatter.event(event(fit01, 'connected', { direct: true }));
    formatter.line(out(fit01, 'a\n'));
    formatter.line(err(fit01, 'b\n'));
    formatter.line(out(faraday, 'c\n'));
    await expect(formatter.close()).resolves.toBeUndefined();
    expect(formatter.error).toMatchObject({ code: 'ENOTDIR' });
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^SubdirFormatter: cannot write the output under .*a-file\/run: ENOTDIR/);
    // Later lines are dropped quietly.
    formatter.line(out(fit01, 'd\n'));
    await formatter.close();
    expect(stderr).toHaveLength(1);
  });

  it('does not crash when a host file cannot be opened', async () => {
    const run = runDir();
    const { stderr, sinks } = collectors();
    // A directory where the host's file should be: open() fails with EISDIR.
    const first = new SubdirFormatter(run);
    first.line(out(faraday, 'ok\n'));
    await first.close();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(run, 'fit01.inria.fr'));
    const formatter = new SubdirFormatter(run, { stderr: sinks.stderr });
    formatter.line(out(fit01, 'lost\n'));
    formatter.line(out(faraday, 'kept\n'));
    await formatter.close();
    expect(formatter.error).toMatchObject({ code: 'EISDIR' });
    expect(stderr).toHaveLength(1);
    expect(await read(join(run, 'faraday.inria.fr'))).toBe('kept\n');
  });
});
