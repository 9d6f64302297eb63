/**
 * The live view in a real terminal: tmux runs `jobgraph run` on a scenario, and the test reads the
 * screen with `capture-pane` while it runs (twice at least, and after a resize), then at the end:
 * the summary bar, one line per running job with its last output line, the failure kept with its
 * error, a clean redraw at the new width, and one frame left above the debrief. On the same
 * terminal with CI=true (or NO_COLOR, TERM=dumb, --no-live: liveViewWanted) the plain lines.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { liveViewWanted } from '../src/cli/live-view.js';
import { bin, tempDir } from './binary.js';

const run = promisify(execFile);
const sessions: string[] = [];

async function ensureTmux(): Promise<void> {
  if (existsSync('/usr/bin/tmux')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write('live-tmux: installing tmux with apt-get\n');
  await run('apt-get', ['update'], { env, timeout: 300_000 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'tmux'], { env, timeout: 300_000 });
}

/** A session kept for the whole file: the tmux server exiting with a test's last session raced the next test's new-session ("server exited unexpectedly"). */
const keeper = `jglive-keeper-${process.pid}`;
beforeAll(async () => {
  await ensureTmux();
  await run('tmux', ['new-session', '-d', '-s', keeper, 'sleep 3600']);
}, 900_000);
afterAll(async () => {
  await run('tmux', ['kill-session', '-t', keeper]).catch(() => undefined);
});
afterEach(async () => {
  for (const session of sessions.splice(0))
    await run('tmux', ['kill-session', '-t', session]).catch(() => undefined);
});

