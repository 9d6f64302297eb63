/**
 * SshJob and its commands against the real test bed: apssh's test_basics, test_capture
 * and test_processes re-expressed (command forms, scripts, capture, critical logic,
 * allowed exits, Push/Pull round trips, LocalNode, labels, events, X11 forwarding).
 * Every job runs in a Scheduler of @jobgraph/core.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type EventOf, Scheduler } from '@jobgraph/core';
import { Capture, Variables } from '@jobgraph/deferred';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CaptureFormatter,
  CommandFailedError,
  type CommandSpec,
  LocalNode,
  Pull,
  Push,
  Run,
  RunScript,
  RunString,
  SshJob,
  type SshNode,
} from '../src/index.js';
import { bed, gatewayNode, loopbackNode, RecordingFormatter, recorder, targetNode } from './bed.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);

/** `toString()` of a loopback node. */
const LOOPBACK = `root@${bed.loopback.hostname}:${bed.loopback.port}`;
const LOOPBACK_HOST = bed.loopback.nodename;
const T1_HOST = bed.targets[0].nodename;
/** Our remote working directory, relative to the remote home (removed in afterAll). */
const REMOTE = `jobgraph-tests-${process.pid}-${randomBytes(4).toString('hex')}`;

let local = '';
/** Remote names of the scripts this file installs under ~/.jobgraph-remote (removed in afterAll). */
const installed: string[] = [];
function installs<T extends RunScript | RunString>(command: T): T {
  installed.push(command.remoteName);
  return command;
}

const opened: SshNode[] = [];
/** Closes the node after the test (nodes are closed in reverse order: targets before gateways). */
function track<T extends SshNode>(node: T): T {
  opened.push(node);
  return node;
}

/** Runs the jobs in a default (critical) Scheduler: resolves with `run()`. */
function runJobs(...jobs: SshJob[]): Promise<boolean> {
  return new Scheduler({ jobs }).run();
}

/** apssh's run_one_job: the scheduler succeeds and the job's result is 0. */
async function runOne(job: SshJob): Promise<void> {
  expect(await runJobs(job)).toBe(true);
  expect(job.result()).toBe(0);
}

/** Runs a job expected to fail in a non-critical scheduler; returns its exception. */
async function runFailing(job: SshJob): Promise<unknown> {
  expect(await new Scheduler({ jobs: [job], critical: false }).run()).toBe(false);
  expect(job.isDone()).toBe(true);
  const error = job.raisedException();
  expect(error).toBeInstanceOf(Error);
  return error;
}

/** What a synchronous call throws (undefined if nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `mib` MiB of random bytes, as a stream of chunks; returns their sha256. */
async function randomFile(path: string, mib: number): Promise<string> {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let i = 0; i < mib; i++) {
      const chunk = randomBytes(1 << 20);
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
  return hash.digest('hex');
}

/** Runs a shell line on a fresh loopback node, returns its stdout. */
async function onLoopback(command: string): Promise<string> {
  const node = loopbackNode();
  try {
    const result = await node.run(command);
    expect(result.exitCode).toBe(0);
    return recorder(node).stdout();
  } finally {
    await node.close();
  }
}

beforeAll(async () => {
  local = await mkdtemp(join(tmpdir(), 'jobgraph-ssh-job-'));
  await onLoopback(`mkdir -p ~/${REMOTE}`);
});

afterEach(async () => {
  for (const node of opened.splice(0).reverse()) await node.close();
});

