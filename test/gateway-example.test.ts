/**
 * The gateway example of examples/, run as a user would, against the test bed: a
 * gateway and two targets reachable only through it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, inject, it } from 'vitest';
import './testbed/global-setup.js';

const bed = inject('testbed');
const root = fileURLToPath(new URL('..', import.meta.url));
let out: string | undefined;

afterAll(async () => {
  if (out !== undefined) await rm(out, { recursive: true, force: true });
});

it('examples/gateway-experiment.ts probes the nodes behind the gateway, merges, draws, and exits', async () => {
  out = await mkdtemp(join(tmpdir(), 'jobgraph-gateway-example-'));
  const env = {
    ...process.env,
    JOBGRAPH_GATEWAY: `root@${bed.gateway.hostname}`,
    JOBGRAPH_NODES: bed.targets.map((target) => `root@${target.hostname}`).join(','),
    JOBGRAPH_KEY: bed.keys.ed25519,
    JOBGRAPH_KNOWN_HOSTS: bed.knownHosts,
    JOBGRAPH_HOST_KEY_POLICY: 'strict',
    JOBGRAPH_OUT: out,
    SSH_AUTH_SOCK: '',
  };
  const child = spawn(
    process.execPath,
    ['--conditions=@jobgraph/source', '--import', 'tsx', 'examples/gateway-experiment.ts'],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  // The script must end on its own: connections are released at the end of the run.
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('----- FINE');
  expect(stdout).toContain('merged 2 results');
  const merged = await readFile(join(out, 'merged.txt'), 'utf8');
  expect(
    merged
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[0]),
  ).toEqual(bed.targets.map((target) => target.nodename));
  const topology = await readFile(join(out, 'topology.svg'), 'utf8');
  expect(topology).toContain(`root@${bed.gateway.hostname}`);
  expect(topology).toContain(`root@${bed.targets[0].hostname}`);
  const jobs = await readFile(join(out, 'jobs.svg'), 'utf8');
  expect(jobs).toContain('merge results');
}, 90_000);
