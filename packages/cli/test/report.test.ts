/**
 * `jobgraph run --report DIR`, the real binary spawned (`node packages/cli/bin/jobgraph.js …`): what
 * the report's files hold after a run that failed, one that succeeded, one interrupted by Ctrl-C, one
 * on the test bed's loopback sshd; and the exit codes when the report cannot be written.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killMatching, pgrep } from './binary.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = 'packages/cli/bin/jobgraph.js';
const bed = inject('testbed');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the binary with cwd the repository root. */
function start(args: readonly string[]): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Outcome>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
  return { child, done };
}

function jobgraph(...args: string[]): Promise<Outcome> {
  return start(args).done;
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobgraph-report-'));
  temps.push(dir);
  return dir;
}

/** Polls `check` every 100 ms, at most `tries` times. @returns whether it became true */
async function eventually(check: () => Promise<boolean>, tries = 200): Promise<boolean> {
  for (let attempt = 0; attempt < tries; attempt += 1) {
    if (await check()) return true;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  return false;
}

interface JobEntry {
  id: string;
  label: string;
  node: string;
  status: string;
  result?: unknown;
  summary?: string;
  error?: string;
  reason?: string;
  start?: string;
  end?: string;
  durationMs?: number;
  attempts: number;
  required: string[];
  output?: string;
}

interface ReportFile {
  scenario: string;
  start: string;
  end: string;
  durationMs: number;
  ok: boolean;
  interrupted: boolean;
  exitCode: number;
  why: string;
  variables: string[];
  jobs: JobEntry[];
}

interface EventLine {
  time: string;
  type: string;
  job?: { id: string; label: string };
  [key: string]: unknown;
}

async function readReport(dir: string): Promise<ReportFile> {
  return JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportFile;
}

/** events.jsonl, each line parsed on its own (a line that is not JSON fails the test). */
async function readEvents(dir: string): Promise<EventLine[]> {
  const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as EventLine);
}

function jobOf(report: ReportFile, id: string): JobEntry {
  const job = report.jobs.find((entry) => entry.id === id);
  if (job === undefined) throw new Error(`no job ${id} in the report`);
  return job;
}

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A local scenario: `ok` prints on stdout and stderr, `bad` (critical) fails, `after` never runs. */
const failing = `nodes:
  - id: local
    localnode: true
jobs:
  - id: ok
    node: local
    commands:
      - type: Run
        command: echo hello report; echo warning report >&2
  - id: bad
    node: local
    required: ok
    commands:
      - type: Run
        command: 'echo about to fail; exit 3 # <b>bold</b> & co [x](y) *z*'
  - id: after
    node: local
    required: bad
    commands:
      - type: Run
        command: echo never printed
`;

/** A local scenario that succeeds and prints on stdout only. */
const succeeding = `nodes:
  - id: local
    localnode: true
jobs:
  - id: only
    node: local
    commands:
      - type: Run
        command: echo all good
`;

async function scenario(text: string, name = 'scenario.yaml'): Promise<string> {
  const file = join(await tempDir(), name);
  await writeFile(file, text);
  return file;
}

