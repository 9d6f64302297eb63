/**
 * `jobgraph run --log FILE.jsonl` (the real binary, a LocalNode scenario): the events of the run as
 * JSON Lines that fit docs/events.schema.json, jobs by their scenario ids, output lines only with
 * --log-output, an environment value never; a path that cannot be written fails before the run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { eventually, jobgraph, root, start, tempDir } from './binary.js';

const schema = JSON.parse(await readFile(resolve(root, 'docs/events.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

const SECRET = 'env-value-that-must-not-be-logged';

/** `first` prints (and uses an environment value), `second` fails, `third` never runs. */
function scenarioText(marker: string): string {
  return `nodes:
  - id: local
    localnode: true
jobs:
  - id: first
    node: local
    commands:
      - type: Run
        command: echo hello from first; test -n "$TOKEN"; touch ${marker}
        env:
          TOKEN: ${SECRET}
  - id: second
    node: local
    required: first
    commands:
      - type: Run
        command: echo failing >&2; exit 4
  - id: third
    node: local
    required: second
    commands:
      - type: Run
        command: echo never
`;
}

async function setUp() {
  const dir = await tempDir('jobgraph-log-');
  const marker = join(dir, 'ran');
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, scenarioText(marker));
  return { dir, marker, file };
}

/** The log's lines, each parsed and checked against the schema. */
async function readLog(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  expect(text).not.toContain(SECRET);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (!validate(record)) throw new Error(`${line}\n${ajv.errorsText(validate.errors)}`);
      return record;
    });
}

