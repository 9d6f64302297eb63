/**
 * Fault matrix, Ctrl-C: SIGINT to a running `jobgraph run` of a scenario file whose jobs run on a
 * direct node and on a target behind the gateway: every remote process is killed, the debrief is
 * printed, the exit status is 130, and the binary ends within its bound.
 */
import { writeFile } from 'node:fs/promises';
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
});
