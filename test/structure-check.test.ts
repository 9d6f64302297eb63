/**
 * scripts/check-structure.mjs, run on fixture trees: it must refuse a type-only import
 * cycle, an import up a layer of core, an import of a package's own index.ts (by path or by
 * the package's name), an import that does not resolve, a core module outside the layers,
 * and a file over 500 lines — and accept a tree without them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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
  await mkdir(join(root, 'scripts'));
  await copyFile(join(repo, 'scripts', 'layers.cjs'), join(root, 'scripts', 'layers.cjs'));
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

test('a package importing itself by its own name fails (it resolves to its index.ts)', async () => {
  const root = await fixture({
    'packages/core/package.json': JSON.stringify({
      name: '@jobgraph/core',
      type: 'module',
      exports: { '.': { '@jobgraph/source': './src/index.ts', default: './dist/index.js' } },
    }),
    'node_modules/@jobgraph/core': '',
    'packages/core/src/index.ts': "export type { S } from './scheduler/s.js';\n",
    'packages/core/src/scheduler/s.ts': 'export interface S { n: number }\n',
    'packages/core/src/model/job.ts': "import type { S } from '@jobgraph/core';\nexport type J = S;\n",
  });
  // the workspace's link: node_modules/@jobgraph/core -> packages/core
  await rm(join(root, 'node_modules/@jobgraph/core'));
  await symlink(join(root, 'packages/core'), join(root, 'node_modules/@jobgraph/core'));
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toMatch(
    /no-index-import: packages\/core\/src\/model\/job\.ts → packages\/core\/src\/index\.ts/,
  );
});

test('an import that does not resolve fails', async () => {
  const root = await fixture({
    'packages/tool/src/a.ts': "import type { B } from './missing.js';\nexport type A = B;\n",
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toMatch(/not-unresolvable: packages\/tool\/src\/a\.ts → \.\/missing\.js/);
});

test('a module of core outside its layer folders fails', async () => {
  const root = await fixture({
    'packages/core/src/index.ts': "export { u } from './util/u.js';\n",
    'packages/core/src/util/u.ts': 'export const u = 1;\n',
  });
  const { code, output } = await check(root);
  expect(code).toBe(1);
  expect(output).toContain('packages/core/src/util/u.ts: outside the layers of core');
});
