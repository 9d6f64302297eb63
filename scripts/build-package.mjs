#!/usr/bin/env node
// Builds the package of the current directory: its dist/, as its package.json's exports and bin
// promise. Usage (each package's `build` script): node ../../scripts/build-package.mjs <entry.ts>…
//
// 1. dist/ is emptied: files of moved or deleted modules must not stay behind (and be published).
// 2. tsc -p tsconfig.build.json --emitDeclarationOnly: the type check, and the .d.ts of every module
//    (with their maps), which `exports.types` points to.
// 3. The JavaScript, one file per entry (src/index.ts → dist/index.js; src/cli/main.ts →
//    dist/cli/main.js for the jobgraph command; src/output.ts → dist/output.js for
//    bench/lines.mjs), bundled by vite (rollup; TypeScript's types erased by esbuild), with source
//    maps to src/. What is loaded only through `import()` stays in chunks of its own, loaded on
//    first use. Every package name is left external (node:*, the dependencies, the other
//    @jobgraph packages), so each package has one copy of each class. Why bundle: Node's ESM
//    loader pays ~0.5 ms per module file, which was most of `import('@jobgraph/core')` (18 ms for
//    30 files, 3 ms for one; @jobgraph/ssh 41 → 13 ms); see bench/README.md, "Start-up".
// Names of functions and classes are kept (esbuild's keepNames): the bundle renames clashing
// top-level names, and listings, labels and `jobgraph run --dry-run` print `constructor.name`.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { build } from 'vite';

const dir = process.cwd();
const entries = process.argv.slice(2);
if (entries.length === 0 || entries.some((entry) => !/^src\/.+\.ts$/.test(entry))) {
  process.stderr.write(
    'usage: node ../../scripts/build-package.mjs src/<entry>.ts…  (from a package directory)\n',
  );
  process.exit(2);
}
for (const entry of entries) {
  if (!existsSync(join(dir, entry))) {
    process.stderr.write(`build-package: ${entry}: no such file in ${dir}\n`);
    process.exit(1);
  }
}

rmSync(join(dir, 'dist'), { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const declarations = spawnSync(
  process.execPath,
  [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'],
  {
    cwd: dir,
    stdio: 'inherit',
  },
);
if (declarations.status !== 0) process.exit(declarations.status ?? 1);

await build({
  root: dir,
  configFile: false,
  envFile: false,
  publicDir: false,
  logLevel: 'warn',
  esbuild: { keepNames: true },
  build: {
    ssr: true,
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: {
      // An entry exports exactly what its module does: code that an entry shares with a chunk
      // loaded by import() (ssh2's transport) goes to a chunk of its own, rather than being
      // exported from the entry under a mangled name (which would add names to the package).
      preserveEntrySignatures: 'strict',
      input: Object.fromEntries(
        entries.map((entry) => [entry.replace(/^src\//, '').replace(/\.ts$/, ''), resolve(dir, entry)]),
      ),
      // our own files are bundled; every package (node:*, dependencies, @jobgraph/*) stays an import
      external: (id) => !(id.startsWith('.') || isAbsolute(id) || id.startsWith('\0')),
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
      },
    },
  },
});