afterAll(async () => {
  const scripts = installed
    .map((name) => `~/.jobgraph-remote/${name} ~/.jobgraph-remote/${name}.d`)
    .join(' ');
  await onLoopback(`rm -rf ~/${REMOTE} ${scripts}`);
  await rm(local, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------

describe('command forms (test_basics s1..s4, p1..p4)', () => {
  const words = (n: string) => `SshJob with ${n}`;
  const forms: Array<{ name: string; spec: () => CommandSpec }> = [
    { name: 'a string', spec: () => `echo ${words('a string')} $(hostname)` },
    { name: 'a Run', spec: () => new Run(`echo ${words('a Run')} $(hostname)`) },
    { name: 'a list of one Run', spec: () => [new Run(['echo', words('a list of one Run'), '$(hostname)'])] },
    { name: 'a list of words', spec: () => ['echo', words('a list of words'), '$(hostname)'] },
  ];
  for (const key of ['command', 'commands'] as const) {
    for (const { name, spec } of forms) {
      it(`\`${key}:\` with ${name} runs one command line, expanded by the remote shell`, async () => {
        const gateway = track(gatewayNode());
        const target = track(targetNode(0, gateway));
        const job = new SshJob(
          key === 'command' ? { node: target, command: spec() } : { node: target, commands: spec() },
        );
        expect(job.commands).toHaveLength(1);
        await runOne(job);
        // $(hostname) ran on the target, not here
        expect(recorder(target).stdout()).toBe(`${words(name)} ${T1_HOST}\n`);
      });
    }
  }

  it('drops null entries, in a list of commands and in a list of words', async () => {
    const node = track(loopbackNode());
    const commands = new SshJob({
      node,
      commands: [null, new Run('echo one'), undefined, new Run('echo two'), null],
    });
    expect(commands.commands).toHaveLength(2);
    const wordList = new SshJob({ node, command: ['echo', null, 'kept', undefined] });
    expect(wordList.commands).toHaveLength(1);
    expect(wordList.textLabel()).toBe('echo kept');
    await runOne(commands);
    await runOne(wordList);
    expect(recorder(node).stdout()).toBe('one\ntwo\nkept\n');
  });

  it('rejects command objects mixed with strings, both command and commands, and no command', () => {
    const node = loopbackNode();
    const mixed = thrown(() => new SshJob({ node, commands: [new Run('true'), 'echo plain'] }));
    expect(mixed).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect((mixed as Error).message).toContain('use Run(...)');
    const both = thrown(() => new SshJob({ node, command: 'true', commands: 'true' }));
    expect(both).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect((both as Error).message).toContain('not both');
    for (const spec of ['', [], [null, undefined]]) {
      expect(thrown(() => new SshJob({ node, commands: spec }))).toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
    }
    expect(thrown(() => new SshJob({ node }))).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(node.connectionCount).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

describe('RunScript and RunString', () => {
  it('RunScript runs a local script on the node', async () => {
    const node = track(loopbackNode());
    const script = installs(new RunScript(fixture('script.sh')));
    expect(script.getLabelLine()).toBe('RunScript: script.sh');
    await runOne(new SshJob({ node, command: script }));
    const out = recorder(node).stdout();
    expect(out).toMatch(/^SCRIPT-SH-RAN\n/);
    expect(out).toContain(`host=${LOOPBACK_HOST}\n`);
  });

  it('RunScript with arguments', async () => {
    const node = track(loopbackNode());
    const script = installs(new RunScript(fixture('script-with-args.sh'), ['foo', 'bar', 'tutu']));
    expect(script.getLabelLine()).toBe('RunScript: script-with-args.sh foo bar tutu');
    await runOne(new SshJob({ node, command: script }));
    const lines = recorder(node).stdout().split('\n');
    expect(lines[0]).toBe(`ENTERING COMMAND ${script.remoteName}`);
    expect(lines[1]).toBe('argc=3');
    expect(lines.slice(2, 5).map((line) => line.replace(/ in .*$/, ''))).toEqual([
      `arg=<foo> on ${LOOPBACK_HOST}`,
      `arg=<bar> on ${LOOPBACK_HOST}`,
      `arg=<tutu> on ${LOOPBACK_HOST}`,
    ]);
  });

  it('RunScript with includes: the include lands next to the script (also behind the gateway)', async () => {
    const gateway = track(gatewayNode());
    const target = track(targetNode(0, gateway));
    const script = installs(
      new RunScript(fixture('needsinclude.sh'), ['run1'], { includes: [fixture('inclusion.sh')] }),
    );
    await runOne(new SshJob({ node: target, command: script }));
    expect(recorder(target).stdout()).toBe(
      'included_function called with 1 args: run1\nINCLUDED_VALUE=from-inclusion\n',
    );
  });

  it('two includes of one name are refused when the command is made (both raced for one remote file)', () => {
    const other = join(tmpdir(), 'another-dir', 'inclusion.sh');
    expect(
      () => new RunScript(fixture('needsinclude.sh'), [], { includes: [fixture('inclusion.sh'), other] }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(
          'have the same name: both would be copied beside the script as inclusion.sh',
        ),
      }),
    );
    expect(() => new RunString('x', [], { includes: [other, other] })).not.toThrow();
  });

  it('scripts running at once with includes of one name and different contents each source their own', async () => {
    const libs = ['A', 'B'].map((which) => {
      const dir = join(local, `lib${which}`);
      return { which, dir, file: join(dir, 'lib.sh') };
    });
    for (const lib of libs) {
      await mkdir(lib.dir, { recursive: true });
      await writeFile(lib.file, `LIB=${lib.which}\n`);
    }
    const body = '#!/bin/sh\nsleep 0.3\n. "$(dirname "$0")/lib.sh"\necho "$1 sees $LIB"\n';
    for (const node of [track(loopbackNode()), new LocalNode()]) {
      const jobs = libs.map(
        (lib) =>
          new SshJob({ node, command: installs(new RunString(body, [lib.which], { includes: [lib.file] })) }),
      );
      const seen: string[] = [];
      const scheduler = new Scheduler({ jobs });
      scheduler.on('cmd:line', (event) => seen.push(event.line.trim()));
      expect(await scheduler.run()).toBe(true);
      expect(seen.sort()).toEqual(['A sees A', 'B sees B']);
    }
  });

  it('a script or an include that is a directory: said, naming it', async () => {
    const node = new LocalNode();
    const dir = join(local, 'a-directory');
    await mkdir(dir, { recursive: true });
    for (const command of [new RunScript(dir), new RunString('true', [], { includes: [dir] })]) {
      const error = await runFailing(new SshJob({ node, command }));
      expect(error).toMatchObject({ code: 'ERR_LOCAL_FILE' });
      expect((error as Error).message).toMatch(
        new RegExp(`^(Script|Include file) ${dir} is not a file \\(a directory\\?\\)$`),
      );
    }
  });

  it('jobs running at once with the same include each source it whole: it is replaced, never rewritten in place', async () => {
    const name = `race-${REMOTE}.sh`;
    const include = join(local, name);
    // large enough that copying it takes a while: a copy written in place was sourced half-written
    await writeFile(include, `${'# padding\n'.repeat(300_000)}libfunc() { echo LIBOK; }\n`);
    const body = `#!/bin/sh\n. "$(dirname "$0")/${name}"\nlibfunc\n`;
    try {
      for (const node of [track(loopbackNode()), new LocalNode()]) {
        const jobs = Array.from(
          { length: 10 },
          (_, i) =>
            new SshJob({
              node,
              critical: false,
              commands: [
                new Run(`sleep 0.0${i}`),
                installs(new RunString(body, [], { includes: [include] })),
              ],
            }),
        );
        await new Scheduler({ jobs, critical: false }).run();
        expect(jobs.map((job) => job.result())).toEqual(jobs.map(() => 0));
      }
    } finally {
      await rm(join(process.env.HOME ?? '/root', '.jobgraph-remote', name), { force: true });
    }
  });

  it('a mixed list: RunScript, Run, RunScript', async () => {
    const node = track(loopbackNode());
    const includes = [fixture('inclusion.sh')];
    const job = new SshJob({
      node,
      commands: [
        installs(new RunScript(fixture('needsinclude.sh'), ['run1'], { includes })),
        new Run('echo +++++; cat /etc/lsb-release; echo +++++'),
        installs(new RunScript(fixture('needsinclude.sh'), ['another', 'run'], { includes })),
      ],
    });
    expect(job.textLabel()).toBe('RunScript: needsinclude.sh run1.. + 2');
    await runOne(job);
    const out = recorder(node).stdout();
    expect(out).toContain('included_function called with 1 args: run1\n');
    expect(out).toContain('+++++\n');
    expect(out).toContain('included_function called with 2 args: another run\n');
  });

  it('a RunString label of 15 characters cuts whole ones (an emoji cut in two showed as �)', () => {
    const label = new RunString("printf '👨‍👩‍👧‍👦🚀🚀🚀🚀🚀🚀🚀🚀🚀'").labelLine();
    expect(label).toBe("RunString: printf '👨‍👩‍👧‍👦🚀🚀🚀🚀🚀🚀...");
    expect(label).not.toContain('\ufffd');
    // no half of a character (a lone surrogate)
    expect(label).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('RunString from the contents of script-with-args.sh, with arguments', async () => {
    const node = track(loopbackNode());
    const body = await readFile(fixture('script-with-args.sh'), 'utf8');
    const command = installs(new RunString(body, ['foo', 'bar', 'tutu']));
    expect(command.getLabelLine()).toBe('RunString: echo "ENTERING ... foo bar tutu');
    await runOne(new SshJob({ node, command }));
    const out = recorder(node).stdout();
    expect(out).toMatch(new RegExp(`^ENTERING COMMAND ${command.remoteName}\nargc=3\n`));
    expect(out).toContain(`arg=<tutu> on ${LOOPBACK_HOST}`);
  });

  it('RunString with remoteName and includes', async () => {
    const node = track(loopbackNode());
    const body = await readFile(fixture('needsinclude.sh'), 'utf8');
    const command = installs(
      new RunString(body, ['some', "'more text'"], {
        remoteName: 'run-script-sample.sh',
        includes: [fixture('inclusion.sh')],
      }),
    );
    expect(command.remoteName).toMatch(/^run-script-sample\.sh-[a-z0-9]{8}$/);
    await runOne(
      new SshJob({
        node,
        // with includes, in a directory of its own, the includes beside it
        commands: [
          command,
          new Run(
            `test -x ~/.jobgraph-remote/${command.remoteName}.d/${command.remoteName} && test -f ~/.jobgraph-remote/${command.remoteName}.d/inclusion.sh && echo installed`,
          ),
        ],
      }),
    );
    expect(recorder(node).stdout()).toBe(
      'included_function called with 2 args: some more text\nINCLUDED_VALUE=from-inclusion\ninstalled\n',
    );
  });

  it('scripts land under ~/.jobgraph-remote with mode 700, in a directory of mode 700', async () => {
    const node = track(loopbackNode());
    const fromString = installs(new RunString('#!/bin/sh\necho from-string\n'));
    const fromFile = installs(new RunScript(fixture('testbasic.sh'), ['x']));
    await runOne(
      new SshJob({
        node,
        commands: [
          fromString,
          fromFile,
          new Run(
            `stat -c %a ~/.jobgraph-remote ~/.jobgraph-remote/${fromString.remoteName} ~/.jobgraph-remote/${fromFile.remoteName}`,
          ),
        ],
      }),
    );
    expect(recorder(node).stdout()).toMatch(
      /^from-string\ntestbasic on .* at \d+\nargs: x\n700\n700\n700\n$/,
    );
    expect(recorder(node).stderr()).toBe('testbasic stderr line\n');
  });

  it('two RunString objects from the same body get different remote names, and can run at once', async () => {
    const node = track(loopbackNode());
    const body = '#!/bin/bash\nsleep 0.2\necho "ran $(basename "$0")"\n';
    const first = installs(new RunString(body, [], { remoteName: 'same.sh' }));
    const second = installs(new RunString(body, [], { remoteName: 'same.sh' }));
    expect(first.remoteName).not.toBe(second.remoteName);
    await runOne(new SshJob({ node, command: first }));
    expect(await runJobs(new SshJob({ node, command: first }), new SshJob({ node, command: second }))).toBe(
      true,
    );
    const lines = recorder(node).stdout().split('\n').filter(Boolean).sort();
    expect(lines).toEqual(
      [`ran ${first.remoteName}`, `ran ${first.remoteName}`, `ran ${second.remoteName}`].sort(),
    );
  });

  it('RunScript of a missing local file: the job fails with ERR_LOCAL_FILE naming the file', async () => {
    const node = track(loopbackNode());
    const missing = join(local, 'no-such-script.sh');
    const error = await runFailing(
      new SshJob({ node, commands: [new RunScript(missing), new Run('echo never')] }),
    );
    expect(error).toMatchObject({ code: 'ERR_LOCAL_FILE' });
    expect((error as Error).message).toContain(missing);
    expect(recorder(node).stdout()).toBe('');
  });

  it('a missing include: ERR_LOCAL_FILE naming the include', async () => {
    const node = track(loopbackNode());
    const missing = join(local, 'no-such-include.sh');
    const error = await runFailing(
      new SshJob({ node, command: new RunScript(fixture('needsinclude.sh'), [], { includes: [missing] }) }),
    );
    expect(error).toMatchObject({ code: 'ERR_LOCAL_FILE' });
    expect((error as Error).message).toContain(missing);
  });
});

// ---------------------------------------------------------------------------------------

describe('capture (test_capture)', () => {
  it('a CaptureFormatter on the node gets the stdout of two commands', async () => {
    const formatter = new CaptureFormatter();
    const node = track(loopbackNode({ formatter }));
    formatter.startCapture();
    await runOne(new SshJob({ node, commands: [new Run('echo LINE1'), new Run('echo LINE2')] }));
    expect(formatter.getCapture()).toBe('LINE1\nLINE2\n');
    formatter.startCapture();
    await runOne(new SshJob({ node, command: 'hostname' }));
    expect(formatter.getCapture()).toBe(`${LOOPBACK_HOST}\n`);
  });

  it('Capture stores the output without its newline; a job running beside it is not captured', async () => {
    const node = track(loopbackNode());
    const vars = new Variables();
    const dir = `~/${REMOTE}/capture-${randomBytes(3).toString('hex')}`;
    // A fixed interleaving, whatever the timing: other-1, then hostname, then other-2.
    const waitFor = (file: string) =>
      `i=0; while [ ! -e ${dir}/${file} ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done`;
    const prepare = new SshJob({ node, command: `mkdir -p ${dir}` });
    const capturing = new SshJob({
      node,
      command: new Run(`${waitFor('started')}; hostname; touch ${dir}/captured`, {
        capture: new Capture('host', vars),
      }),
      required: prepare,
    });
    const beside = new SshJob({
      node,
      command: `echo other-1; touch ${dir}/started; ${waitFor('captured')}; echo other-2`,
      required: prepare,
    });
    expect(await runJobs(prepare, capturing, beside)).toBe(true);
    expect(vars.get('host')).toBe(LOOPBACK_HOST);
    expect(vars.host).toBe(LOOPBACK_HOST);
    // the other job's lines still reach the node's formatter; the captured line does not
    expect(recorder(node).stdout()).toBe('other-1\nother-2\n');
  });

  it('Capture of output without a trailing newline, and with two', async () => {
    const node = track(loopbackNode());
    const vars = new Variables();
    await runOne(
      new SshJob({
        node,
        commands: [
          new Run("printf 'no newline'", { capture: new Capture('bare', vars) }),
          new Run("printf 'two\\n\\n'", { capture: new Capture('two', vars) }),
          installs(
            new RunString('#!/bin/sh\necho from-a-string\n', [], { capture: new Capture('script', vars) }),
          ),
        ],
      }),
    );
    expect(vars.toObject()).toEqual({ bare: 'no newline', two: 'two\n', script: 'from-a-string' });
    expect(recorder(node).stdout()).toBe('');
  });
});

// ---------------------------------------------------------------------------------------

describe('critical and non-critical jobs (test_logic)', () => {
  it('a non-critical job runs all its commands; its result is the last failure', async () => {
    const node = track(loopbackNode());
    const job = new SshJob({
      node,
      critical: false,
      commands: [new Run('false'), new Run('echo after; true')],
    });
    const scheduler = new Scheduler({ jobs: [job] });
    expect(await scheduler.run()).toBe(true);
    expect(job.result()).toBe(1);
    expect(recorder(node).stdout()).toBe('after\n');
    expect(scheduler.list()).toBe('1   ☉ ☓   <SshJob `false.. + 1`> Ignr[1]:false->1 \n');
  });

  it('a non-critical job whose command failed: retried while attempts remain, not achieved (keepOnlyFailed keeps it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-retry-'));
    const count = join(dir, 'count');
    const node = new LocalNode({ formatter: new RecordingFormatter() });
    // fails twice, then succeeds: the third attempt achieves it
    const flaky = new SshJob({
      node,
      critical: false,
      retries: 2,
      label: 'flaky',
      command: `echo x >> ${count}; test $(wc -l < ${count}) -ge 3`,
    });
    // fails every time: its attempts used up, it returns the exit code and is not achieved
    const broken = new SshJob({ node, critical: false, retries: 1, label: 'broken', command: 'exit 3' });
    const fine = new SshJob({ node, critical: false, label: 'fine', command: 'true' });
    const scheduler = new Scheduler({ jobs: [flaky, broken, fine] });
    expect(await scheduler.run()).toBe(true);
    expect([flaky.attempts, flaky.result(), flaky.isAchieved()]).toEqual([3, 0, true]);
    expect([broken.attempts, broken.result(), broken.isAchieved()]).toEqual([2, 3, false]);
    expect(fine.isAchieved()).toBe(true);
    scheduler.keepOnlyFailed();
    expect([...scheduler.jobs]).toEqual([broken]);
    await rm(dir, { recursive: true, force: true });
  });

  it('a critical job stops at the first failure with a CommandFailedError', async () => {
    const node = track(loopbackNode());
    const job = new SshJob({ node, commands: [new Run('true'), new Run('false'), new Run('echo never')] });
    const scheduler = new Scheduler({ jobs: [job], critical: false });
    const started: number[] = [];
    scheduler.on('cmd:start', (event) => started.push(event.index));
    expect(await scheduler.run()).toBe(false);
    expect(started).toEqual([1, 2]);
    expect(recorder(node).stdout()).toBe('');
    const error = job.raisedException();
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error).toMatchObject({
      code: 'ERR_COMMAND_FAILED',
      exitCode: 1,
      signal: null,
      command: 'false',
      node: LOOPBACK,
      message: `Command failed with exit code 1 on ${LOOPBACK}: false`,
    });
    expect(() => job.result()).toThrow(error as Error);
    expect(scheduler.list()).toBe('1 ⚠ ★ ☓   <SshJob `true.. + 2`> !Crit![2]:false->1 \n');
  });

  it('in a critical scheduler, run() rejects with the CommandFailedError', async () => {
    const node = track(loopbackNode());
    const job = new SshJob({ node, commands: [new Run('exit 3')] });
    await expect(runJobs(job)).rejects.toMatchObject({
      code: 'ERR_COMMAND_FAILED',
      message: `Command failed with exit code 3 on ${LOOPBACK}: exit 3`,
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('a progress bar drawn with carriage returns', () => {
  it("reaches the scheduler's listeners as cmd:progress while its line is not ended, then whole as a cmd:line", async () => {
    const node = track(loopbackNode());
    const job = new SshJob({
      node,
      command: `for i in 10 20 30 40; do printf '\\r%s%% [==>  ]' $i >&2; sleep 0.3; done; printf '\\n' >&2`,
    });
    const scheduler = new Scheduler({ jobs: [job] });
    const progress: string[] = [];
    const lines: string[] = [];
    scheduler.on('cmd:progress', (event) => progress.push(event.text));
    scheduler.on('cmd:line', (event) => lines.push(event.line));
    expect(await scheduler.run()).toBe(true);
    // states of the bar, trimmed, in order, each once (a busy machine may read two at once: the later shows)
    const states = ['10% [==>  ]', '20% [==>  ]', '30% [==>  ]', '40% [==>  ]'];
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const order = progress.map((text) => states.indexOf(text));
    expect(order.every((index, i) => index >= 0 && (i === 0 || index > (order[i - 1] ?? -1)))).toBe(true);
    expect(lines).toEqual(['\r10% [==>  ]\r20% [==>  ]\r30% [==>  ]\r40% [==>  ]\n']);
  });
});

describe('allowed exits and signals (test_processes)', () => {
  // pkill matches our own sleep only (a unique duration): tests in other files run sleeps too.
  let serial = 0;
  const cases: Array<Array<number | string>> = [[], ['TERM'], ['TERM', 100], [100]];
  for (const allowedExits of cases) {
    it(`a sleep killed by TERM, allowedExits ${JSON.stringify(allowedExits)} → run() is ${allowedExits.includes('TERM')}`, async () => {
      const node = track(loopbackNode());
      const duration = `20.${process.pid}${++serial}`;
      const pattern = `sleep ${duration.replace('.', '\\.')}`;
      const sleeper = new SshJob({ node, command: new Run(`sleep ${duration}`, { allowedExits }) });
      // waits (bounded) for the sleep to exist, then kills it
      const killer = new SshJob({
        node,
        command: new Run(
          `i=0; until pgrep -f -x '${pattern}' >/dev/null || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done; pkill -TERM -f -x '${pattern}'`,
        ),
      });
      const scheduler = new Scheduler({ jobs: [sleeper, killer], critical: false, timeout: 10_000 });
      const done: Array<EventOf<'cmd:done'>> = [];
      scheduler.on('cmd:done', (event) => done.push(event));
      const ok = await scheduler.run();
      expect(ok).toBe(allowedExits.includes('TERM'));
      expect(scheduler.failedTimeOut()).toBe(false);
      expect(done.find((event) => event.job === sleeper)).toMatchObject({
        exitCode: null,
        signal: 'TERM',
        ok,
      });
      if (ok) {
        expect(sleeper.result()).toBe(0);
        expect(scheduler.list()).toContain('<SshJob `sleep 20.');
      } else {
        expect(sleeper.raisedException()).toMatchObject({
          code: 'ERR_COMMAND_FAILED',
          signal: 'TERM',
          exitCode: null,
          message: `Command failed on signal TERM on ${LOOPBACK}: sleep ${duration}`,
        });
        expect(scheduler.list()).toContain(`!Crit![1]:sleep ${duration}->TERM`);
      }
    });
  }

  it('exit 1000 arrives as 232: allowedExits [232] accepts it, [1000] is refused', async () => {
    const node = track(loopbackNode());
    const allowed = new SshJob({ node, command: new Run('exit 1000', { allowedExits: [232] }) });
    const ignored = new SshJob({ node, critical: false, command: 'exit 1000' });
    const scheduler = new Scheduler({ jobs: [allowed, ignored] });
    expect(await scheduler.run()).toBe(true);
    expect(allowed.result()).toBe(0);
    expect(ignored.result()).toBe(232);
    expect(scheduler.list()).toContain('Ignr[1]:exit 1000->232');
    expect(thrown(() => new Run('exit 1000', { allowedExits: [1000] }))).toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('Push and Pull', () => {
  let oneMiB = '';
  let oneMiBHash = '';
  beforeAll(async () => {
    oneMiB = join(local, 'random-1M');
    oneMiBHash = await randomFile(oneMiB, 1);
  });

  it('a 1 MiB file makes the round trip on loopback; a new node pulls it again', async () => {
    const node = track(loopbackNode());
    const back = join(local, 'loopback-1M');
    await runOne(
      new SshJob({
        node,
        commands: [
          new Run(`mkdir -p ${REMOTE}/loop1`),
          new Push(oneMiB, `${REMOTE}/loop1`),
          new Pull(`${REMOTE}/loop1/random-1M`, back),
        ],
      }),
    );
    expect(await sha256(back)).toBe(oneMiBHash);
    const again = join(local, 'again-1M');
    const other = track(loopbackNode());
    await runOne(new SshJob({ node: other, command: new Pull(`${REMOTE}/loop1/random-1M`, again) }));
    expect(await sha256(again)).toBe(oneMiBHash);
    expect(other.connectionCount).toBe(1);
  });

  it('a 100 MiB file makes the round trip on loopback', { timeout: 300_000 }, async () => {
    const node = track(loopbackNode());
    const big = join(local, 'random-100M');
    const back = join(local, 'loopback-100M');
    try {
      const hash = await randomFile(big, 100);
      await runOne(
        new SshJob({
          node,
          commands: [
            new Run(`mkdir -p ${REMOTE}/big`),
            new Push(big, `${REMOTE}/big/random-100M`),
            new Run(`stat -c %s ${REMOTE}/big/random-100M`),
            new Pull(`${REMOTE}/big/random-100M`, back),
          ],
        }),
      );
      expect(recorder(node).stdout()).toBe(`${100 * 1024 * 1024}\n`);
      expect((await stat(back)).size).toBe(100 * 1024 * 1024);
      expect(await sha256(back)).toBe(hash);
    } finally {
      await rm(big, { force: true });
      await rm(back, { force: true });
      await onLoopback(`rm -rf ~/${REMOTE}/big`);
    }
  });

  it('a 1 MiB file makes the round trip to a target behind the gateway; a new node pulls it again', async () => {
    const gateway = track(gatewayNode());
    const target = track(targetNode(0, gateway));
    const remote = `${REMOTE}/t1/random-1M`;
    const back = join(local, 't1-1M');
    await runOne(
      new SshJob({
        node: target,
        commands: [
          new Run(`mkdir -p ${REMOTE}/t1 && hostname`),
          new Push(oneMiB, remote),
          new Pull(remote, back),
        ],
      }),
    );
    expect(recorder(target).stdout()).toBe(`${T1_HOST}\n`);
    expect(await sha256(back)).toBe(oneMiBHash);
    const again = join(local, 't1-again-1M');
    const otherGateway = track(gatewayNode());
    const otherTarget = track(targetNode(0, otherGateway));
    await runOne(new SshJob({ node: otherTarget, command: new Pull(remote, again) }));
    expect(await sha256(again)).toBe(oneMiBHash);
    expect([otherGateway.connectionCount, otherTarget.connectionCount]).toEqual([1, 1]);
  });

  it('several files into an existing remote directory, and back into an existing local one', async () => {
    const node = track(loopbackNode());
    const names = ['a.txt', 'b.txt', 'c.txt'];
    const sources = names.map((name) => join(local, `multi-${name}`));
    for (const [i, source] of sources.entries()) await writeFile(source, `content ${i}\n`);
    const back = join(local, 'multi-back');
    await mkdir(back);
    const push = new Push(sources, `${REMOTE}/multi`);
    expect(push.getLabelLine()).toBe(`Push: ${sources[0]} ... (3 total) onto ${REMOTE}/multi`);
    await runOne(
      new SshJob({
        node,
        commands: [
          new Run(`mkdir -p ${REMOTE}/multi`),
          push,
          new Run(`cd ${REMOTE}/multi && cat multi-a.txt multi-b.txt multi-c.txt`),
          new Pull(
            names.map((name) => `${REMOTE}/multi/multi-${name}`),
            back,
          ),
        ],
      }),
    );
    expect(recorder(node).stdout()).toBe('content 0\ncontent 1\ncontent 2\n');
    for (const [i, name] of names.entries()) {
      expect(await readFile(join(back, `multi-${name}`), 'utf8')).toBe(`content ${i}\n`);
    }
    // several files onto a path that is not a directory
    const error = await runFailing(new SshJob({ node, command: new Push(sources, `${REMOTE}/not-a-dir`) }));
    expect(error).toMatchObject({ code: 'ERR_SFTP' });
    expect((error as Error).message).toContain('must be an existing directory');
  });

  it('a directory with recurse and preserve: modes and mtimes kept both ways', async () => {
    const node = track(loopbackNode());
    const tree = join(local, 'tree');
    const entries: Array<{ path: string; mode: number; mtime: number; dir: boolean }> = [
      { path: 'top.txt', mode: 0o640, mtime: 1_500_000_000, dir: false },
      { path: 'sub/nested.txt', mode: 0o600, mtime: 1_500_000_100, dir: false },
      { path: 'sub/deeper/leaf.sh', mode: 0o755, mtime: 1_500_000_200, dir: false },
      { path: 'sub/deeper', mode: 0o711, mtime: 1_500_000_300, dir: true },
      { path: 'sub', mode: 0o700, mtime: 1_500_000_400, dir: true },
      { path: '.', mode: 0o750, mtime: 1_500_000_500, dir: true },
    ];
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    // files first, then directories from the deepest: creating a file changes its directory's mtime
    for (const entry of entries) {
      const path = join(tree, entry.path);
      if (!entry.dir) await writeFile(path, `${entry.path}\n`);
      await chmod(path, entry.mode);
      await utimes(path, entry.mtime, entry.mtime);
    }
    const describeLocal = async (root: string) => {
      const found: string[] = [];
      for (const entry of entries) {
        const info = await stat(join(root, entry.path));
        found.push(`${entry.path} ${(info.mode & 0o7777).toString(8)} ${Math.floor(info.mtimeMs / 1000)}`);
      }
      return found.sort();
    };
    const expected = entries.map((entry) => `${entry.path} ${entry.mode.toString(8)} ${entry.mtime}`).sort();
    expect(await describeLocal(tree)).toEqual(expected);

    const pulled = join(local, 'tree-pulled');
    await mkdir(pulled);
    const vars = new Variables();
    const paths = entries.map((entry) => entry.path).join(' ');
    await runOne(
      new SshJob({
        node,
        commands: [
          new Run(`mkdir -p ${REMOTE}/trees`),
          new Push(tree, `${REMOTE}/trees`, { recurse: true, preserve: true }),
          new Run(`cd ${REMOTE}/trees/tree && stat -c '%n %a %Y' ${paths}`, {
            capture: new Capture('remote', vars),
          }),
          new Pull(`${REMOTE}/trees/tree`, pulled, { recurse: true, preserve: true }),
        ],
      }),
    );
    const remote = String(vars.get('remote')).split('\n').sort();
    expect(remote).toEqual(expected);
    expect(await describeLocal(join(pulled, 'tree'))).toEqual(expected);
    expect(await readFile(join(pulled, 'tree', 'sub', 'deeper', 'leaf.sh'), 'utf8')).toBe(
      'sub/deeper/leaf.sh\n',
    );
  });

  it('without preserve, a pulled file or directory gets the remote mode less the umask, as with scp', async () => {
    const node = track(loopbackNode());
    const pulled = join(local, 'modes-pulled');
    await mkdir(pulled);
    // a local file that exists keeps its mode, as with scp
    await writeFile(join(pulled, 'existing'), 'before\n', { mode: 0o600 });
    const umask = process.umask();
    await runOne(
      new SshJob({
        node,
        commands: [
          new Run(
            `mkdir -p ${REMOTE}/modes/private && echo key > ${REMOTE}/modes/key && chmod 600 ${REMOTE}/modes/key` +
              ` && echo run > ${REMOTE}/modes/run.sh && chmod 755 ${REMOTE}/modes/run.sh && chmod 700 ${REMOTE}/modes/private` +
              ` && echo shared > ${REMOTE}/modes/shared && chmod 666 ${REMOTE}/modes/shared` +
              ` && echo again > ${REMOTE}/modes/existing && chmod 644 ${REMOTE}/modes/existing`,
          ),
          new Pull(
            [
              `${REMOTE}/modes/key`,
              `${REMOTE}/modes/run.sh`,
              `${REMOTE}/modes/shared`,
              `${REMOTE}/modes/existing`,
            ],
            pulled,
          ),
          new Pull(`${REMOTE}/modes/private`, join(pulled, 'private'), { recurse: true }),
        ],
      }),
    );
    const modeOf = async (name: string) => (await stat(join(pulled, name))).mode & 0o777;
    // a private key must not come back world-readable
    expect(await modeOf('key')).toBe(0o600 & ~umask);
    expect(await modeOf('run.sh')).toBe(0o755 & ~umask);
    expect(await modeOf('private')).toBe(0o700 & ~umask);
    // the umask applies: a world-writable remote file is not world-writable here
    expect(await modeOf('shared')).toBe(0o666 & ~umask);
    expect(await modeOf('existing')).toBe(0o600);
    expect(await readFile(join(pulled, 'existing'), 'utf8')).toBe('again\n');
  });

  it('a directory without recurse is an error, both ways', async () => {
    const node = track(loopbackNode());
    const dir = join(local, 'plain-dir');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'file'), 'x\n');
    const pushError = await runFailing(new SshJob({ node, command: new Push(dir, `${REMOTE}/plain-dir`) }));
    expect(pushError).toMatchObject({ code: 'ERR_LOCAL_FILE' });
    expect((pushError as Error).message).toBe(
      `${dir} is a directory: it is copied only with recurse: true (jobgraph push -r)`,
    );
    const pullError = await runFailing(
      new SshJob({ node, command: new Pull(REMOTE, join(local, 'nowhere')) }),
    );
    expect(pullError).toMatchObject({ code: 'ERR_SFTP' });
    expect((pullError as Error).message).toBe(
      `${REMOTE} is a directory: it is copied only with recurse: true (jobgraph pull -r)`,
    );
  });

  it('Pull of a missing remote file: ERR_SFTP naming the node and the path', async () => {
    const node = track(loopbackNode());
    const missing = `${REMOTE}/no-such-file`;
    const error = await runFailing(new SshJob({ node, command: new Pull(missing, join(local, 'never')) }));
    expect(error).toMatchObject({ code: 'ERR_SFTP', node: LOOPBACK });
    expect((error as Error).message).toBe(
      `Pull of ${missing} on ${LOOPBACK} failed: no such file or directory`,
    );
    expect(existsSync(join(local, 'never'))).toBe(false);
  });

  it("a missing directory on either side is named: the node's for a Push, the local one (before connecting) for a Pull", async () => {
    const node = track(loopbackNode());
    const push = await runFailing(new SshJob({ node, command: new Push(oneMiB, `${REMOTE}/no-dir/f`) }));
    expect((push as Error).message).toBe(
      `Push of ${oneMiB} to ${REMOTE}/no-dir/f on ${LOOPBACK} failed: no such file or directory (is there a directory ${REMOTE}/no-dir on the node?)`,
    );
    // (a rename's raw ENOTDIR, or "cannot write …: ENOENT")
    for (const into of [join(local, 'no-dir') + '/', join(local, 'no-dir', 'f')]) {
      const pull = await runFailing(new SshJob({ node, command: new Pull(`${REMOTE}/f`, into) }));
      expect(pull).toMatchObject({ code: 'ERR_LOCAL_FILE' });
      expect((pull as Error).message).toMatch(/: no local directory .*no-dir\/? \(make it first\)$/);
    }
    // a recursive Pull makes its destination itself, the directories above it too
    for (const into of [join(local, 'made', 'deep'), `${join(local, 'made2')}/`]) {
      const job = new SshJob({ node, command: new Pull(REMOTE, into, { recurse: true }) });
      expect(await new Scheduler({ jobs: [job] }).run()).toBe(true);
      expect(existsSync(into)).toBe(true);
    }
  });

  it('Push to a remote path that is not writable: ERR_SFTP', async () => {
    const node = track(loopbackNode());
    const error = await runFailing(new SshJob({ node, command: new Push(oneMiB, '/proc/jobgraph-test') }));
    expect(error).toMatchObject({ code: 'ERR_SFTP', node: LOOPBACK });
    expect((error as Error).message).toMatch(
      new RegExp(`^Push of ${oneMiB} to /proc/jobgraph-test on ${LOOPBACK.replace(/\./g, '\\.')} failed: `),
    );
  });

  it('Push of a missing local file: ERR_LOCAL_FILE, before connecting', async () => {
    const node = track(loopbackNode());
    const missing = join(local, 'no-such-file');
    const error = await runFailing(new SshJob({ node, command: new Push(missing, REMOTE) }));
    expect(error).toMatchObject({ code: 'ERR_LOCAL_FILE', message: `Push: local file ${missing} not found` });
    expect(node.connectionCount).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

describe('binary output', () => {
  it('1 MiB of random bytes does not break the connection; the next command works', async () => {
    const node = track(loopbackNode());
    await runOne(
      new SshJob({ node, commands: [new Run('head -c 1M /dev/urandom'), new Run('echo still alive')] }),
    );
    const out = recorder(node).stdout();
    expect(out).toContain('\uFFFD');
    expect(out.endsWith('still alive\n')).toBe(true);
    await runOne(new SshJob({ node, command: 'echo next job' }));
    expect(recorder(node).stdout().endsWith('still alive\nnext job\n')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------

describe('LocalNode jobs', () => {
  it('Run with a pipe, RunString and RunScript with an include', async () => {
    const formatter = new RecordingFormatter();
    const node = new LocalNode({ formatter });
    const string = installs(new RunString('#!/bin/bash\necho "local $1 $(basename "$0")"\n', ['arg']));
    const script = installs(
      new RunScript(fixture('needsinclude.sh'), ['here'], { includes: [fixture('inclusion.sh')] }),
    );
    const job = new SshJob({ node, commands: [new Run("printf 'a\\nb\\nc\\n' | wc -l"), string, script] });
    await runOne(job);
    expect(
      formatter
        .stdout()
        .split('\n')
        .map((line) => line.trim()),
    ).toEqual([
      '3',
      `local arg ${string.remoteName}`,
      'included_function called with 1 args: here',
      'INCLUDED_VALUE=from-inclusion',
      '',
    ]);
  });

  it('Push and Pull on the LocalNode copy locally', async () => {
    const node = new LocalNode({ formatter: new RecordingFormatter() });
    const source = join(local, 'local-source.txt');
    await writeFile(source, 'local copy\n');
    const intoDir = join(local, 'local-dir');
    await mkdir(intoDir);
    const pulled = join(local, 'local-pulled.txt');
    await runOne(new SshJob({ node, commands: [new Push(source, intoDir), new Pull(source, pulled)] }));
    expect(await readFile(join(intoDir, 'local-source.txt'), 'utf8')).toBe('local copy\n');
    expect(await readFile(pulled, 'utf8')).toBe('local copy\n');
  });
});

// ---------------------------------------------------------------------------------------

describe('labels, listing and DOT', () => {
  it('textLabel, graphLabel (falsy labels skipped) and details', () => {
    const node = loopbackNode();
    const job = new SshJob({
      node,
      commands: [
        new Run('echo first'),
        new Run('true', { label: '' }),
        new RunString('#!/bin/bash\n# comment\necho hello from $(hostname)\n', ['arg1'], {
          remoteName: 'hello.sh',
        }),
        new Pull('/etc/hostname', 'hostname-copy'),
      ],
    });
    expect(job.textLabel()).toBe('echo first.. + 3');
    const graph = `??: ${LOOPBACK}\necho first\nRunString: echo hello from... arg1\nPull: /etc/hostname into hostname-copy`;
    expect(job.graphLabel()).toBe(graph);
    expect(job.details()).toBe(graph);
    const single = new SshJob({ node, command: 'hostname', label: 'my label' });
    expect(single.textLabel()).toBe('hostname');
    // apssh leaves a job's label out of graphs; jobgraph shows it first
    expect(single.graphLabel()).toBe(`??: my label\n${LOOPBACK}\nhostname`);
    expect(new SshJob({ node, command: 'hostname', label: '' }).graphLabel()).toBe(
      `??: ${LOOPBACK}\nhostname`,
    );
    expect(new SshJob({ node, command: new Run('true', { label: '' }) }).textLabel()).toBe('');
  });

  it('a scheduler of SshJobs: list() and toDot() (apssh section 5.1, adapted)', () => {
    const loopback = loopbackNode();
    const target = targetNode(0, gatewayNode());
    const localNode = new LocalNode();
    const scheduler = new Scheduler();
    const check = new SshJob({ node: loopback, command: 'hostname', label: 'check lease', scheduler });
    const hello = new SshJob({
      node: target,
      commands: [
        new RunString('#!/bin/bash\n# comment\necho hello from $(hostname)\n', ['arg1'], {
          remoteName: 'hello.sh',
        }),
        new Pull('/etc/hostname', 'hostname-t1'),
      ],
      required: check,
      scheduler,
    });
    new SshJob({
      node: loopback,
      command: new Run('tcpdump -i eth0', { label: 'capture' }),
      forever: true,
      critical: false,
      required: check,
      scheduler,
    });
    new SshJob({ node: localNode, command: 'ls -l hostname-t1', required: hello, scheduler });
    const t1 = `root@${bed.gateway.hostname}->root@${bed.targets[0].hostname}`;
    expect(scheduler.list()).toBe(
      [
        '1 ⚠   ⚐   <SshJob `check lease`> [not done] ',
        '2 ⚠   ⚐   <SshJob `RunString: echo hello from... arg1.. + 1`> [not done] requires={1}',
        '3     ⚐ ∞ <SshJob `capture`> [not done] requires={1}',
        '4 ⚠   ⚐   <SshJob `ls -l hostname-t1`> [not done] requires={2}',
        '',
      ].join('\n'),
    );
    expect(scheduler.list({ details: true })).toContain(
      `<SshJob \`check lease\`> [not done] \n1: ${LOOPBACK}\nhostname\n2 ⚠`,
    );
    expect(scheduler.toDot()).toBe(
      [
        'digraph asynciojobs{',
        'compound=true;',
        'graph [];',
        // the job's label first (apssh leaves it out of graphs)
        '1 [style="rounded",label="1: check lease',
        LOOPBACK,
        'hostname",shape="box",color="red",penwidth="2"]',
        `2 [style="rounded",label="2: ${t1}`,
        'RunString: echo hello from... arg1',
        'Pull: /etc/hostname into hostname-t1",shape="box",color="red",penwidth="2"]',
        '1 -> 2;',
        `3 [style="rounded,dashed",label="3: ${LOOPBACK}`,
        'capture",shape="box",penwidth="0.5"]',
        '1 -> 3;',
        `4 [style="rounded",label="4: ${localNode.toString()}`,
        'ls -l hostname-t1",shape="box",color="red",penwidth="2"]',
        '2 -> 4;',
        '}',
        '',
      ].join('\n'),
    );
    expect(loopback.connectionCount + target.connectionCount).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

describe('events', () => {
  it('cmd:start, cmd:line and cmd:done carry the job, the node, the stream and the outcome', async () => {
    const node = track(loopbackNode());
    const job = new SshJob({
      node,
      critical: false,
      commands: [new Run('echo out1; echo err1 >&2; printf out2'), new Run('exit 4', { label: 'four' })],
    });
    const scheduler = new Scheduler({ jobs: [job] });
    const lines: Array<EventOf<'cmd:line'>> = [];
    const starts: Array<EventOf<'cmd:start'>> = [];
    const dones: Array<EventOf<'cmd:done'>> = [];
    scheduler.on('cmd:line', (event) => lines.push(event));
    scheduler.on('cmd:start', (event) => starts.push(event));
    scheduler.on('cmd:done', (event) => dones.push(event));
    expect(await scheduler.run()).toBe(true);
    expect(job.result()).toBe(4);
    expect(lines.every((event) => event.job === job && event.node === LOOPBACK)).toBe(true);
    expect(lines.filter((event) => event.stream === 'stdout').map((event) => event.line)).toEqual([
      'out1\n',
      'out2',
    ]);
    expect(lines.filter((event) => event.stream === 'stderr').map((event) => event.line)).toEqual(['err1\n']);
    expect(starts.map(({ job: j, node: n, index, command }) => ({ j, n, index, command }))).toEqual([
      { j: job, n: LOOPBACK, index: 1, command: 'echo out1; echo err1 >&2; printf out2' },
      { j: job, n: LOOPBACK, index: 2, command: 'four' },
    ]);
    expect(dones).toMatchObject([
      { job, node: LOOPBACK, index: 1, exitCode: 0, signal: null, ok: true },
      { job, node: LOOPBACK, index: 2, command: 'four', exitCode: 4, signal: null, ok: false },
    ]);
    // the node's formatter got the same lines
    expect(recorder(node).stdout()).toBe('out1\nout2');
  });
});

// ---------------------------------------------------------------------------------------

describe('X11 forwarding', () => {
  let xvfb: ChildProcess | undefined;
  let display = '';
  let unavailable = '';
  const savedDisplay = process.env.DISPLAY;

  const exec = (file: string, args: string[], timeout: number) =>
    new Promise<{ ok: boolean; output: string }>((resolve) => {
      execFile(
        file,
        args,
        { timeout, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
        (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}` }),
      );
    });
  const has = async (program: string) => (await exec('sh', ['-c', `command -v ${program}`], 10_000)).ok;

  beforeAll(async () => {
    if (!(await has('Xvfb')) || !(await has('xdpyinfo'))) {
      const lock = ['-o', 'DPkg::Lock::Timeout=120'];
      const update = await exec('apt-get', [...lock, 'update'], 300_000);
      const install = await exec(
        'apt-get',
        [...lock, 'install', '-y', '--no-install-recommends', 'xvfb', 'x11-utils'],
        400_000,
      );
      if (!(await has('Xvfb')) || !(await has('xdpyinfo'))) {
        unavailable = `xvfb/x11-utils could not be installed: ${(install.ok ? update.output : install.output).trim().split('\n').slice(-3).join(' | ')}`;
        return;
      }
    }
    // :97, or the next display without a lock file
    let number = 97;
    while (existsSync(`/tmp/.X${number}-lock`) && number < 120) number++;
    display = `:${number}`;
    const socket = `/tmp/.X11-unix/X${number}`;
    const child = spawn('Xvfb', [display, '-nolisten', 'tcp'], { stdio: 'ignore' });
    xvfb = child;
    child.on('error', () => undefined);
    for (let i = 0; i < 200 && !existsSync(socket) && child.exitCode === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!existsSync(socket)) unavailable = `Xvfb ${display} did not start (exit code ${child.exitCode})`;
  }, 900_000);

  afterAll(async () => {
    if (savedDisplay === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = savedDisplay;
    const child = xvfb;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('Run with x11: the remote DISPLAY is set and xdpyinfo reaches the local X server', async (context) => {
    if (unavailable !== '') {
      console.warn(`X11 test skipped: ${unavailable}`);
      context.skip(unavailable);
      return;
    }
    process.env.DISPLAY = display;
    const node = track(loopbackNode());
    await runOne(
      new SshJob({ node, command: new Run('echo DISPLAY=$DISPLAY; xdpyinfo | head -3', { x11: true }) }),
    );
    const out = recorder(node).stdout();
    expect(out).toMatch(/^DISPLAY=localhost:\d+\.0\n/);
    const remoteDisplay = (/^DISPLAY=(.*)$/m.exec(out) ?? [])[1] ?? '';
    expect(out).toContain(`name of display:    ${remoteDisplay}\n`);
    expect(out).toMatch(/version number: +11\.0\n/);
    // sshd added the session's cookie to the remote ~/.Xauthority (as with ssh -X): remove it
    const number = remoteDisplay.replace(/^localhost:(\d+)\.0$/, '$1');
    await runOne(new SshJob({ node, command: `xauth remove "$(hostname)/unix:${number}"` }));
    // without x11, no DISPLAY on the remote side
    await runOne(new SshJob({ node, command: 'echo DISPLAY=$DISPLAY.' }));
    expect(recorder(node).stdout().endsWith('DISPLAY=.\n')).toBe(true);
  });

  it('an X server that checks its cookie accepts the client: the server gets a fake cookie, the display its real one (as ssh -X)', async (context) => {
    if (unavailable !== '') {
      console.warn(`X11 test skipped: ${unavailable}`);
      context.skip(unavailable);
      return;
    }
    // a second server, with authorization, and its cookie in an Xauthority file of our own
    let number = Number(display.slice(1)) + 1;
    while (existsSync(`/tmp/.X${number}-lock`) && number < 140) number++;
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-xauth-'));
    const authority = join(dir, 'Xauthority');
    const cookie = randomBytes(16).toString('hex');
    await new Promise<void>((resolve, reject) =>
      execFile('xauth', ['-f', authority, 'add', `:${number}`, 'MIT-MAGIC-COOKIE-1', cookie], (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    const server = spawn('Xvfb', [`:${number}`, '-nolisten', 'tcp', '-auth', authority], { stdio: 'ignore' });
    server.on('error', () => undefined);
    const savedAuthority = process.env.XAUTHORITY;
    try {
      for (let i = 0; i < 200 && !existsSync(`/tmp/.X11-unix/X${number}`) && server.exitCode === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      process.env.DISPLAY = `:${number}`;
      process.env.XAUTHORITY = authority;
      const node = track(loopbackNode());
      await runOne(
        new SshJob({ node, command: new Run('xdpyinfo | head -3; echo $DISPLAY', { x11: true }) }),
      );
      const out = recorder(node).stdout();
      // (the random cookie of ssh2 went through as it was: "Invalid MIT-MAGIC-COOKIE-1 key")
      expect(out).toMatch(/version number: +11\.0\n/);
      // the remote side holds the fake cookie only
      const remoteDisplay = out.trim().split('\n').at(-1) ?? '';
      const remoteNumber = remoteDisplay.replace(/^localhost:(\d+)\.0$/, '$1');
      await runOne(
        new SshJob({
          node,
          command: `xauth list "$(hostname)/unix:${remoteNumber}"; xauth remove "$(hostname)/unix:${remoteNumber}"`,
        }),
      );
      expect(recorder(node).stdout()).not.toContain(cookie);
    } finally {
      if (savedAuthority === undefined) delete process.env.XAUTHORITY;
      else process.env.XAUTHORITY = savedAuthority;
      server.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
