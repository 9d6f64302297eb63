/**
 * The JSON Lines event log (views/json-lines.ts): every line parses and fits
 * docs/events.schema.json; jobs, nested schedulers, errors with their codes, retries and results
 * come out as the schema says; output lines only when asked for.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  type AbstractJob,
  eventRecord,
  Job,
  jsonLinesSink,
  PureScheduler,
  Scheduler,
  type SchedulerEvent,
} from '../src/index.js';

const schema = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../../docs/events.schema.json'), 'utf8'),
) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

/** An error with a code, as the SSH layer throws them. */
class CodedError extends Error {
  readonly code = 'ERR_SSH_CONNECT';
}

/** Runs `scheduler` with a sink writing into a string; every line parsed and checked against the schema. */
async function logOf(
  scheduler: PureScheduler,
  options: Parameters<typeof jsonLinesSink>[1] = {},
): Promise<Record<string, unknown>[]> {
  let text = '';
  const events: SchedulerEvent[] = [];
  const sink = jsonLinesSink({ write: (chunk: string) => (text += chunk) }, options);
  const stop = scheduler.onAny((event) => {
    events.push(event);
    sink(event);
  });
  await scheduler.run();
  stop();
  // written at the end of the run, without a flush (a later event would wait for one)
  expect(text.endsWith('\n')).toBe(true);
  // the sink's fast text is the reference serialisation, line for line
  const reference = events
    .filter((event) => (event.type as string) !== 'cmd:progress')
    .filter((event) => (event.type as string) !== 'cmd:line' || options.output === true)
    .map((event) => `${JSON.stringify(eventRecord(event, options))}\n`);
  expect(text).toBe(reference.join(''));
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      expect(line).not.toContain('\n');
      const record = JSON.parse(line) as Record<string, unknown>;
      if (!validate(record)) throw new Error(`${line}\n${ajv.errorsText(validate.errors)}`);
      return record;
    });
}