describe('jobgraph run --report, offline (a LocalNode)', () => {
  it('a failed run: report.json, events.jsonl, output logs, report.md, debrief and pictures; exit 1', async () => {
    const file = await scenario(failing);
    const dir = join(await tempDir(), 'nested', 'report');
    const secret = 's3cr3t-value-never-written';
    const result = await jobgraph('run', file, '--report', dir, '--var', `token=${secret}`);
    expect(result.code, result.stderr).toBe(1);
    // The debrief is still printed; writing the report adds nothing on stderr.
    expect(result.stdout).toContain('a CRITICAL job has raised an exception');
    expect(result.stderr).not.toContain('cannot write the report');

    const report = await readReport(dir);
    expect(report.scenario).toBe(file);
    expect(report).toMatchObject({ ok: false, interrupted: false, exitCode: 1 });
    expect(report.why).toContain('CRITICAL');
    expect(report.start).toMatch(isoTime);
    expect(report.end).toMatch(isoTime);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    expect(report.variables).toEqual(['token']);
    expect(report.jobs.map((job) => job.id)).toEqual(['ok', 'bad', 'after']);

    const ok = jobOf(report, 'ok');
    expect(ok).toMatchObject({
      label: 'echo hello report; echo warning report >&2',
      status: 'done',
      result: 0,
      summary: 'OK',
      attempts: 1,
      required: [],
      output: 'output/ok.log',
    });
    expect(ok.node).toMatch(/@LOCALNODE$/);
    expect(ok.error).toBeUndefined();
    expect(ok.start).toMatch(isoTime);
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);

    const bad = jobOf(report, 'bad');
    expect(bad).toMatchObject({ status: 'failed', required: ['ok'], output: 'output/bad.log' });
    expect(bad.error).toMatch(
      /^Command failed with exit code 3 on \S+@LOCALNODE: echo about to fail; exit 3 # <b>bold<\/b> & co \[x\]\(y\) \*z\*$/,
    );
    expect(bad).not.toHaveProperty('result');

    const after = jobOf(report, 'after');
    expect(after).toMatchObject({ status: 'idle', attempts: 0, required: ['bad'] });
    for (const key of ['start', 'end', 'durationMs', 'result', 'error', 'output']) {
      expect(after).not.toHaveProperty(key);
    }

    const events = await readEvents(dir);
    for (const event of events) expect(event.time).toMatch(isoTime);
    const of = (type: string, id: string) =>
      events.filter((event) => event.type === type && event.job?.id === id);
    // the plan first (the jobs and their requirements, for a report from the log alone), then the run
    expect(events[0]).toMatchObject({ type: 'run:plan', title: 'scenario.yaml' });
    expect((events[0] as { jobs?: { id: string }[] }).jobs?.map((job) => job.id)).toEqual([
      'ok',
      'bad',
      'after',
    ]);
    expect(events[1]?.type).toBe('run:start');
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: false });
    expect(of('job:start', 'ok')).toHaveLength(1);
    expect(of('job:done', 'ok')).toMatchObject([{ result: 0 }]);
    expect(of('job:start', 'bad')).toHaveLength(1);
    expect(of('job:failed', 'bad')).toMatchObject([{ critical: true, error: bad.error }]);
    expect(of('job:start', 'after')).toHaveLength(0);
    expect(of('cmd:line', 'ok')).toContainEqual(
      expect.objectContaining({ stream: 'stderr', line: 'warning report\n' }),
    );

    // The order between the two streams is not guaranteed: each line is checked, not their order.
    const okLog = (await readFile(join(dir, 'output/ok.log'), 'utf8')).split('\n');
    expect(okLog).toContain('hello report');
    expect(okLog).toContain('[stderr] warning report');
    expect(await readFile(join(dir, 'output/bad.log'), 'utf8')).toBe('about to fail\n');
    expect((await readdir(join(dir, 'output'))).sort()).toEqual(['bad.log', 'ok.log']);

    const markdown = await readFile(join(dir, 'report.md'), 'utf8');
    expect(markdown).toMatch(/^\| ok \| \S+@LOCALNODE \| done \| [\d.]+ s \| 0 \(OK\) \|$/m);
    expect(markdown).toMatch(
      /^\| bad \| \S+@LOCALNODE \| failed \| [\d.]+ s \| Command failed with exit code 3/m,
    );
    // what the run says is text in a Markdown viewer, not markup
    expect(markdown).toContain('exit 3 # &lt;b&gt;bold&lt;/b&gt; &amp; co \\[x\\](y) \\*z\\*');
    expect(markdown).not.toContain('<b>');
    expect(markdown).toMatch(/^\| after \| \S+@LOCALNODE \| idle \| {2}\| {2}\|$/m);
    for (const name of [
      'report.json',
      'events.jsonl',
      'debrief.txt',
      'jobs.svg',
      'topology.svg',
      'output/ok.log',
    ]) {
      expect(markdown).toContain(`](${name})`);
    }

    expect(await readFile(join(dir, 'debrief.txt'), 'utf8')).toContain(
      'a CRITICAL job has raised an exception',
    );
    const graph = await readFile(join(dir, 'jobs.svg'), 'utf8');
    expect(graph).toContain('<svg');
    expect(graph).toContain('[failed]');
    expect(graph).toContain('[idle]');
    expect(await readFile(join(dir, 'topology.svg'), 'utf8')).toContain('<svg');

    // No variable value anywhere in the report.
    for (const name of ['report.json', 'report.md', 'events.jsonl', 'debrief.txt']) {
      expect(await readFile(join(dir, name), 'utf8')).not.toContain(secret);
    }
  });

  it('a successful run into the same DIR: exit 0, the files overwritten', async () => {
    const dir = await tempDir();
    expect((await jobgraph('run', await scenario(failing), '--report', dir)).code).toBe(1);
    const result = await jobgraph('run', await scenario(succeeding), '--report', dir);
    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(dir);
    expect(report).toMatchObject({ ok: true, interrupted: false, exitCode: 0, variables: [] });
    expect(report.jobs).toMatchObject([{ id: 'only', status: 'done', result: 0, output: 'output/only.log' }]);
    expect(await readFile(join(dir, 'output/only.log'), 'utf8')).toBe('all good\n');
    const events = await readEvents(dir);
    expect(events.filter((event) => event.job !== undefined).every((event) => event.job?.id === 'only')).toBe(
      true,
    );
    expect(await readFile(join(dir, 'report.md'), 'utf8')).not.toContain('| bad |');
  });

  it('Ctrl-C: exit 130, the report says interrupted, the running job cancelled', async () => {
    const marker = `jobgraph-report-ctrlc-${process.pid}-${Date.now()}`;
    const file = await scenario(`nodes:
  - id: local
    localnode: true
jobs:
  - id: quick
    node: local
    commands:
      - type: Run
        command: echo quick
  - id: nap
    node: local
    commands:
      - type: Run
        command: sleep 300; echo ${marker}
`);
    const dir = await tempDir();
    const { child, done } = start(['run', file, '--report', dir]);
    try {
      expect(await eventually(async () => (await pgrep(marker)).length > 0)).toBe(true);
      child.kill('SIGINT');
      const result = await done;
      expect(result.code, result.stderr).toBe(130);
      const report = await readReport(dir);
      expect(report).toMatchObject({ ok: false, interrupted: true, exitCode: 130 });
      expect(jobOf(report, 'nap')).toMatchObject({ status: 'cancelled', reason: 'interrupted (Ctrl-C)' });
      expect(jobOf(report, 'nap').end).toMatch(isoTime);
      const events = await readEvents(dir);
      expect(events.some((event) => event.type === 'job:cancelled' && event.job?.id === 'nap')).toBe(true);
      expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('interrupted (Ctrl-C)');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await killMatching(marker);
    }
  }, 60_000);

  it('events.jsonl is written as the run goes: a process killed outright keeps what happened so far', async () => {
    const marker = `jobgraph-report-kill9-${process.pid}-${Date.now()}`;
    const file = await scenario(`nodes:
  - id: local
    localnode: true
jobs:
  - id: speak
    node: local
    commands:
      - type: Run
        command: echo said-before-the-kill; sleep 300; echo ${marker}
`);
    const dir = await tempDir();
    const { child, done } = start(['run', file, '--report', dir]);
    try {
      const said = async () =>
        (await readFile(join(dir, 'events.jsonl'), 'utf8').catch(() => '')).includes('said-before-the-kill');
      expect(await eventually(said)).toBe(true);
      // the command line's own process (the launcher's child), killed with no chance to write more
      const [launched] = (await pgrep(`@jobgraph/source.*main.ts run ${file}`)).filter(
        (pid) => pid !== child.pid,
      );
      expect(launched).toBeDefined();
      process.kill(launched as number, 'SIGKILL');
      await done;
      const events = await readEvents(dir);
      expect(events[0]).toMatchObject({ type: 'run:plan' });
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'cmd:line', line: 'said-before-the-kill\n' }),
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await killMatching(marker);
    }
  }, 60_000);

  it('an output log that cannot be written: events.jsonl is whole all the same, one line says what failed, exit 1', async () => {
    const dir = await tempDir();
    // a file where the output directory goes: every output log fails, from the first batch on
    await writeFile(join(dir, 'output'), 'in the way\n');
    const file = await scenario(`nodes:
  - id: local
    localnode: true
jobs:
  - id: chatty
    node: local
    commands:
      - type: Run
        command: seq 1 100000
  - id: later
    node: local
    required: chatty
    commands:
      - type: Run
        command: echo later
`);
    const result = await jobgraph('run', file, '--report', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^jobgraph: cannot write the report in .*: .*\n$/);
    const events = await readEvents(dir);
    expect(events.filter((event) => event.type === 'cmd:line')).toHaveLength(100_001);
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: true });
  }, 60_000);

  it('a report that cannot be written after the run: one line on stderr; exit 1 after a success, the run’s code otherwise', async () => {
    // the directory can be written (checked before the run), but report.json is a directory
    const dir = await tempDir();
    await mkdir(join(dir, 'report.json'));
    const success = await jobgraph('run', await scenario(succeeding), '--report', dir);
    expect(success.code).toBe(1);
    expect(success.stderr.startsWith(`jobgraph: cannot write the report in ${dir}: `)).toBe(true);
    expect(success.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(success.stdout).toContain('echo all good');

    const failure = await jobgraph('run', await scenario(failing), '--report', dir);
    expect(failure.code).toBe(1);
    expect(failure.stderr.split('\n').filter((text) => text.startsWith('jobgraph:'))).toHaveLength(1);
    expect(failure.stderr).toContain(`jobgraph: cannot write the report in ${dir}: `);
  });

  it('a report directory that cannot be made: exit 2 before the run (nothing runs)', async () => {
    const blocker = join(await tempDir(), 'a-file');
    await writeFile(blocker, 'not a directory\n');
    const dir = join(blocker, 'report');
    const result = await jobgraph('run', await scenario(succeeding), '--report', dir);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(`jobgraph: cannot write the report in ${dir}: `)).toBe(true);
    expect(result.stdout).toBe('');
  });

  it('--report with --dry-run, or an empty --report: a usage error, exit 2, one line', async () => {
    const file = await scenario(succeeding);
    const dir = join(await tempDir(), 'never');
    const dry = await jobgraph('run', file, '--dry-run', '--report', dir);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toBe(
      'jobgraph: --report cannot be used with --dry-run: a dry run has nothing to report\n',
    );
    expect(dry.stdout).toBe('');
    const empty = await jobgraph('run', file, '--report', '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('jobgraph: --report expects a directory\n');
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('run --help shows --report and an example', async () => {
    const help = await jobgraph('run', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--report <dir>');
    expect(help.stdout).toMatch(/^\s+jobgraph run \S+ --report /m);
  });
});

describe('jobgraph run --report, on the test bed', () => {
  it('a run on the loopback sshd: the node, the output and the topology in the report', async () => {
    const file = await scenario(`nodes:
  - id: loopback
    hostname: ${bed.loopback.hostname}
    port: ${bed.loopback.port}
    username: root
    keys: [${bed.keys.ed25519}]
    knownHosts: ${bed.knownHosts}
    hostKeyPolicy: strict
    connectTimeout: 10s
jobs:
  - id: remote
    node: loopback
    commands:
      - type: Run
        command: echo from the loopback; echo complaint >&2
      - type: Run
        command: echo second command
`);
    const dir = await tempDir();
    const result = await jobgraph('run', file, '--report', dir);
    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(dir);
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
    const remote = jobOf(report, 'remote');
    expect(remote).toMatchObject({ status: 'done', result: 0, output: 'output/remote.log' });
    expect(remote.node).toContain(`root@${bed.loopback.hostname}`);
    const log = (await readFile(join(dir, 'output/remote.log'), 'utf8')).split('\n');
    expect(log).toContain('from the loopback');
    expect(log).toContain('[stderr] complaint');
    expect(log).toContain('second command');
    const events = await readEvents(dir);
    expect(events.filter((event) => event.type === 'cmd:done' && event.job?.id === 'remote')).toMatchObject([
      { index: 1, exitCode: 0, ok: true },
      { index: 2, exitCode: 0, ok: true },
    ]);
    expect(await readFile(join(dir, 'topology.svg'), 'utf8')).toContain(`root@${bed.loopback.hostname}`);
  }, 60_000);
});
