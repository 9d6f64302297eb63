/**
 * `sudo` on node.run, Run and Fleet, against the bed's non-root users (test/testbed/sudo-users.ts):
 * jgtb-nopw (NOPASSWD) and jgtb-sudo (password). The password must appear in no output, event,
 * result or error; a missing or wrong one fails at once; a cancelled sudo command leaves no process.
 */
import { execFileSync } from 'node:child_process';
import { Scheduler } from '@jobgraph/core';
import { describe, expect, it } from 'vitest';
import {
  Fleet,
  LocalNode,
  type RunRequest,
  RunString,
  SshError,
  SshJob,
  type SshNode,
} from '../src/index.js';
import { LeadingFrames } from '../src/remote-process.js';
import { shellQuote } from '../src/ssh-node/shell.js';
import { checkSudo, sudoCommandLine } from '../src/sudo.js';
import { bed, closeAfterEach, loopbackNode, RecordingFormatter, recorder, targetNode } from './bed.js';

const { withPassword, noPassword, runAsNobody } = bed.sudo;
const password = withPassword.password;

const track = closeAfterEach();

const nopw = () => track(loopbackNode({ username: noPassword.username }));
const withPw = () => track(loopbackNode({ username: withPassword.username }));

/** Runs `command`, returns its stdout and how it ended. */
async function capture(node: SshNode | LocalNode, command: string, request: RunRequest = {}) {
  const out: string[] = [];
  const result = await node.run(command, {
    printStdout: false,
    ...request,
    onLine: (line) => {
      if (line.stream === 'stdout') out.push(line.linenl);
    },
  });
  return { ...result, stdout: out.join('') };
}

/** The processes whose command line is exactly `line` (the bed's hosts share this machine's process table). */
function processes(line: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', '-f', line], { encoding: 'utf8' })
      .split('\n')
      .filter((pid) => pid !== '')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when none match
  }
}