describe('jsonLinesSink', () => {
  it('a run with a retry, a failure with an error code, a result and a nested scheduler', async () => {
    let tries = 0;
    const flaky = new Job(
      () => {
        tries += 1;
        if (tries === 1) throw new Error('first try\nfails');
        return { answer: 42, when: new Date(0) };
      },
      { label: 'flaky', retries: 1 },
    );
    const broken = new Job(
      () => {
        throw new CodedError('Cannot connect to root@fit01: connection refused');
      },
      { label: 'broken', critical: false, required: flaky },
    );
    const inner = new Job(() => 'inner result', { label: 'inside' });
    const nested = new Scheduler({ label: 'nested', jobs: [inner] });
    const scheduler = new PureScheduler({ label: 'outer', jobs: [flaky, broken, nested] });
    const log = await logOf(scheduler);
    const types = log.map((line) => line.type);
    expect(types[0]).toBe('run:start');
    expect(types.at(-1)).toBe('run:done');
    expect(log[0]).toMatchObject({ scheduler: 'outer', jobs: 3 });
    expect(log.find((line) => line.type === 'job:retry')).toMatchObject({
      job: { id: expect.any(String), label: 'flaky' },
      attempt: 2, // the attempt that comes next
      error: 'first try fails',
    });
    expect(
      log.find((line) => line.type === 'job:done' && (line.job as { label: string }).label === 'flaky'),
    ).toMatchObject({
      result: { answer: 42, when: '1970-01-01T00:00:00.000Z' },
    });
    expect(log.find((line) => line.type === 'job:failed')).toMatchObject({
      job: { label: 'broken' },
      error: 'Cannot connect to root@fit01: connection refused',
      errorCode: 'ERR_SSH_CONNECT',
      critical: false,
    });
    // the nested scheduler's own job: its path names the nested scheduler by its label
    expect(
      log.find((line) => line.type === 'job:done' && (line.job as { label: string }).label === 'inside'),
    ).toMatchObject({
      path: ['nested'],
      result: 'inner result',
      // job 1 of the scheduler that is job 3: not "1", which is flaky's id
      job: { id: '3.1', label: 'inside' },
    });
    const ids = new Map<string, string>();
    for (const line of log) {
      const job = line.job as { id: string; label: string } | undefined;
      if (job === undefined) continue;
      expect(ids.get(job.id) ?? job.label, `${job.id} names two jobs`).toBe(job.label);
      ids.set(job.id, job.label);
    }
    for (const line of log) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('ids from idOf (a scenario’s), the node of a job that has one; output lines only when asked for', async () => {
    const make = () => {
      const job = new Job(
        (ctx) => {
          ctx.emit({ type: 'job:message', message: 'working' });
          return 0;
        },
        { label: 'with a node' },
      );
      // a job with a node, as an SshJob has: its toString() is what the log writes
      Object.assign(job, { node: { toString: () => 'root@fit01' } });
      return job;
    };
    const job = make();
    const ids = new Map<AbstractJob, string>([[job, 'measure']]);
    const log = await logOf(new PureScheduler({ jobs: [job] }), { idOf: (j) => ids.get(j) });
    expect(log.find((line) => line.type === 'job:message')).toMatchObject({
      job: { id: 'measure', label: 'with a node' },
      node: 'root@fit01',
      message: 'working',
    });
  });

  it('a job with a node and an event with its own node (cmd:*): one "node" key, the event\'s, as eventRecord has it', async () => {
    const job = new Job(
      (ctx) => {
        ctx.emit({ type: 'cmd:start', node: 'root@fit01', command: 'ls', index: 1 } as never);
        ctx.emit({
          type: 'cmd:done',
          node: 'gw->root@fit01',
          command: 'ls',
          index: 1,
          exitCode: 0,
          signal: null,
          ok: true,
        } as never);
        return 0;
      },
      { label: 'ls' },
    );
    Object.assign(job, { node: { toString: () => 'root@fit01' } });
    const log = await logOf(new PureScheduler({ jobs: [job] }));
    const start = log.find((line) => line.type === 'cmd:start');
    expect(Object.keys(start ?? {}).filter((key) => key === 'node')).toHaveLength(1);
    expect(log.find((line) => line.type === 'cmd:done')).toMatchObject({ node: 'gw->root@fit01' });
  });

  it("a progress bar's passing states (cmd:progress) are never written: its line comes whole", async () => {
    const scheduler = new Scheduler({
      jobs: [
        new Job(
          (ctx) => {
            ctx.emit({ type: 'cmd:progress', node: 'n', stream: 'stdout', text: '50%' } as never);
            return 1;
          },
          { label: 'bar' },
        ),
      ],
    });
    const records = await logOf(scheduler, { output: true });
    expect(records.map((record) => record.type)).not.toContain('cmd:progress');
  });

  it('cmd:line events are left out by default, written with output: true', async () => {
    const printing = () =>
      new Job(
        (ctx) => {
          ctx.emit({ type: 'cmd:line', node: 'n', stream: 'stdout', line: 'secret-ish output\n' } as never);
          return 0;
        },
        { label: 'prints' },
      );
    const quiet = await logOf(new PureScheduler({ jobs: [printing()] }));
    expect(quiet.some((line) => line.type === 'cmd:line')).toBe(false);
    const loud = await logOf(new PureScheduler({ jobs: [printing()] }), { output: true });
    expect(loud.find((line) => line.type === 'cmd:line')).toMatchObject({
      stream: 'stdout',
      line: 'secret-ish output\n',
    });
  });

  it('the run loop’s job events, written the quick way, read as the general way writes them; one with more keys keeps them', async () => {
    const withNode = new Job(() => ({ rows: [1, 2] }), { label: 'has a node' });
    Object.assign(withNode, { node: { toString: () => 'root@fit02' } });
    const emitter = new Job(
      (ctx) => {
        // a job may emit the scheduler's own types, with keys of its own: the general way writes them
        ctx.emit({ type: 'job:start', attempt: 7, note: 'mine' } as never);
        ctx.emit({ type: 'job:done', result: undefined, extra: 1 } as never);
        // as many keys as the run loop's, not the same ones
        ctx.emit({ type: 'job:done', other: 2 } as never);
        ctx.emit({ type: 'job:start', attempt: 3, node: 'its own node' } as never);
        return undefined;
      },
      { label: 'emitter' },
    );
    const waiting = new Job(() => 'late', { label: 'waits for a slot' });
    // a window of 1: job:scheduled events too
    const log = await logOf(new PureScheduler({ jobs: [withNode, emitter, waiting], jobsWindow: 1 }));
    expect(log.filter((line) => line.type === 'job:scheduled').length).toBeGreaterThan(0);
    expect(log.find((line) => line.type === 'job:done' && line.node === 'root@fit02')).toMatchObject({
      job: { label: 'has a node' },
      result: { rows: [1, 2] },
    });
    expect(log.find((line) => line.type === 'job:start' && line.attempt === 7)).toMatchObject({
      note: 'mine',
    });
    expect(log.find((line) => line.type === 'job:done' && line.extra === 1)).toMatchObject({
      job: { label: 'emitter' },
    });
    expect(log.find((line) => line.type === 'job:done' && line.other === 2)).toMatchObject({
      job: { label: 'emitter' },
    });
    expect(log.find((line) => line.type === 'job:start' && line.attempt === 3)).toMatchObject({
      node: 'its own node',
    });
  });

  it('holds lines until the turn ends, the run ends, or flush()', async () => {
    const written: string[] = [];
    const sink = jsonLinesSink({ write: (chunk: string) => written.push(chunk) });
    const job = new Job(() => 1, { label: 'one' });
    sink({ type: 'job:message', job, message: 'a', time: 0, path: [] });
    sink({ type: 'job:message', job, message: 'b', time: 0, path: [] });
    expect(written).toEqual([]);
    sink.flush();
    expect(written).toHaveLength(1);
    expect(written[0]?.split('\n')).toHaveLength(3);
    sink({ type: 'job:message', job, message: 'c', time: 0, path: [] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toHaveLength(2);
  });

  it("a stream that fails (its 'error' event, a write that throws): the run goes on, sink.error says why, later lines dropped", async () => {
    const stream = new PassThrough();
    const sink = jsonLinesSink(stream);
    const scheduler = new Scheduler({ jobs: [new Job(() => 1, { label: 'one' })] });
    scheduler.onAny(sink);
    stream.destroy(new Error('ENOSPC: no space left on device'));
    // with no listener of its own, the stream's 'error' crashed the process
    expect(await scheduler.run()).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(String(sink.error)).toContain('ENOSPC');
    let calls = 0;
    const throwing = jsonLinesSink({
      write: () => {
        calls++;
        throw new Error('disk gone');
      },
    });
    const job = new Job(() => 1, { label: 'one' });
    throwing({ type: 'job:message', job, message: 'a', time: 0, path: [] });
    // written at the next turn of the event loop, where a throw would crash the process
    await new Promise((resolve) => setImmediate(resolve));
    expect(String(throwing.error)).toBe('Error: disk gone');
    throwing({ type: 'job:message', job, message: 'b', time: 0, path: [] });
    throwing.flush();
    expect(calls).toBe(1);
  });

  it('a long output line is whole in the log, as eventRecord has it; a 12th sink on one stream adds no listener', async () => {
    const long = `${'x'.repeat(20_000)}\n`;
    const scheduler = new Scheduler({
      jobs: [
        new Job(
          (ctx) => {
            ctx.emit({ type: 'cmd:line', node: 'n', stream: 'stdout', line: long } as never);
            return 'r'.repeat(20_000);
          },
          { label: 'talker' },
        ),
      ],
    });
    // logOf holds the sink's text to eventRecord's, line for line
    const records = await logOf(scheduler, { output: true });
    expect(records.find((record) => record.type === 'cmd:line')?.line).toBe(long);
    // a result is a bounded copy, in both
    expect(String(records.find((record) => record.type === 'job:done')?.result)).toMatch(
      /^r{10000}… \(10000 more characters\)$/,
    );
    const stream = new PassThrough();
    for (let i = 0; i < 12; i++) jsonLinesSink(stream);
    expect(stream.listenerCount('error')).toBe(1);
  });

  it('what a job throws is one line of text, whatever it is (undefined, null, an object), as the schema says', async () => {
    const thrown = [
      undefined,
      null,
      { code: 'ERR_X', message: 'plain object' },
      42,
      { code: 'E_Y', details: { host: 'a' } },
    ];
    const scheduler = new Scheduler({
      critical: false,
      jobs: thrown.map(
        (value, i) =>
          new Job(
            () => {
              throw value;
            },
            { label: `j${i}`, critical: false },
          ),
      ),
    });
    // logOf checks every line against the schema, and the quick text against eventRecord's
    const failed = (await logOf(scheduler)).filter((record) => record.type === 'job:failed');
    expect(failed.map((record) => [record.error, record.errorCode])).toEqual([
      ['undefined', undefined],
      ['null', undefined],
      ['plain object', 'ERR_X'],
      ['42', undefined],
      // an object without a message as its JSON, not [object Object]
      ['{"code":"E_Y","details":{"host":"a"}}', 'E_Y'],
    ]);
  });
});
