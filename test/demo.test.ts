import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const svg = fileURLToPath(new URL('../examples/out/local-experiment.svg', import.meta.url));

/** Runs a command to completion (bounded by the test timeout), collecting its output. */
function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the README demo runs the local experiment, prints the debrief and writes the graph', async () => {
  await rm(svg, { force: true });
  const { code, stdout, stderr } = await run(process.execPath, [
    '--conditions=@jobgraph/source',
    '--import',
    'tsx',
    'examples/local-experiment.ts',
  ]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('----- FINE');
  expect(stdout).toMatch(/<Scheduler `prepare nodes`> \[\[ -> true\]\]/);
  expect(stdout).toMatch(/ ☉ ↺ ∞ <Job `capture`> \[not done\]/);
  const picture = await readFile(svg, 'utf8');
  expect(picture).toContain('<svg');
  expect(picture).toContain('prepare nodes');
  expect(picture).toContain('capture');
}, 60_000);
