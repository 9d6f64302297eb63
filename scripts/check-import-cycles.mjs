// Fails when the run-time imports between the source modules of a package form a cycle
// (type-only imports do not count: they vanish at compile time). Modules of a package
// should depend on each other in one direction (ARCHITECTURE.md).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /^\s*(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.{1,2}\/[^']+)'/gms;

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function runtimeImports(file) {
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const [, typeOnly, clause, specifier] of text.matchAll(IMPORT)) {
    if (typeOnly) continue;
    const braces = clause.match(/^\{([\s\S]*)\}$/);
    if (braces) {
      const names = braces[1]
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      if (names.length > 0 && names.every((name) => name.startsWith('type '))) continue;
    }
    targets.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
  }
  return targets;
}

const packagesDir = join(root, 'packages');
let cycles = 0;
for (const pkg of readdirSync(packagesDir)) {
  const files = sourceFiles(join(packagesDir, pkg, 'src'));
  const graph = new Map(files.map((file) => [file, runtimeImports(file)]));
  const state = new Map(); // 1: on the current path, 2: done
  const path = [];
  const visit = (file) => {
    state.set(file, 1);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 1) {
        const cycle = path
          .slice(path.indexOf(next))
          .concat(next)
          .map((f) => relative(root, f));
        console.error(`import cycle: ${cycle.join(' → ')}`);
        cycles++;
      } else if (!state.has(next) && graph.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 2);
  };
  for (const file of files) if (!state.has(file)) visit(file);
}
if (cycles > 0) process.exit(1);
console.log('no import cycle between source modules');
