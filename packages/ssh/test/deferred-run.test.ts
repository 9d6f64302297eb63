/**
 * Deferred templates in commands, against the real sshd: apssh's test_deferred.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler, Sequence } from '@jobgraph/core';
import { Capture, Deferred, Variables } from '@jobgraph/deferred';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CaptureFormatter,
  MAX_CAPTURE_CHARS,
  Run,
  RunScript,
  RunString,
  Service,
  SshJob,
  type SshNode,
} from '../src/index.js';
import { loopbackNode } from './bed.js';

const nodes: SshNode[] = [];
function node(formatter = new CaptureFormatter('{linenl}', { stderr: () => undefined })): SshNode {
  const created = loopbackNode({ formatter });
  nodes.push(created);
  return created;
}
afterAll(async () => {
  for (const created of nodes) await created.close();
});

/** One job per Deferred, each node with its own CaptureFormatter (apssh's check_expansion). */
async function expand(...cases: Array<[Deferred, string]>): Promise<void> {
  const scheduler = new Scheduler({ critical: false });
  const formatters = cases.map(([deferred]) => {
    const formatter = new CaptureFormatter('{linenl}', { stderr: () => undefined });
    formatter.startCapture();
    scheduler.add(new SshJob({ node: node(formatter), command: new Run(deferred) }));
    return formatter;
  });
  expect(await scheduler.run()).toBe(true);
  expect(formatters.map((formatter) => formatter.getCapture())).toEqual(
    cases.map(([, expected]) => expected),
  );
}

describe('Deferred in commands (apssh test_deferred)', () => {
  it('a simple variable', async () => {
    const env = new Variables({ fetched: 'a simple variable' });
    await expand([new Deferred('echo fetched = {{fetched}}', env), 'fetched = a simple variable\n']);
  });

  it('numbers and sums (printed as JavaScript does)', async () => {
    const env = new Variables({ x1: 1, x2: 2.0 });
    await expand(
      [new Deferred('echo x1 = {{x1}}', env), 'x1 = 1\n'],
      [new Deferred('echo x2 = {{x2}}', env), 'x2 = 2\n'],
      [new Deferred('echo sum = {{x1+x2}}', env), 'sum = 3\n'],
    );
  });

  it('a chain: the first job captures a value, the second uses it', async () => {
    const env = new Variables();
    const target = node();
    const scheduler = new Scheduler({
      critical: false,
      jobs: [
        new Sequence([
          new SshJob({
            node: target,
            command: new Run('echo from-first-run', { capture: new Capture('run1', env) }),
          }),
          new SshJob({
            node: target,
            command: new Run(new Deferred('echo {{run1}}', env), { capture: new Capture('final', env) }),
          }),
        ]),
      ],
    });
    // before the run, the label shows the template
    expect([...scheduler.jobs][1]?.textLabel()).toBe('echo {{ run1 }}');
    expect(await scheduler.run()).toBe(true);
    expect(env.final).toBe('from-first-run');
    expect([...scheduler.jobs][1]?.textLabel()).toBe('echo from-first-run');
  });

  it('a RunString body and argv words can be templates too', async () => {
    const env = new Variables({ who: 'world', n: 3 });
    const formatter = new CaptureFormatter('{linenl}', { stderr: () => undefined });
    formatter.startCapture();
    const job = new SshJob({
      node: node(formatter),
      commands: [
        new RunString(new Deferred('#!/bin/sh\necho hello {{ who }} "$@"\n', env), [
          new Deferred('{{ n * 2 }}', env),
        ]),
        new Run(['echo', new Deferred('{{ who | upper }}', env), '&&', 'echo', "'a && b'"]),
      ],
    });
    expect(await new Scheduler({ critical: false, jobs: [job] }).run()).toBe(true);
    expect(formatter.getCapture()).toBe('hello world 6\nWORLD\na && b\n');
  });

  it('a Deferred given straight to SshJob, RunScript arguments, and a Service command are rendered at run time', async () => {
    const env = new Variables();
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-deferred-'));
    const script = join(dir, 'args.sh');
    await writeFile(script, '#!/bin/sh\necho "script [$1]"\n');
    const formatter = new CaptureFormatter('{linenl}', { stderr: () => undefined });
    formatter.startCapture();
    const service = new Service(new Deferred('sleep {{ seconds }}', env), { serviceId: 'jg-deferred' });
    const start = service.startCommand();
    // before the value exists, the label shows the template
    expect(start.labelLine()).toContain('sleep {{ seconds }}');
    const on = node(formatter);
    const direct = new SshJob({ node: on, command: new Deferred('echo direct {{ word }}', env) });
    const scripted = new SshJob({
      node: on,
      command: new RunScript(script, [new Deferred('{{ word | upper }}', env)]),
    });
    env.word = 'late';
    env.seconds = 5;
    expect(await new Scheduler({ critical: false, jobs: [new Sequence([direct, scripted])] }).run()).toBe(
      true,
    );
    expect(formatter.getCapture()).toBe('direct late\nscript [LATE]\n');
    expect(start.commandLine()).toMatch(/ sleep 5$/);
  });

  it.each([
    [
      'a filtered missing name in Run',
      () => new Run(new Deferred('echo [{{ typo | shquote }}]', new Variables())),
      'ERR_UNDEFINED_VARIABLE',
    ],
    [
      'a missing name in a RunString body',
      () => new RunString(new Deferred('echo {{ body_var }}', new Variables())),
      'ERR_UNDEFINED_VARIABLE',
    ],
    [
      'an unknown filter',
      () => new Run(new Deferred('echo {{ 1 | nosuchfilter }}', new Variables())),
      'ERR_TEMPLATE',
    ],
  ])('%s fails that job with %s, and nothing runs', async (_name, command, code) => {
    const formatter = new CaptureFormatter('{linenl}', { stderr: () => undefined });
    formatter.startCapture();
    const job = new SshJob({ node: node(formatter), commands: [command(), new Run('echo after')] });
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    expect(await scheduler.run()).toBe(false);
    expect(job.raisedException()).toMatchObject({ code });
    expect(formatter.getCapture()).toBe('');
  });

  it('a render error fails that command (ERR_UNDEFINED_VARIABLE), not the process', async () => {
    const env = new Variables();
    const job = new SshJob({ node: node(), command: new Run(new Deferred('echo {{ nowhere }}', env)) });
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    expect(await scheduler.run()).toBe(false);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_UNDEFINED_VARIABLE', variable: 'nowhere' });
  });

  it('a capture past its bound fails its command, naming the variable, and stores nothing (it was a RangeError past ~512 MiB)', async () => {
    const vars = new Variables({ big: 'before' });
    const over = MAX_CAPTURE_CHARS + 1024;
    const job = new SshJob({
      node: node(),
      commands: [
        new Run(`head -c ${over} /dev/zero | tr '\\0' x; echo`, { capture: new Capture('big', vars) }),
        new Run('echo never'),
      ],
    });
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    expect(await scheduler.run()).toBe(false);
    expect(job.raisedException()).toMatchObject({
      code: 'ERR_CAPTURE_TOO_LARGE',
      message: expect.stringContaining(`captured into "big" on root@`),
    });
    expect(String((job.raisedException() as Error).message)).toContain(
      `is ${over + 1} characters, over the ${MAX_CAPTURE_CHARS}`,
    );
    expect(vars.big).toBe('before');
  }, 60_000);
});