/** Waits (bounded: 15 s) until no process runs `line`. */
async function gone(line: string): Promise<number[]> {
  for (let i = 0; i < 150 && processes(line).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return processes(line);
}

/** Waits (bounded: 15 s) until a process runs `line`. */
async function started(line: string): Promise<void> {
  for (let i = 0; i < 150 && processes(line).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processes(line).length).toBeGreaterThan(0);
}

/** Everything the formatter got, as text. */
function shown(formatter: RecordingFormatter): string {
  const lines = formatter.lines.map((line) => line.linenl);
  const events = formatter.events.map(({ kind, detail }) => `${kind} ${detail ?? ''}`);
  return [...lines, ...events].join('\n');
}

describe('checkSudo: bad values are refused before anything runs', () => {
  it('accepts true, {} and { user, password }', () => {
    expect(checkSudo(true, false)).toEqual({});
    expect(checkSudo(undefined, false)).toBeUndefined();
    expect(checkSudo({ user: 'nobody', password: 'pw' }, false)).toEqual({ user: 'nobody', password: 'pw' });
  });
  it('refuses a bad shape, a bad user, a multi-line password, a password with a pty', () => {
    expect(() => checkSudo('yes', false)).toThrow(
      'Invalid run option sudo: expected true or { user?, password? }',
    );
    expect(() => checkSudo({ user: 'a b' }, false)).toThrow('a user name or #uid as sudo.user, got "a b"');
    expect(() => checkSudo({ password: 'a\nb' }, false)).toThrow(
      'a non-empty one-line string as sudo.password',
    );
    expect(() => checkSudo({ password: 'secret' }, true)).toThrow('no password together with pty: true');
    try {
      checkSudo({ password: 'secret\n' }, false);
    } catch (error) {
      expect(String(error)).not.toContain('secret');
    }
  });
  it('a script under sudo as a user other than root or the login is refused before it is copied (its 0700 copy gave Permission denied, exit 126)', async () => {
    const local = new LocalNode();
    const job = new SshJob({
      node: local,
      command: new RunString('#!/bin/sh\nid -un', [], { sudo: { user: 'nobody' } }),
      critical: false,
    });
    await new Scheduler({ critical: false, jobs: [job] }).run();
    expect(job.raisedException()).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining(
        'RunString under sudo as nobody: the script is installed readable by the login only',
      ),
    });
    // root (by name or uid) and the login itself may run it
    for (const user of ['root', '#0', local.username]) {
      const allowed = new SshJob({
        node: local,
        command: new RunString('#!/bin/sh\nid -u', [], { sudo: { user } }),
        critical: false,
      });
      await new Scheduler({ critical: false, jobs: [allowed] }).run();
      expect((allowed.raisedException() as Error | undefined)?.message ?? '').not.toContain(
        'readable by the login only',
      );
    }
  });

  it('the frames after the PID frame come off the output, in any chunking', () => {
    const whole = Buffer.from('\u001eJGPID123\u001e\u001eJGSUDOok\u001ehello\n');
    for (let cut = 0; cut <= whole.length; cut++) {
      const frames: string[] = [];
      const passed: Buffer[] = [];
      const reader = new LeadingFrames(
        ['JGPID', 'JGSUDO'],
        (tag, payload) => frames.push(`${tag}=${payload}`),
        (chunk) => passed.push(chunk),
      );
      reader.push(whole.subarray(0, cut));
      reader.push(whole.subarray(cut));
      reader.end();
      expect(frames).toEqual(['JGPID=123', 'JGSUDO=ok']);
      expect(Buffer.concat(passed).toString()).toBe('hello\n');
    }
  });

  it("what the login prints before the PID frame passes on, and the frame is still read, in any chunking (sshd's xauth, a .bashrc)", () => {
    const prelude = '/usr/bin/xauth: file /root/.Xauthority does not exist\n';
    const whole = Buffer.from(`${prelude}\u001eJGPID123\u001ehello\n`);
    for (let cut = 0; cut <= whole.length; cut++) {
      const frames: string[] = [];
      const passed: Buffer[] = [];
      const reader = new LeadingFrames(
        ['JGPID'],
        (tag, payload) => frames.push(`${tag}=${payload}`),
        (chunk) => passed.push(chunk),
      );
      reader.push(whole.subarray(0, cut));
      reader.push(whole.subarray(cut));
      reader.end();
      // (the frame was shown as text, and the PID never learned: no cancel could kill the command)
      expect(frames).toEqual(['JGPID=123']);
      expect(Buffer.concat(passed).toString()).toBe(`${prelude}hello\n`);
    }
    // no frame yet: the text goes on at once (a shell that never prints it must not have its
    // output held), only a possible start of the tag waits
    const early: Buffer[] = [];
    const waiting = new LeadingFrames(
      ['JGPID'],
      () => undefined,
      (chunk) => early.push(chunk),
    );
    waiting.push(Buffer.from('login says hi\n\u001eJG'));
    expect(Buffer.concat(early).toString()).toBe('login says hi\n');
    waiting.push(Buffer.from('PID7\u001eout\n'));
    expect(Buffer.concat(early).toString()).toBe('login says hi\nout\n');
    // no frame at all within 64 KiB: given up, everything shown
    const passed: Buffer[] = [];
    const reader = new LeadingFrames(
      ['JGPID'],
      () => undefined,
      (chunk) => passed.push(chunk),
    );
    reader.push(Buffer.alloc(70 * 1024, 'x'));
    expect(Buffer.concat(passed).length).toBe(70 * 1024);
  });
});

