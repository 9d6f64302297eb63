/**
 * scripts/check-structure.mjs, run on fixture trees: it must refuse a type-only import
 * cycle, an import up a layer of core, an import of a package's own index.ts, and a file
 * over 500 lines — and accept a tree without them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const script = join(repo, 'scripts', 'check-structure.mjs');
const fixtures: string[] = [];

/** A fixture repository holding `files` (path → text), with the repo's rules and a tsconfig. */
async function fixture(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'jobgraph-structure-'));
  fixtures.push(root);
  await copyFile(join(repo, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

function check(root: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, root], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        output: stdout + stderr,
      });
    });
  });
}

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

test('a clean tree passes', async () => {
  const root = await fixture({
    'packages/core/src/base/a.ts': 'export const a = 1;\n',
    'packages/core/src/model/b.ts': "import { a } from '../base/a.js';\nexport const b = a;\n",
    'packages/core/src/index.ts': "export { b } from './model/b.js';\n",
  });
  const { code, output } = await check(root);
  expect(output).toContain('structure: no cycle');
  expect(code).toBe(0);
});

test('a cycle made only of type imports fails', async () => {
  const root = await fixture({
    'packages/tool/src/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
    'packages/tool/src/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toMatch(/no-cycle: packages\/tool\/src\/a\.ts/);
});

test('an import up a layer of core fails, type-only included', async () => {
  const root = await fixture({
    'packages/core/src/model/job.ts': "import type { S } from '../scheduler/s.js';\nexport type J = S;\n",
    'packages/core/src/scheduler/s.ts': 'export interface S { n: number }\n',
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toMatch(
    /core-layer-model: packages\/core\/src\/model\/job\.ts → packages\/core\/src\/scheduler\/s\.ts/,
  );
});

test("a module importing its package's index.ts fails", async () => {
  const root = await fixture({
    'packages/tool/src/index.ts': "export { a } from './a.js';\n",
    'packages/tool/src/a.ts': 'export const a = 1;\n',
    'packages/tool/src/b.ts': "import { a } from './index.js';\nexport const b = a;\n",
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toMatch(/no-index-import: packages\/tool\/src\/b\.ts/);
});

test('a source file over 500 lines fails, naming it and its length', async () => {
  const root = await fixture({
    'packages/tool/src/long.ts': 'export const x = 1;\n'.repeat(501),
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toContain('packages/tool/src/long.ts: 501 lines, over the limit of 500');
});
