/**
 * `jobgraph run --resume run.jsonl` (the real binary, a LocalNode scenario): only what the logged
 * run did not achieve runs again; a resume of a resume knows what the first left out; a log that
 * is cut, edited or of another scenario is an error naming the line, before anything runs.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobgraph, tempDir } from './binary.js';

/** `first` and `fourth` succeed, `second` fails until FLAG exists, `third` requires it; each notes its runs. */
function scenarioText(dir: string): string {
  const note = (id: string) => `echo ${id} >> ${join(dir, 'runs')}`;
  return `nodes:
  - id: local
    localnode: true
jobs:
  - id: first
    node: local
    commands:
      - type: Run
        command: ${note('first')}
  - id: second
    node: local
    required: first
    commands:
      - type: Run
        command: ${note('second')}; test -e ${join(dir, 'FLAG')}
  - id: third
    node: local
    required: second
    commands:
      - type: Run
        command: ${note('third')}
  - id: fourth
    node: local
    commands:
      - type: Run
        command: ${note('fourth')}
`;
}

async function setUp() {
  const dir = await tempDir('jobgraph-resume-');
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, scenarioText(dir));
  const runs = async () =>
    (await readFile(join(dir, 'runs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).sort();
  const clearRuns = () => writeFile(join(dir, 'runs'), '');
  return { dir, file, runs, clearRuns };
}

describe('jobgraph run --resume', () => {
  it('runs only the failed job and what never ran; a resume of the resume has nothing left', async () => {
    const { dir, file, runs, clearRuns } = await setUp();
    const first = join(dir, 'run1.jsonl');
    expect((await jobgraph(['run', file, '--log', first])).code).toBe(1);
    expect(await runs()).toEqual(['first', 'fourth', 'second']);

    await writeFile(join(dir, 'FLAG'), '');
    await clearRuns();
    const second = join(dir, 'run2.jsonl');
    const resumed = await jobgraph(['run', file, '--resume', first, '--log', second]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resuming from ${first}: 2 job(s) done there left out: first, fourth\n`);
    expect(await runs()).toEqual(['second', 'third']);
    // the new log says what it left out, before its run
    const lines = (await readFile(second, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: 'run:resume', from: first, done: ['first', 'fourth'] });
    expect(lines[1]).toMatchObject({ type: 'run:plan', jobs: [{ id: 'second' }, { id: 'third' }] });
    expect(lines[2]).toMatchObject({ type: 'run:start', jobs: 2 });

    await clearRuns();
    const again = await jobgraph(['run', file, '--resume', second]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`nothing to run: every job of ${file} is done in ${second}\n`);
    expect(await runs()).toEqual([]);
  });

  it('a non-critical job whose command failed (done, its exit code the result) runs again', async () => {
    const { dir, runs, clearRuns } = await setUp();
    const file = join(dir, 'loose.yaml');
    await writeFile(
      file,
      `nodes: [{ id: local, localnode: true }]
jobs:
  - { id: fine, node: local, commands: [{ type: Run, command: 'echo fine >> ${join(dir, 'runs')}' }] }
  - id: loose
    node: local
    critical: false
    commands: [{ type: Run, command: 'echo loose >> ${join(dir, 'runs')}; test -e ${join(dir, 'FLAG')}' }]
  - { id: capture, node: local, forever: true, commands: [{ type: Run, command: 'sleep 60' }] }
`,
    );
    const log = join(dir, 'loose.jsonl');
    expect((await jobgraph(['run', file, '--log', log])).code).toBe(0);
    expect(await runs()).toEqual(['fine', 'loose']);
    await clearRuns();
    await writeFile(join(dir, 'FLAG'), '');
    const second = join(dir, 'loose2.jsonl');
    const resumed = await jobgraph(['run', file, '--resume', log, '--log', second]);
    expect(resumed.stdout).toContain(`resuming from ${log}: 1 job(s) done there left out: fine\n`);
    expect(await runs()).toEqual(['loose']);
    // the forever capture ran again beside it; once all is done, it alone is nothing to run
    const plan =
      (await readFile(second, 'utf8')).split('\n').find((line) => line.includes('"run:plan"')) ?? '';
    expect(plan).toContain('"capture"');
    const again = await jobgraph(['run', file, '--resume', second]);
    expect(again.stdout).toContain(`nothing to run: every job of ${file} is done in ${second}\n`);
  });

  it('with --dry-run: the plan of what would run', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    await jobgraph(['run', file, '--log', log]);
    const plan = await jobgraph(['run', file, '--resume', log, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('scenario: 2 job(s)');
    expect(plan.stdout).toContain('job second');
    expect(plan.stdout).toContain('job third');
    expect(plan.stdout).not.toContain('job first');
    expect(plan.stderr).toBe('');
    // the log of another scenario with the same ids: taken, and said
    const other = join(dir, 'other.yaml');
    await writeFile(other, await readFile(file, 'utf8'));
    const elsewhere = await jobgraph(['run', other, '--resume', log, '--dry-run']);
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stderr).toMatch(
      new RegExp(
        `^jobgraph: ${log}:\\d+: the logged run was of "scenario.yaml", this is "other.yaml": jobs taken by their ids\\n$`,
      ),
    );
  });

  it('a cut, edited or foreign log: exit 2 naming the line, nothing runs', async () => {
    const { dir, file, runs, clearRuns } = await setUp();
    const log = join(dir, 'run.jsonl');
    await jobgraph(['run', file, '--log', log]);
    await clearRuns();
    const text = await readFile(log, 'utf8');
    // the plan, then run:start: a log needs its run:start line
    const lines = text.trimEnd().split('\n');
    const start = lines.find((line) => line.includes('"run:start"')) ?? '';
    const variant = async (name: string, content: string) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    };
    // a line broken in the middle of the file: an edited log
    const edited = await variant(
      'edited.jsonl',
      `${lines[0]}\n${(lines[1] ?? '').slice(0, 20)}\n${lines.slice(2).join('\n')}\n`,
    );
    const array = await variant('array.jsonl', `${start}\n[1, 2]\n`);
    const foreign = await variant(
      'foreign.jsonl',
      `${start}\n${JSON.stringify({ time: '2026-01-01T00:00:00.000Z', type: 'job:done', job: { id: 'elsewhere', label: 'x' } })}\n`,
    );
    const empty = await variant('empty.jsonl', '');
    // two runs in one log (a sink given to two runs, or logs joined): the report's page was of both merged
    const joined = await variant('joined.jsonl', `${text}${text.replace(/"fourth"/g, '"later-only"')}`);
    const onlyCut = await variant('only-cut.jsonl', start.slice(0, 30));
    const binary = await variant('binary.jsonl', '\u0000\u0001\u001b[2J\u0007garbage\n');
    // a time the report could not place on its timeline ("Invalid time value", no line, before)
    const badTime = await variant('bad-time.jsonl', `${start.replace(/"time":"[^"]*"/, '"time":"x"')}\n`);
    const cases: [string, string][] = [
      [
        badTime,
        `jobgraph: ${badTime}:1: "time" is not a date (expected ISO 8601, as --log writes it), got "x"`,
      ],
      [edited, `jobgraph: ${edited}:2: not a JSON line (`],
      [array, `jobgraph: ${array}:2: expected an event (a JSON object with "type" and "time"), got "[1, 2]"`],
      [foreign, `jobgraph: ${foreign}:2: job "elsewhere" is not in the scenario`],
      [empty, `jobgraph: ${empty}: not a jobgraph event log (no run:start line`],
      [
        onlyCut,
        `jobgraph: ${onlyCut}:1: the last line is cut (the run was stopped while writing it), and no run:start line`,
      ],
      [binary, `jobgraph: ${binary}:1: not a JSON line (`],
      [join(dir, 'missing.jsonl'), `jobgraph: cannot read the log ${join(dir, 'missing.jsonl')}: `],
      // read line by line, each line bounded: a device that never ends is no log (it was read whole)
      ['/dev/zero', 'jobgraph: /dev/zero:1: a line longer than 64 MiB: not a jobgraph event log'],
    ];
    for (const [path, message] of cases) {
      const result = await jobgraph(['run', file, '--resume', path]);
      expect(result.code, path).toBe(2);
      expect(result.stderr.startsWith(message), result.stderr).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      // nothing of the file's bytes reaches the terminal as they are
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
      expect(result.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    }
    // jobgraph report reads logs the same way (a job of another scenario is no error there)
    for (const [path, message] of cases.filter(([path]) => path !== foreign)) {
      const result = await jobgraph(['report', path, '-o', join(dir, 'never.html')]);
      expect(result.code, path).toBe(2);
      expect(result.stderr.startsWith(message), result.stderr).toBe(true);
    }
    await expect(readFile(join(dir, 'never.html'))).rejects.toThrow(/ENOENT/);
    const page = join(dir, 'joined.html');
    const both = await jobgraph(['report', joined, '-o', page]);
    expect(both.code).toBe(0);
    expect(both.stderr).toBe(
      `jobgraph: ${joined} holds 2 runs (one sink given to several runs, or logs joined): the page shows the first\n`,
    );
    const html = await readFile(page, 'utf8');
    expect(html).toContain('fourth');
    expect(html).not.toContain('later-only');
    expect(await runs()).toEqual([]);
    await appendFile(log, ''); // the original log still reads
    expect((await jobgraph(['run', file, '--resume', log, '--dry-run'])).code).toBe(0);
  });

  it('a log whose last line is cut (the run killed while writing it): that line left out, said, the rest used', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    await jobgraph(['run', file, '--log', log]);
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    const cut = join(dir, 'cut.jsonl');
    // a line begun after the whole log (cutting its own last line, which may be a job's end, made
    // what the log shows done depend on the order the jobs ended in)
    await writeFile(cut, `${lines.join('\n')}\n${(lines.at(-1) ?? '').slice(0, 25)}`);
    const plan = await jobgraph(['run', file, '--resume', cut, '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toBe(
      `jobgraph: ${cut}:${lines.length + 1}: the last line is cut (the run was stopped while writing it): left out\n`,
    );
    expect(plan.stdout).toContain('2 job(s) done there left out: first, fourth');
    const page = await jobgraph(['report', cut, '-o', join(dir, 'cut.html')]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stderr).toContain('the last line is cut');
  });

  it('a log an editor saved with a byte order mark reads as it did', async () => {
    const { dir, file } = await setUp();
    const log = join(dir, 'run.jsonl');
    await jobgraph(['run', file, '--log', log]);
    const bom = join(dir, 'bom.jsonl');
    await writeFile(bom, `\ufeff${await readFile(log, 'utf8')}`);
    const plan = await jobgraph(['run', file, '--resume', bom, '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('2 job(s) done there left out: first, fourth');
    expect((await jobgraph(['report', bom, '-o', join(dir, 'bom.html')])).code).toBe(0);
  });
});