describe('sudo on an SshNode (non-root users of the bed)', () => {
  it('NOPASSWD: runs as root, or as the user given; env and stdin reach the command', async () => {
    const node = nopw();
    expect(await capture(node, 'id -un')).toMatchObject({ exitCode: 0, stdout: `${noPassword.username}\n` });
    expect(await capture(node, 'id -u', { sudo: true })).toMatchObject({ exitCode: 0, stdout: '0\n' });
    expect(await capture(node, 'id -un', { sudo: { user: 'nobody' } })).toMatchObject({ stdout: 'nobody\n' });
    expect(
      await capture(node, 'echo "$JG_X"; cat', { sudo: true, env: { JG_X: 'a b' }, stdin: 'in\n' }),
    ).toMatchObject({ exitCode: 0, stdout: 'a b\nin\n' });
    expect(await capture(node, 'exit 3', { sudo: true })).toMatchObject({ exitCode: 3 });
  });

  it("RunString and RunScript under sudo run the script the login's home holds (under sudo, $HOME is root's)", async () => {
    for (const node of [nopw(), withPw()]) {
      const sudo = node.username === noPassword.username ? true : { password };
      const job = new SshJob({
        node,
        command: new RunString('id -un; echo "args: $*"', ['a', 'b'], { sudo }),
      });
      expect(await new Scheduler({ jobs: [job] }).run()).toBe(true);
      expect(recorder(node).stdout()).toContain('root\nargs: a b\n');
    }
  });

  it("with a password: runs as root; the rest of stdin is the command's; the password is shown nowhere", async () => {
    const node = withPw();
    const big = Buffer.alloc(1024 * 1024, 0x78);
    const result = await capture(node, 'id -u; wc -c', { sudo: { password }, stdin: big });
    expect(result).toMatchObject({ exitCode: 0, stdout: `0\n${big.length}\n` });
    expect(await capture(node, 'id -u', { sudo: { password, user: 'nobody' } })).toMatchObject({
      stdout: `${execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })}`,
    });
    const text = shown(recorder(node));
    expect(text).toContain('session-start id -u');
    expect(text).not.toContain(password);
  });

  it('a password needed and not given, or wrong: ERR_SUDO at once, naming the host; never the password', async () => {
    const node = withPw();
    const missing = await node.run('id -u', { sudo: true }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SshError);
    expect(missing).toMatchObject({ code: 'ERR_SUDO' });
    expect(String(missing)).toContain(`on ${node.toString()}: sudo needs a password there`);
    const wrong = await node
      .run('id -u', { sudo: { password: 'not-the-password' } })
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'ERR_SUDO' });
    expect(String(wrong)).toContain('sudo refused the password');
    expect(String(wrong)).not.toContain('not-the-password');
    expect(shown(recorder(node))).not.toContain('not-the-password');
  });

  it('a cancelled sudo command leaves no root process (NOPASSWD and password); so does an idle timeout', async () => {
    for (const [node, sudo] of [
      [nopw(), true],
      [withPw(), { password }],
    ] as const) {
      const marker = `sleep 4${Math.floor(Math.random() * 1e6)}`;
      const stop = new AbortController();
      const running = node.run(marker, { sudo, signal: stop.signal });
      await started(marker);
      stop.abort(new Error('stopped by the test'));
      await expect(running).rejects.toThrow('stopped by the test');
      expect(await gone(marker)).toEqual([]);
    }
    const marker = `sleep 5${Math.floor(Math.random() * 1e6)}`;
    await expect(nopw().run(marker, { sudo: true, idleTimeout: 1_500 })).rejects.toMatchObject({
      code: 'ERR_IDLE_TIMEOUT',
    });
    expect(await gone(marker)).toEqual([]);
  });

  it("a non-root user's cancelled command (a dash login shell) is killed too", async () => {
    const marker = `sleep 6${Math.floor(Math.random() * 1e6)}`;
    const stop = new AbortController();
    const running = nopw().run(marker, { signal: stop.signal });
    await started(marker);
    stop.abort(new Error('stopped'));
    await expect(running).rejects.toThrow('stopped');
    expect(await gone(marker)).toEqual([]);
  });

  it('a sudo command whose connection drops ends too: its hang-up guard runs as the command user', async () => {
    const asNobody = () => track(loopbackNode({ username: runAsNobody.username }));
    for (const [node, sudo] of [
      [nopw(), true],
      [withPw(), { password }],
      [asNobody(), { user: 'nobody' }],
    ] as const) {
      const marker = `sleep 8${Math.floor(Math.random() * 1e6)}`;
      const running = node.run(marker, { sudo }).catch((error: unknown) => error);
      await started(marker);
      // the connection goes away under the command (as when the controller dies)
      await node.close();
      expect(await running).toMatchObject({ code: 'ERR_SSH_CHANNEL' });
      expect(await gone(marker)).toEqual([]);
    }
  });

  it('a pty with NOPASSWD works; a pty with a password is refused before connecting', async () => {
    const node = nopw();
    const result = await capture(node, 'id -u', { sudo: true, pty: true });
    expect(result.stdout.replace(/\r/g, '')).toBe('0\n');
    await expect(withPw().run('id -u', { sudo: { password }, pty: true })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});

describe('sudo: login shells and rules', () => {
  it('the password user logs in with bash (which execs the last command of -c): sudo still finds its ticket', async () => {
    const node = withPw();
    expect(await capture(node, 'echo "$0"')).toMatchObject({ stdout: expect.stringMatching(/bash\n$/) });
    expect(await capture(node, 'id -u', { sudo: { password } })).toMatchObject({
      exitCode: 0,
      stdout: '0\n',
    });
  });

  it('a shell tracing its commands (set -x) never prints the password', async () => {
    const node = withPw();
    const script = sudoCommandLine('id -u', { password });
    const traced = async (text: string) => {
      const err: string[] = [];
      const result = await node.run(`bash -x -c ${shellQuote(text)}`, {
        stdin: `${password}\n`,
        printStdout: false,
        printStderr: false,
        onLine: (line) => {
          if (line.stream === 'stderr') err.push(line.linenl);
        },
      });
      expect(result.exitCode).toBe(0);
      return err.join('');
    };
    // the check: without its first line, which turns the trace off, the password would show
    const [first, ...rest] = script.split('\n');
    expect(first).toContain('set +x');
    expect(await traced(rest.join('\n'))).toContain(password);
    expect(await traced(script)).not.toContain(password);
  });

  it('a rule for one target user only: sudo as that user runs, as root is ERR_SUDO; a cancel kills as that user', async () => {
    const node = track(loopbackNode({ username: runAsNobody.username }));
    expect(await capture(node, 'id -un', { sudo: { user: 'nobody' } })).toMatchObject({ stdout: 'nobody\n' });
    await expect(node.run('id -u', { sudo: true })).rejects.toMatchObject({ code: 'ERR_SUDO' });
    const marker = `sleep 7${Math.floor(Math.random() * 1e6)}`;
    const stop = new AbortController();
    const running = node.run(marker, { sudo: { user: 'nobody' }, signal: stop.signal });
    await started(marker);
    stop.abort(new Error('stopped by the test'));
    await expect(running).rejects.toThrow('stopped by the test');
    expect(await gone(marker)).toEqual([]);
  });
});

describe('sudo on the LocalNode', () => {
  it('runs under sudo through the same script; no sudo on the PATH is ERR_SUDO', async () => {
    const local = new LocalNode({ formatter: new RecordingFormatter() });
    expect(await capture(local, 'id -u; echo "$JG_Y"', { sudo: true, env: { JG_Y: 'y' } })).toMatchObject({
      exitCode: 0,
      stdout: '0\ny\n',
    });
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(local.run('id -u', { sudo: true })).rejects.toMatchObject({
        code: 'ERR_SUDO',
        message: expect.stringContaining('sudo is not installed there'),
      });
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('sudo on a Fleet', () => {
  it('two hosts (one behind the gateway), a password: per-host results as root, the password nowhere', async () => {
    const lo = withPw();
    const t1 = track(targetNode(0, undefined, { username: withPassword.username }));
    const fleet = new Fleet([lo, t1]);
    const results = await fleet.run('id -u', { sudo: { password } });
    expect(results.map((r) => [r.ok, r.stdout])).toEqual([
      [true, '0\n'],
      [true, '0\n'],
    ]);
    const wrong = await fleet.run('id -u', { sudo: { password: 'wrong-one' } });
    expect(wrong.map((r) => (r.error as SshError | undefined)?.code)).toEqual(['ERR_SUDO', 'ERR_SUDO']);
    const text = JSON.stringify(
      [...results, ...wrong].map(({ node: _node, error, ...rest }) => ({ ...rest, error: String(error) })),
    );
    expect(text).not.toContain(password);
    expect(text).not.toContain('wrong-one');
    await t1.gateway?.close();
  });
});
