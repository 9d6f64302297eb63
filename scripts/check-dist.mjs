#!/usr/bin/env node
// Checks, after `pnpm build`, that each package's dist/ holds what its package.json promises, and
// that the built JavaScript runs on plain `node` (no tsx, no @jobgraph/source condition). Builds
// nothing. Exit code 1 with one line per problem; prints one summary line when all is well.
//
// For every packages/*/package.json:
//   - every file named by `exports` (each condition), `types`, `main` and `bin` exists, and lies
//     inside one of the `files` entries (else `npm publish` would leave it out);
//   - every `bin` starts with a `#!` line;
//   - dist/ holds no JavaScript whose TypeScript source is gone (a stale file from a build before
//     a move or a deletion, which would be published), and every src/**/*.ts has its .js and .d.ts;
//   - `import('<the package's name>')` in a plain `node` process started in the package (a
//     self-reference: resolved through `exports` as any user's would be) succeeds;
// and, for @jobgraph/core, a plain `node` script run from examples/ (resolution through the
// workspace) runs a two-job scheduler; for @jobgraph/cli, `node dist/cli/main.js --version` prints
// the version.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');
const problems = [];
const checked = [];

/** Every file path named under `exports` (strings at any depth: conditions, subpaths). */
function exportTargets(exports) {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** The files below `dir`, relative to it, with `/` separators. */
function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path).map((file) => `${entry.name}/${file}`) : [entry.name];
  });
}

function node(args, cwd) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });
}

for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const where = relative(root, manifestPath);
  const files = (manifest.files ?? []).map((entry) => entry.replace(/^\.\//, '').replace(/\/$/, ''));
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const promised = [
    ...exportTargets(manifest.exports).map((target) => ['exports', target]),
    ...(manifest.types === undefined ? [] : [['types', manifest.types]]),
    ...(manifest.main === undefined ? [] : [['main', manifest.main]]),
    ...bins.map((target) => ['bin', target]),
  ];
  for (const [field, target] of promised) {
    const path = join(dir, target);
    if (!existsSync(path) || !statSync(path).isFile()) {
      problems.push(`${where}: ${field} names ${target}, which does not exist (run the build first?)`);
      continue;
    }
    const inside = target.replace(/^\.\//, '');
    if (
      manifest.files !== undefined &&
      !files.some((entry) => inside === entry || inside.startsWith(`${entry}/`))
    ) {
      problems.push(
        `${where}: ${field} names ${target}, outside of "files" (${files.join(', ')}): not published`,
      );
    }
    if (field === 'bin' && !readFileSync(path, 'utf8').startsWith('#!')) {
      problems.push(`${where}: bin ${target} does not start with a #! line`);
    }
  }

  // dist/ against src/
  const sources = new Set(
    walk(join(dir, 'src'))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -'.ts'.length)),
  );
  const built = walk(join(dir, 'dist'));
  const builtJs = new Set(
    built.filter((file) => file.endsWith('.js')).map((file) => file.slice(0, -'.js'.length)),
  );
  const builtDts = new Set(
    built.filter((file) => file.endsWith('.d.ts')).map((file) => file.slice(0, -'.d.ts'.length)),
  );
  for (const stem of builtJs) {
    if (!sources.has(stem))
      problems.push(`${where}: dist/${stem}.js has no source (src/${stem}.ts): stale, rebuild`);
  }
  if (built.length > 0) {
    for (const stem of sources) {
      if (!builtJs.has(stem) || !builtDts.has(stem)) {
        problems.push(`${where}: src/${stem}.ts has no dist/${stem}.js and .d.ts: rebuild`);
      }
    }
  }

  // plain node, resolved through exports
  if (manifest.exports !== undefined && typeof manifest.name === 'string') {
    const child = node(['--input-type=module', '-e', `await import(${JSON.stringify(manifest.name)});`], dir);
    if (child.status !== 0) {
      const first = (child.stderr.split('\n').find((line) => /Error/.test(line)) ?? child.stderr).trim();
      problems.push(`${where}: plain node cannot import ${manifest.name}: ${first}`);
    }
  }
  checked.push(manifest.name ?? name);
}

// A user's script on plain node, resolving @jobgraph/core through the workspace (examples/ depends
// on every package).
const examples = join(root, 'examples');
if (existsSync(join(examples, 'node_modules', '@jobgraph', 'core'))) {
  const script = [
    "import { Job, Scheduler } from '@jobgraph/core';",
    'const first = new Job(() => 1);',
    'const scheduler = new Scheduler({ jobs: [first, new Job(() => 2, { required: first })] });',
    "if (!(await scheduler.run())) throw new Error('the scheduler failed');",
    "console.log('ok');",
  ].join('\n');
  const child = node(['--input-type=module', '-e', script], examples);
  if (child.status !== 0 || child.stdout.trim() !== 'ok') {
    problems.push(
      `examples/: a plain node script using @jobgraph/core failed: ${child.stderr.trim().split('\n')[0]}`,
    );
  }
}

// The built command itself (bin/jobgraph.js runs the sources through tsx in a checkout).
const cliMain = join(packagesDir, 'cli', 'dist', 'cli', 'main.js');
if (existsSync(cliMain)) {
  const version = JSON.parse(readFileSync(join(packagesDir, 'cli', 'package.json'), 'utf8')).version;
  const child = node([cliMain, '--version'], dirname(cliMain));
  if (child.status !== 0 || child.stdout.trim() !== version) {
    problems.push(
      `packages${sep}cli: node dist/cli/main.js --version printed ${JSON.stringify(child.stdout.trim())} (status ${child.status}), expected ${version}`,
    );
  }
}

if (problems.length > 0) {
  for (const problem of problems) process.stderr.write(`check-dist: ${problem}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    `check-dist: ${checked.join(', ')}: every exports/types/bin target built, no stale file, plain node imports them\n`,
  );
}
