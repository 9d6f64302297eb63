/**
 * Fault matrix, Ctrl-C: SIGINT to a running `jobgraph run` of a scenario file whose jobs run on a
 * direct node and on a target behind the gateway: every remote process is killed, the debrief is
 * printed, the exit status is 130, and the binary ends within its bound. A second Ctrl-C, while
 * the kills wait on a host that froze, leaves at once, the log and report files written first.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { start, tempDir } from '../../packages/cli/test/binary.js';
import {
  bed,
  commandsRunning,
  descendants,
  killMarkedAfterEach,
  marker,
  markerPattern,
  pgrep,
  portFor,
  startSshd,
  trapUnhandledRejections,
  until,
  within,
} from './harness.js';

trapUnhandledRejections();

const markers = killMarkedAfterEach();

function access(indent = '    '): string {
  return [
    'username: root',
    `keys: [${bed.keys.ed25519}]`,
    `knownHosts: ${bed.knownHosts}`,
    'hostKeyPolicy: strict',
    'connectTimeout: 10s',
  ]
    .map((line) => `${indent}${line}`)
    .join('\n');
}

/** A scenario with a `sleep 300` on a direct node and on a target behind the gateway, then a job after them. */
async function scenario(dir: string, tag: string): Promise<string> {
  const file = join(dir, 'scenario.yaml');
  await writeFile(
    file,
    `nodes:
  - id: loopback
    hostname: ${bed.loopback.hostname}
    port: ${bed.loopback.port}
${access()}
  - id: gateway
    hostname: ${bed.gateway.hostname}
    port: ${bed.gateway.port}
${access()}
  - id: t1
    hostname: ${bed.targets[0].hostname}
    port: ${bed.targets[0].port}
    gateway: gateway
${access()}
jobs:
  - id: direct
    node: loopback
    commands:
      - type: Run
        command: sleep 300; echo ${tag}-direct
  - id: behind
    node: t1
    commands:
      - type: Run
        command: sleep 300; echo ${tag}-behind
  - id: after
    node: loopback
    required: [direct, behind]
    commands:
      - type: Run
        command: echo never
`,
  );
  return file;
}

describe('fault matrix: Ctrl-C', () => {
  it('SIGINT to `jobgraph run`: exit 130, debrief printed, every remote process killed (direct and behind the gateway)', async () => {
    const dir = await tempDir('jgfault-interrupt-');
    const tag = marker('sigint');
    markers.push(tag);
    const file = await scenario(dir, tag);
    const { child, done } = start(['run', file], { limitMs: 30_000 });
    try {
      await until('both remote commands running', async () => (await commandsRunning(tag)).length === 2);
      const interruptedAt = Date.now();
      child.kill('SIGINT');
      const out = await within('jobgraph after SIGINT', 20_000, done);
      expect(out.signal).toBeNull();
      expect(out.code, out.stderr).toBe(130);
      expect(out.stderr).toContain('jobgraph: interrupted');
      if (process.env.JGFAULT_PRINT)
        process.stderr.write(`JGFAULT stdout:\n${out.stdout}\nstderr:\n${out.stderr}\n`);
      // the debrief: why the run ended, and every job, none done
      expect(out.stdout).toContain('----- ABORTED: interrupted (Ctrl-C)');
      for (const label of [`${tag}-direct`, `${tag}-behind`, '`echo never`> [not done] requires={1, 2}'])
        expect(out.stdout).toContain(label);
      expect(out.stdout.match(/\[not done\]/g)).toHaveLength(3);
      // it stopped promptly (the commands' TERM/KILL), not at the end of the 300 s sleeps
      expect(Date.now() - interruptedAt).toBeLessThan(15_000);
      // the remote processes are gone once the binary has exited: no wait here
      expect(await pgrep(markerPattern(tag))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('the controller killed (SIGKILL to `jobgraph run`): the hang-up guards end every remote process', async () => {
    const dir = await tempDir('jgfault-controller-');
    const tag = marker('ctlkill');
    markers.push(tag);
    const { child, done } = start(['run', await scenario(dir, tag)], { limitMs: 30_000 });
    try {
      await until('both remote commands running', async () => (await commandsRunning(tag)).length === 2);
      // nothing on this side can clean up: the kernel closes the sockets, each sshd (the direct
      // one, and the target's once the gateway's session is gone) ends its session, and each
      // command's guard sends SIGHUP to its group
      // (in a checkout, bin/jobgraph.js runs the sources in a child process: that is the one)
      const source = (await descendants(child.pid ?? 0)).find((p) => p.comm.startsWith('node'));
      process.kill(source?.pid ?? child.pid ?? 0, 'SIGKILL');
      await within('jobgraph after SIGKILL', 10_000, done);
      await until(
        'no remote process left',
        async () => (await pgrep(markerPattern(tag))).length === 0,
        10_000,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('a second Ctrl-C while the kill waits on a frozen host: exit 130 at once, the log and report files complete', async () => {
    const dir = await tempDir('jgfault-leave-');
    const tag = marker('leave');
    markers.push(tag);
    const own = await startSshd({ like: 'loopback', port: portFor(4) });
    const lines = 2000;
    const file = join(dir, 'scenario.yaml');
    await writeFile(
      file,
      `nodes:
  - id: frozen
    hostname: ${own.host}
    port: ${own.port}
${access().replace(bed.knownHosts, own.knownHosts)}
jobs:
  - id: talk
    node: frozen
    commands:
      - type: Run
        command: for i in $(seq 1 ${lines}); do echo line-$i; done; sleep 300; echo ${tag}
`,
    );
    const log = join(dir, 'run.jsonl');
    const report = join(dir, 'report');
    const { child, done } = start(['run', file, '--log', log, '--log-output', '--report', report], {
      limitMs: 40_000,
    });
    try {
      await until('the remote command running', async () => (await commandsRunning(tag)).length === 1);
      // the host freezes: its sshd answers nothing more, so the kill of the first Ctrl-C waits
      for (const { pid, comm } of await own.served()) if (comm === 'sshd') process.kill(pid, 'SIGSTOP');
      child.kill('SIGINT');
      // more than half a second later: a second press, not the same one arriving twice
      await new Promise((wake) => setTimeout(wake, 1_500));
      const leftAt = Date.now();
      child.kill('SIGINT');
      const out = await within('jobgraph after the second SIGINT', 10_000, done);
      expect(out.code, out.stderr).toBe(130);
      expect(out.stderr).toContain('interrupted again, leaving now');
      expect(out.stderr).toContain(`jobgraph report ${join(report, 'events.jsonl')}`);
      // at once: not after the kill's bound, nor the scheduler's shutdown timeout (15 s)
      expect(Date.now() - leftAt).toBeLessThan(8_000);
      // what the run had printed is all there: the report's output log (held in 256 KiB batches)
      // and the lines of both event logs
      const printed = Array.from({ length: lines }, (_, i) => `line-${i + 1}`);
      const outputLog = await readFile(join(report, 'output/talk.log'), 'utf8');
      expect(outputLog.split('\n').slice(0, -1)).toEqual(printed);
      for (const path of [log, join(report, 'events.jsonl')]) {
        const records = (await readFile(path, 'utf8'))
          .split('\n')
          .slice(0, -1)
          .map((line) => JSON.parse(line) as { type: string; line?: string });
        expect(records.filter((r) => r.type === 'cmd:line').map((r) => r.line?.trimEnd())).toEqual(printed);
      }
      // the locks are released: the next run may write the same log and report
      expect(existsSync(`${log}.lock`)).toBe(false);
      expect(existsSync(join(report, '.jobgraph.lock'))).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await own.stop();
    }
  });
});
