// The structure checks of `pnpm lint`, each failing CI:
// 1. dependency-cruiser with .dependency-cruiser.cjs: no cycle between the modules of a
//    package (type-only imports included), no import going up a layer, no import of a
//    package's own index.ts (by path or by the package's own name), no import that does not
//    resolve (which would escape those rules);
// 2. in a package with layers (scripts/layers.cjs), every module but index.ts sits in a layer;
// 3. no source file over MAX_LINES lines: a longer one holds more than one concept.
//
// Usage: node scripts/check-structure.mjs [root]   (root: the repository; tests pass a fixture)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 500;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? repo);

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const packagesDir = join(root, 'packages');
const sources = readdirSync(packagesDir)
  .map((pkg) => join(packagesDir, pkg, 'src'))
  .filter((dir) => {
    try {
      return readdirSync(dir).length > 0;
    } catch {
      return false;
    }
  });

let failed = false;
for (const file of sources.flatMap(sourceFiles)) {
  const lines = readFileSync(file, 'utf8').split('\n').length - 1;
  if (lines > MAX_LINES) {
    console.error(
      `${relative(root, file)}: ${lines} lines, over the limit of ${MAX_LINES}: split it by concept`,
    );
    failed = true;
  }
}

// Layers are folders: a module outside them would be under no layer rule.
const layers = createRequire(import.meta.url)(join(root, 'scripts', 'layers.cjs'));
for (const [pkg, folders] of Object.entries(layers)) {
  const src = join(packagesDir, pkg, 'src');
  for (const file of sources.includes(src) ? sourceFiles(src) : []) {
    const path = relative(src, file).split(sep);
    if (path.length === 1 && path[0] === 'index.ts') continue;
    if (path.length > 1 && folders.includes(path[0])) continue;
    console.error(
      `${relative(root, file)}: outside the layers of ${pkg} (src/${folders.join('/, src/')}/): move it into the layer it belongs to`,
    );
    failed = true;
  }
}

const depcruise = join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const config = join(root, '.dependency-cruiser.cjs');
const cruise = spawnSync(
  process.execPath,
  [depcruise, '--config', config, '--output-type', 'err', ...sources.map((dir) => relative(root, dir))],
  { cwd: root, encoding: 'utf8' },
);
if (cruise.status !== 0) {
  process.stderr.write(cruise.stdout + cruise.stderr);
  failed = true;
}

if (failed) process.exit(1);
console.log(
  `structure: no cycle, no import up a layer, every module in its layer, no file over ${MAX_LINES} lines (${sources.length} packages)`,
);
