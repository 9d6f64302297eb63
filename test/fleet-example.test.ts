/**
 * The Fleet example of examples/, run as a user would, against the test bed: two targets
 * reachable only through the gateway, with a third one that does not exist (its steps fail,
 * the others' results are intact, the script says so and exits 1), then the two alone under sudo.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, inject, it } from 'vitest';
import './testbed/global-setup.js';

const bed = inject('testbed');
const root = fileURLToPath(new URL('..', import.meta.url));
const outs: string[] = [];

afterAll(async () => {
  for (const out of outs) await rm(out, { recursive: true, force: true });
});

async function runExample(nodes: string[], extra: Record<string, string> = {}) {
  const out = await mkdtemp(join(tmpdir(), 'jobgraph-fleet-example-'));
  outs.push(out);
  const env = {
    ...process.env,
    JOBGRAPH_GATEWAY: `root@${bed.gateway.hostname}`,
    JOBGRAPH_NODES: nodes.join(','),
    JOBGRAPH_KEY: bed.keys.ed25519,
    JOBGRAPH_KNOWN_HOSTS: bed.knownHosts,
    JOBGRAPH_HOST_KEY_POLICY: 'strict',
    JOBGRAPH_OUT: out,
    SSH_AUTH_SOCK: '',
    ...extra,
  };
  const child = spawn(
    process.execPath,
    ['--conditions=@jobgraph/source', '--import', 'tsx', 'examples/fleet.ts'],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // The script must end on its own: fleet.close() closes every connection and the gateway's.
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
  return { code, stdout, stderr, out };
}

it('examples/fleet.ts: per-host results through the gateway, one host down among them, copies without clashes', async () => {
  const [t1, t2] = bed.targets.map((target) => target.hostname);
  // a port of t1 where nothing listens: the gateway's connection to it is refused
  const down = `${t1}:2`;
  const { code, stdout, stderr, out } = await runExample([`root@${t1}`, `root@${down}`, `root@${t2}`]);
  // the nodes' formatters report the failed connections on stderr (one per step), nothing else
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines)
    expect(line).toMatch(new RegExp(`^Connection failed to root@\\S+->root@${down}: `));
  expect(code).toBe(1);
  expect(stdout).toMatch(
    new RegExp(`== roles\\n  ${t1}\\s+ok\\s+exit 0: sender\\n  ${down}\\s+FAILED .*${down}`),
  );
  expect(stdout).toMatch(new RegExp(`  ${t2}\\s+ok\\s+exit 0: receiver`));
  expect(stdout).toMatch(/== ticking: 2 still running after 2 s/);
  expect(stdout).toContain('merged 2 results: sender, receiver');
  const copies = (await readdir(out)).sort();
  expect(copies).toEqual([t1, t2].map((host) => `jobgraph-fleet-${host}.role_${host}`).sort());
  expect(await readFile(join(out, copies[0] as string), 'utf8')).toMatch(/^(sender|receiver)\n$/);
  expect(stdout).toMatch(/\d+ host steps failed/);
}, 90_000);

it('examples/fleet.ts with JOBGRAPH_SUDO as a NOPASSWD user: every step ok, id -u is 0', async () => {
  const user = bed.sudo.noPassword.username;
  const { code, stdout, stderr } = await runExample(
    bed.targets.map((target) => `${user}@${target.hostname}`),
    { JOBGRAPH_SUDO: '1' },
  );
  expect(stderr).toBe('');
  expect(stdout).toMatch(/== sudo id -u\n( {2}\S+\s+ok\s+exit 0: 0\n){2}/);
  expect(stdout).toContain('all steps ok on every host');
  expect(code).toBe(0);
}, 90_000);
