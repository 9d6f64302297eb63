/**
 * The scripts around a remote command (remote-process.ts): the hang-up guard and the kill of an
 * orphan take only a tag that jobgraph made, and the orphan's kill never matches itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { orphanKillScript, runTag, withHangUpGuard } from '../src/remote-process.js';

describe('hang-up guard and orphan kill scripts', () => {
  it('take only a run tag (no text of the caller reaches these shell lines)', () => {
    const tag = runTag();
    expect(tag).toMatch(/^jgrun-[0-9a-f]{16}$/);
    expect(runTag()).not.toBe(tag);
    expect(() => withHangUpGuard('true', 'x; rm -rf /')).toThrow('not a run tag');
    expect(() => orphanKillScript(1234, "jgrun-1'; reboot")).toThrow('not a run tag');
    expect(() => orphanKillScript(1, tag)).toThrow('not a process id');
  });

  it('the guard keeps the command as it is, and its exit status, with the tag on the guard line', async () => {
    const tag = runTag();
    const script = withHangUpGuard('echo "$1-out"; exit 7', tag);
    // jobgraph's part is one line: the shell's line numbers are not far from the command's own
    expect(script.split('\n')).toHaveLength(1);
    expect(script.endsWith('; echo "$1-out"; exit 7')).toBe(true);
    expect(script).toContain(`: ${tag};`);
    // run locally with its input open and never written (as the client keeps it): the command runs
    // to its end (not hung up), reads /dev/null, and its exit status is the script's
    const ended = await runGuarded(script, { endInputAfter: undefined });
    expect(ended).toEqual({ code: 7, signal: null, out: 'x-out\n' });
  });

  it("the guard is no job of the command's shell: a bare `wait` waits for the command's own jobs only", async () => {
    // (it waited for the guard too, which ends with the input: for good, as the client keeps it open)
    const script = withHangUpGuard('sleep 0.2 & wait; echo "waited $1"', runTag());
    expect(await runGuarded(script, { endInputAfter: undefined })).toEqual({
      code: 0,
      signal: null,
      out: 'waited x\n',
    });
  });

  it('the input ending while the command runs (the session gone) hangs the command up', async () => {
    const script = withHangUpGuard('sleep 30; echo never', runTag());
    const hungUp = await runGuarded(script, { endInputAfter: 300 });
    expect(hungUp).toEqual({ code: null, signal: 'SIGHUP', out: '' });
  });
});

/** Runs a guarded script under /bin/sh with `x` as $1; its input ends after `endInputAfter` ms, or at its exit. */
function runGuarded(
  script: string,
  { endInputAfter }: { endInputAfter: number | undefined },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  // a session of its own, as sshd gives each command: the guard hangs up its whole group
  const child = spawn('/bin/sh', ['-c', script, 'sh', 'x'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const timer = endInputAfter === undefined ? undefined : setTimeout(() => child.stdin.end(), endInputAfter);
  const limit = setTimeout(() => child.kill('SIGKILL'), 10_000);
  // as sshd does: the input ends once the command has exited (then the guard ends too)
  child.on('exit', () => child.stdin.end());
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(limit);
      resolve({ code, signal, out });
    });
  });
}

describe('the orphan kill', () => {
  it("the orphan kill looks for the tag in a pattern that its own command line (and grep's) cannot match", () => {
    const tag = runTag();
    const script = orphanKillScript(4242, tag);
    expect(script).not.toContain(tag);
    // no process carries the tag: the script exits 0 at once, touching nothing
    expect(execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' })).toBe('');
  });
});