describe('jobgraph run --log', () => {
  it('writes the run as JSON Lines: run, jobs by their ids, commands with their node and exit; no output lines', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    const result = await jobgraph(['run', file, '--log', log]);
    expect(result.code).toBe(1);
    const lines = await readLog(log);
    expect(lines[0]).toMatchObject({
      type: 'run:plan',
      jobs: [
        { id: 'first', required: [], critical: true, forever: false },
        { id: 'second', required: ['first'] },
        { id: 'third', required: ['second'] },
      ],
    });
    expect(lines[1]).toMatchObject({ type: 'run:start', jobs: 3 });
    expect(lines.some((line) => line.type === 'run:done' && line.ok === false)).toBe(true);
    const of = (type: string, id: string) =>
      lines.find((line) => line.type === type && (line.job as { id: string } | undefined)?.id === id);
    expect(of('job:done', 'first')).toMatchObject({ node: expect.stringMatching(/@LOCALNODE$/), result: 0 });
    expect(of('cmd:done', 'first')).toMatchObject({ index: 1, exitCode: 0, ok: true });
    expect(of('cmd:done', 'second')).toMatchObject({ exitCode: 4, ok: false });
    expect(of('job:failed', 'second')).toMatchObject({ critical: true, error: expect.stringContaining('4') });
    expect(of('job:start', 'third')).toBeUndefined();
    expect(lines.some((line) => line.type === 'cmd:line')).toBe(false);
  });

  it('--log-output adds the output lines, stdout and stderr', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    expect((await jobgraph(['run', file, '--log', log, '--log-output'])).code).toBe(1);
    const lines = (await readLog(log)).filter((line) => line.type === 'cmd:line');
    expect(lines).toEqual([
      expect.objectContaining({
        job: { id: 'first', label: expect.any(String) },
        stream: 'stdout',
        line: 'hello from first\n',
      }),
      expect.objectContaining({
        job: { id: 'second', label: expect.any(String) },
        stream: 'stderr',
        line: 'failing\n',
      }),
    ]);
  });

  it('a --log, --report or --graph that cannot be written: exit 2 before anything runs, one line', async () => {
    const { dir, marker, file } = await setUp();
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a directory\n');
    for (const [option, path, message] of [
      ['--log', join(blocker, 'run.jsonl'), `jobgraph: cannot write the log ${join(blocker, 'run.jsonl')}: `],
      [
        '--report',
        join(blocker, 'report'),
        `jobgraph: cannot write the report in ${join(blocker, 'report')}: `,
      ],
      [
        '--report',
        blocker,
        `jobgraph: cannot write the report in ${blocker}: it exists and is not a directory\n`,
      ],
      // written after the run: its directory is checked before it (it failed after the run)
      [
        '--graph',
        join(dir, 'nodir', 'jobs.svg'),
        `jobgraph: cannot write --graph ${join(dir, 'nodir', 'jobs.svg')}: no such directory ${join(dir, 'nodir')}\n`,
      ],
      // root may write there by its permissions; Node's recursive mkdir then looped for good
      ['--report', '/proc', 'jobgraph: cannot write the report in /proc: '],
    ] as const) {
      const result = await jobgraph(['run', file, option, path]);
      expect(result.code).toBe(2);
      expect(result.stderr.startsWith(message)).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
      await expect(stat(marker)).rejects.toThrow(/ENOENT/);
    }
  });

  it('a --log whose writes fail during the run (a full disk: /dev/full): the run goes on, then one line says so, exit 1', async () => {
    const { dir } = await setUp();
    const marker = join(dir, 'done');
    const file = join(dir, 'fine.yaml');
    await writeFile(
      file,
      `nodes: [{ id: local, localnode: true }]\njobs: [{ id: only, node: local, commands: [{ type: Run, command: touch ${marker} }] }]\n`,
    );
    const result = await jobgraph(['run', file, '--log', '/dev/full']);
    // the scenario ran and succeeded; the lost log alone makes the exit code 1
    await expect(stat(marker)).resolves.toBeDefined();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^jobgraph: cannot write the log \/dev\/full: .*ENOSPC|no space/im);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('two runs with one --log (or one --report) at once: the second is refused before it runs; a lock left by a dead run is taken over', async () => {
    const { dir } = await setUp();
    const file = join(dir, 'slow.yaml');
    await writeFile(
      file,
      // runs until the test has made its checks (FLAG), at most 30 s: a fixed sleep ran out on a busy machine
      `nodes: [{ id: local, localnode: true }]\njobs: [{ id: only, node: local, commands: [{ type: Run, command: 'for i in $(seq 300); do test -e ${join(dir, 'FLAG')} && break; sleep 0.1; done' }] }]\n`,
    );
    const log = join(dir, 'shared.jsonl');
    const report = join(dir, 'shared-report');
    const first = start(['run', file, '--log', log, '--report', report]);
    try {
      expect(
        await eventually(async () => existsSync(`${log}.lock`) && existsSync(join(report, '.jobgraph.lock'))),
      ).toBe(true);
      const second = await jobgraph(['run', file, '--log', log]);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `^jobgraph: cannot write the log ${log}: another jobgraph run \\(pid \\d+\\) is writing it \\(${log}\\.lock\\); if that run is gone, remove ${log}\\.lock\\n$`,
        ),
      );
      // a resume of the log being written would run its jobs in flight a second time, at once
      const resumed = await jobgraph(['run', file, '--resume', log]);
      expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(
          new RegExp(
            `^jobgraph: --resume ${log}: another jobgraph run \\(pid \\d+\\) is still writing it; resume once it has ended\\n$`,
          ),
        ),
      });
      // another name of the log (a link) takes the same lock
      await symlink(log, join(dir, 'alias.jsonl'));
      expect((await jobgraph(['run', file, '--log', join(dir, 'alias.jsonl')])).code).toBe(2);
      const third = await jobgraph(['run', file, '--report', report]);
      expect(third.code).toBe(2);
      expect(third.stderr).toContain(`cannot write the report in ${report}: another jobgraph run`);
      await writeFile(join(dir, 'FLAG'), '');
      expect((await first.done).code).toBe(0);
      // released at the end; the log is the first run's alone
      expect(existsSync(`${log}.lock`)).toBe(false);
      expect(existsSync(join(report, '.jobgraph.lock'))).toBe(false);
      expect((await readLog(log)).filter((line) => line.type === 'run:start')).toHaveLength(1);
      // a lock whose process is gone (killed): taken over
      await writeFile(`${log}.lock`, `999999999@${hostname()}\n`);
      expect((await jobgraph(['run', file, '--log', log])).code).toBe(0);
      expect(existsSync(`${log}.lock`)).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 60_000);

  it('--log-output without --log, --log with --dry-run, an empty --log: usage errors', async () => {
    const { file } = await setUp();
    const cases: [string[], string][] = [
      [
        ['--log-output'],
        'jobgraph: --log-output goes with --log FILE.jsonl: it adds the output lines to that log\n',
      ],
      [
        ['--dry-run', '--log', 'x.jsonl'],
        'jobgraph: --log cannot be used with --dry-run: a dry run has no events\n',
      ],
      [['--log', ''], 'jobgraph: --log expects a file name (FILE.jsonl)\n'],
      // the report's own events.jsonl would replace the log; or the log would be the report's directory
      [
        ['--log', 'out/events.jsonl', '--report', 'out'],
        'jobgraph: --log out/events.jsonl: --report out writes a file of that name: put the log elsewhere\n',
      ],
      [
        ['--log', 'same', '--report', 'same'],
        "jobgraph: --log same and --report same: the report's directory would be the log's file\n",
      ],
    ];
    for (const [args, message] of cases) {
      const result = await jobgraph(['run', file, ...args]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: message });
    }
  });

  it('a --log that is the scenario, or the events.jsonl of the report by another name (a link): refused, the files kept', async () => {
    const { dir, file } = await setUp();
    const before = await readFile(file, 'utf8');
    let result = await jobgraph(['run', file, '--log', file]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: `jobgraph: --log ${file} is the scenario being run: the log would replace it\n`,
    });
    expect(await readFile(file, 'utf8')).toBe(before);
    const report = join(dir, 'report');
    await mkdir(report);
    await symlink(report, join(dir, 'link'));
    result = await jobgraph(['run', file, '--report', report, '--log', join(dir, 'link', 'events.jsonl')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/writes a file of that name: put the log elsewhere\n$/);
  });

  it('jobgraph report LOG -o LOG: refused, the log kept', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    await jobgraph(['run', file, '--log', log]);
    const before = await readFile(log, 'utf8');
    const result = await jobgraph(['report', log, '-o', log]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: `jobgraph: -o ${log}: that is the log itself: the page would replace it\n`,
    });
    expect(await readFile(log, 'utf8')).toBe(before);
  });
});