/** Starts `command` in a new detached tmux session of `columns` × `rows`. */
async function tmux(command: string, columns: number, rows: number): Promise<string> {
  const session = `jglive-${process.pid}-${sessions.length}`;
  sessions.push(session);
  await run('tmux', ['new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), command]);
  return session;
}

/** The screen (with `history`, the scrollback too), trailing spaces and empty lines dropped. */
async function screen(session: string, history = false): Promise<string[]> {
  const { stdout } = await run('tmux', [
    'capture-pane',
    '-p',
    '-t',
    session,
    ...(history ? ['-S', '-'] : []),
  ]);
  const lines = stdout.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** Polls the screen every 100 ms until `check` holds (bounded), and returns that screen. */
async function until(session: string, what: string, check: (lines: string[]) => boolean, limit = 20_000) {
  const deadline = Date.now() + limit;
  for (;;) {
    const lines = await screen(session);
    if (check(lines)) return lines;
    if (Date.now() > deadline)
      throw new Error(`not within ${limit} ms: ${what}; the screen:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// the bar gives its room to the counts on a narrow terminal
const SUMMARY = /^jobgraph (?:▕[█░]+▏ )?(\d+)\/(\d+) done · (\d+) running · (\d+) waiting · (\d+) failed/;

/** A scenario of one job `a` on the local node running `command` (single quotes inside are not allowed). */
async function oneJobScenario(command: string): Promise<string> {
  const file = join(await tempDir('jobgraph-live-'), 'scenario.yaml');
  await writeFile(
    file,
    `nodes: [{ id: local, localnode: true }]\njobs: [{ id: a, node: local, commands: [{ type: Run, command: '${command}' }] }]\n`,
  );
  return file;
}

/** `setup` first; a forever `capture`; `m1`, `m2` beside it; `collect` (critical) fails at the end. */
function scenarioText(): string {
  return `nodes:
  - id: local
    localnode: true
jobs:
  - id: setup
    node: local
    label: setup the testbed
    commands:
      - type: Run
        command: for i in 1 2 3; do echo "setting up $i"; sleep 0.3; done
  - id: capture
    node: local
    label: capture
    forever: true
    commands:
      - type: Run
        command: i=0; while true; do i=$((i+1)); echo "captured $i packets"; sleep 0.2; done
  - id: m1
    node: local
    label: measure one
    required: setup
    commands:
      - type: Run
        command: for i in $(seq 1 30); do echo "m1 sample $i"; sleep 0.2; done
  - id: m2
    node: local
    label: measure two
    required: setup
    commands:
      - type: Run
        command: for i in $(seq 1 25); do echo "m2 sample $i"; sleep 0.2; done
  - id: collect
    node: local
    label: collect results
    required: [m1, m2]
    commands:
      - type: Run
        command: echo collecting; sleep 0.3; exit 5
`;
}

describe('the live view, in tmux', () => {
  it('shows the running jobs with their last line, redraws cleanly on a resize, keeps the failure, leaves one frame', async () => {
    const dir = await tempDir('jobgraph-live-');
    const file = join(dir, 'scenario.yaml');
    await writeFile(file, scenarioText());
    const session = await tmux(
      `env -u CI -u NO_COLOR TERM=xterm-256color ${process.execPath} ${bin} run ${file}; echo JGEXIT=$?; sleep 120`,
      100,
      30,
    );
    // 1: the measures running, each with its last line of output
    const first = await until(
      session,
      'both measures running',
      (lines) =>
        lines.some((line) => /measure one .*m1 sample \d+/.test(line)) &&
        lines.some((line) => /measure two .*m2 sample \d+/.test(line)),
    );
    const summary = first[0] ?? '';
    expect(summary).toMatch(SUMMARY);
    expect(summary).toMatch(/1\/4 done · 3 running · 1 waiting · 0 failed/);
    // jobs by their scenario ids, as the log and the report name them
    expect(first.some((line) => /^∞ capture +capture .*captured \d+ packets/.test(line))).toBe(true);
    expect(first.filter((line) => SUMMARY.test(line))).toHaveLength(1);
    const sample = (lines: string[]) => Number(/m1 sample (\d+)/.exec(lines.join('\n'))?.[1] ?? 0);

    // 2: later, the same rows have moved on
    const second = await until(session, 'm1 further on', (lines) => sample(lines) >= sample(first) + 3);
    expect(second.filter((line) => SUMMARY.test(line))).toHaveLength(1);
    // every frame so far was drawn over the last: one on the screen and its scrollback together
    expect((await screen(session, true)).filter((line) => SUMMARY.test(line))).toHaveLength(1);

    // 3: a narrower terminal: the next frame fits it, with no wider leftover of the old one on the
    // screen (tmux re-wraps the old frame's lines, and pushes what no longer fits into its
    // scrollback, out of reach of any redraw: the scrollback is not checked after this)
    await run('tmux', ['resize-window', '-t', session, '-x', '60']);
    const narrow = await until(
      session,
      'a frame at 60 columns',
      (lines) => lines.some((line) => SUMMARY.test(line)) && lines.every((line) => line.length <= 60),
    );
    expect(narrow.filter((line) => SUMMARY.test(line))).toHaveLength(1);

    // 4: the end: the failure with its error in the last frame, the debrief below, exit 1
    await run('tmux', ['resize-window', '-t', session, '-x', '100']);
    const end = await until(
      session,
      'the end of the run',
      (lines) => lines.some((line) => line.startsWith('JGEXIT=')),
      40_000,
    );
    expect(end).toContain('JGEXIT=1');
    const all = await screen(session);
    const frames = all.filter((line) => /^jobgraph ▕/.test(line));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatch(/▕█{20}▏ 3\/4 done · 0 running · 0 waiting · 1 failed/);
    expect(
      all.some((line) => /✖ collect +collect results .*Command failed with exit code 5/.test(line)),
    ).toBe(true);
    expect(all.some((line) => line.startsWith('----- '))).toBe(true);
    // the output was in the view, not printed: no `m1 sample` line outside a job's row
    expect(all.filter((line) => /^\S*\s*m1 sample/.test(line))).toEqual([]);
  });

  it('Ctrl-C: its message stays above the frame, one frame left; lines of emoji never wrap', async () => {
    const dir = await tempDir('jobgraph-live-');
    const file = join(dir, 'scenario.yaml');
    await writeFile(
      file,
      `nodes:
  - id: local
    localnode: true
jobs:
  - id: wait
    node: local
    commands:
      - type: Run
        command: sleep 30
  - id: rockets
    node: local
    commands:
      - type: Run
        command: i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "n$i ${'🚀'.repeat(50)}"; sleep 0.1; done
`,
    );
    const session = await tmux(
      `env -u CI -u NO_COLOR TERM=xterm-256color ${process.execPath} ${bin} run ${file}; echo JGEXIT=$?; sleep 120`,
      80,
      20,
    );
    await until(session, 'the rockets printing', (lines) => lines.some((line) => / n\d+ 🚀/.test(line)));
    // frames over frames: still one summary in the screen and its scrollback
    await until(
      session,
      'more rockets',
      (lines) => Number(/ n(\d+) 🚀/.exec(lines.join('\n'))?.[1] ?? 0) >= 15,
    );
    expect((await screen(session, true)).filter((line) => SUMMARY.test(line))).toHaveLength(1);
    await run('tmux', ['send-keys', '-t', session, 'C-c']);
    const end = await until(session, 'the end', (lines) => lines.some((line) => line.startsWith('JGEXIT=')));
    expect(end).toContain('JGEXIT=130');
    const all = await screen(session, true);
    expect(all).toContain('jobgraph: interrupted, stopping the jobs… (Ctrl-C again to leave at once)');
    expect(all.filter((line) => SUMMARY.test(line))).toHaveLength(1);
  });

  it('Ctrl-Z: the shell gets its cursor back and no frame; fg draws a fresh frame, one on the screen', async () => {
    const file = await oneJobScenario('for i in $(seq 6); do echo tick $i; sleep 0.5; done');
    // a shell with job control, as a user has
    const session = await tmux(
      'env -u CI -u NO_COLOR TERM=xterm-256color PS1="PROMPT$ " bash --norc --noprofile -i',
      100,
      30,
    );
    await until(session, 'the prompt', (lines) => lines.some((line) => line.startsWith('PROMPT$')));
    // (no `; echo $?` after it: the shell goes on to that when the job stops)
    await run('tmux', ['send-keys', '-t', session, `${process.execPath} ${bin} run ${file}`, 'Enter']);
    await until(session, 'a frame', (lines) => lines.some((line) => SUMMARY.test(line)));
    const cursor = async () =>
      (await run('tmux', ['display', '-p', '-t', session, '#{cursor_flag}'])).stdout.trim();
    await run('tmux', ['send-keys', '-t', session, 'C-z']);
    const stopped = await until(session, 'the job stopped', (lines) =>
      lines.some((line) => /Stopped/.test(line)),
    );
    expect(
      stopped.filter((line) => SUMMARY.test(line)),
      stopped.join('\n'),
    ).toEqual([]);
    expect(await cursor()).toBe('1');
    await run('tmux', ['send-keys', '-t', session, 'fg', 'Enter']);
    await until(session, 'the end of the run', (lines) =>
      lines.some((line) => line.startsWith('----- FINE')),
    );
    await run('tmux', ['send-keys', '-t', session, 'echo JGEXIT=$?', 'Enter']);
    const end = await until(session, 'its exit code', (lines) =>
      lines.some((line) => line.startsWith('JGEXIT=')),
    );
    expect(end).toContain('JGEXIT=0');
    expect(end.filter((line) => SUMMARY.test(line))).toHaveLength(1);
    expect(await cursor()).toBe('1');
  });

  it('--log to the terminal itself (/dev/stderr): plain lines, the log not drawn over by frames', async () => {
    const file = await oneJobScenario('echo one; sleep 0.5; echo two');
    const session = await tmux(
      `env -u CI -u NO_COLOR TERM=xterm-256color ${process.execPath} ${bin} run --log /dev/stderr ${file}; echo JGEXIT=$?; sleep 120`,
      200,
      40,
    );
    const end = await until(session, 'the end of the run', (lines) =>
      lines.some((line) => line.startsWith('JGEXIT=')),
    );
    expect(end).toContain('JGEXIT=0');
    expect(end.some((line) => SUMMARY.test(line))).toBe(false);
    expect(end.some((line) => line.startsWith('{"time":') && line.includes('"type":"run:done"'))).toBe(true);
  });

  it('on the same terminal with CI=true: plain lines (the output printed, no frame)', async () => {
    const dir = await tempDir('jobgraph-live-');
    const file = join(dir, 'scenario.yaml');
    await writeFile(file, scenarioText().replace('seq 1 30', 'seq 1 3').replace('seq 1 25', 'seq 1 2'));
    const session = await tmux(
      `env -u NO_COLOR CI=true TERM=xterm-256color ${process.execPath} ${bin} run ${file}; echo JGEXIT=$?; sleep 120`,
      100,
      40,
    );
    const end = await until(
      session,
      'the end of the run',
      (lines) => lines.some((line) => line.startsWith('JGEXIT=')),
      40_000,
    );
    const all = [...(await screen(session, true)), ...end];
    expect(all.some((line) => SUMMARY.test(line))).toBe(false);
    expect(all.some((line) => line.includes('m1 sample 3'))).toBe(true);
  });
});

describe('liveViewWanted', () => {
  const tty = { isTTY: true };
  const on = { live: true, verbose: false };
  it('only on a terminal, without --no-live, -v, NO_COLOR, CI=true, TERM=dumb', () => {
    expect(liveViewWanted(tty, { TERM: 'xterm' }, on)).toBe(true);
    expect(liveViewWanted({ isTTY: false }, { TERM: 'xterm' }, on)).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'xterm' }, { live: false, verbose: false })).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'xterm' }, { live: true, verbose: true })).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'xterm', NO_COLOR: '1' }, on)).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'xterm', CI: 'true' }, on)).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'dumb' }, on)).toBe(false);
    expect(liveViewWanted(tty, { TERM: 'xterm', NO_COLOR: '' }, on)).toBe(true);
  });
});
