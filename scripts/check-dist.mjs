#!/usr/bin/env node
// Checks, after `pnpm build`, that each package's dist/ holds what its package.json promises, and
// that the built JavaScript runs on plain `node` (no tsx, no @jobgraph/source condition). Builds
// nothing. Exit code 1 with one line per problem; prints one summary line when all is well.
//
// For every packages/*/package.json:
//   - every file named by `exports` (each condition), `types`, `main` and `bin` exists, and lies
//     inside one of the `files` entries (else `npm publish` would leave it out);
//   - every `bin` starts with a `#!` line;
//   - dist/ against src/ (as scripts/build-package.mjs builds it): a .d.ts for every module and
//     none for a module that is gone; every .js reached from an entry (`exports`, the entries of
//     the build script, a dist/ path a bin names) through its imports, each relative import built, a source map for each, whose
//     sources are this package's src/ only (no other @jobgraph package bundled in);
//   - `import('<the package's name>')` in a plain `node` process started in the package (a
//     self-reference: resolved through `exports` as any user's would be) succeeds, and exports
//     no name that dist/index.d.ts does not declare;
// and, for @jobgraph/core, a plain `node` script run from examples/ (resolution through the
// workspace) runs a two-job scheduler; for @jobgraph/cli, `node dist/cli/main.js --version` prints
// the version.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');
const problems = [];
const checked = [];

/** The names that a declaration file exports (types and values), as TypeScript resolves them. */
function declaredExports(file) {
  const ts = createRequire(import.meta.url)('typescript');
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  return new Set(symbol === undefined ? [] : checker.getExportsOfModule(symbol).map((s) => s.name));
}

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

  // dist/ against src/ (bundled by scripts/build-package.mjs: a .js per entry, chunks, a .d.ts per module)
  const distDir = join(dir, 'dist');
  const built = walk(distDir);
  if (built.length > 0) {
    const sources = new Set(
      walk(join(dir, 'src'))
        .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
        .map((file) => file.slice(0, -'.ts'.length)),
    );
    const declared = new Set(
      built.filter((file) => file.endsWith('.d.ts')).map((file) => file.slice(0, -'.d.ts'.length)),
    );
    for (const stem of declared) {
      if (!sources.has(stem))
        problems.push(`${where}: dist/${stem}.d.ts has no source (src/${stem}.ts): stale, rebuild`);
    }
    for (const stem of sources) {
      if (!declared.has(stem)) problems.push(`${where}: src/${stem}.ts has no dist/${stem}.d.ts: rebuild`);
    }
    // every .js is reached from an entry (exports, the build's entries, a dist/ path a bin names), its relative
    // imports exist, it has a source map, and that map's sources are this package's src/ only
    // (another @jobgraph package bundled in would mean two copies of its classes)
    const javascript = built.filter((file) => file.endsWith('.js'));
    const entries = [
      ...exportTargets(manifest.exports),
      // the entries given to scripts/build-package.mjs (src/x.ts → dist/x.js)
      ...[...(manifest.scripts?.build ?? '').matchAll(/\bsrc\/[\w./-]+\.ts\b/g)].map(
        (match) => `dist/${match[0].slice('src/'.length, -'.ts'.length)}.js`,
      ),
      ...bins.flatMap((bin) => {
        const path = join(dir, bin);
        return existsSync(path)
          ? [...readFileSync(path, 'utf8').matchAll(/dist\/[\w./-]+\.js/g)].map((m) => m[0])
          : [];
      }),
    ]
      .map((target) => target.replace(/^\.\//, ''))
      .filter((target) => target.startsWith('dist/') && target.endsWith('.js'))
      .map((target) => target.slice('dist/'.length));
    const reached = new Set();
    const pending = entries.filter((file) => javascript.includes(file));
    while (pending.length > 0) {
      const file = pending.pop();
      if (reached.has(file)) continue;
      reached.add(file);
      const text = readFileSync(join(distDir, file), 'utf8');
      for (const match of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = relative(distDir, join(distDir, dirname(file), match[1]))
          .split(sep)
          .join('/');
        if (!javascript.includes(target))
          problems.push(`${where}: dist/${file} imports ${match[1]}, which is not built`);
        else pending.push(target);
      }
    }
    for (const file of javascript) {
      if (!reached.has(file))
        problems.push(`${where}: dist/${file} is reached from no entry: stale, rebuild`);
      const mapPath = join(distDir, `${file}.map`);
      if (!existsSync(mapPath)) {
        problems.push(`${where}: dist/${file} has no source map`);
        continue;
      }
      const map = JSON.parse(readFileSync(mapPath, 'utf8'));
      for (const source of map.sources ?? []) {
        const path = relative(join(dir, 'src'), join(distDir, dirname(file), map.sourceRoot ?? '', source));
        if (path.startsWith('..') || isAbsolute(path)) {
          problems.push(`${where}: dist/${file} bundles ${source}, which is not in this package's src/`);
        }
      }
    }
  }

  // plain node, resolved through exports
  if (manifest.exports !== undefined && typeof manifest.name === 'string') {
    const child = node(
      [
        '--input-type=module',
        '-e',
        `console.log(JSON.stringify(Object.keys(await import(${JSON.stringify(manifest.name)}))));`,
      ],
      dir,
    );
    if (child.status !== 0) {
      const first = (child.stderr.split('\n').find((line) => /Error/.test(line)) ?? child.stderr).trim();
      problems.push(`${where}: plain node cannot import ${manifest.name}: ${first}`);
    } else {
      // What the bundle exports at run time must be what the types declare: a bundler that
      // shares code between an entry and a chunk may otherwise export it under mangled names.
      const declared = declaredExports(join(dir, 'dist', 'index.d.ts'));
      const extra = JSON.parse(child.stdout).filter((key) => !declared.has(key));
      if (extra.length > 0) {
        problems.push(
          `${where}: dist/index.js exports ${extra.join(', ')}, which dist/index.d.ts does not declare`,
        );
      }
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
    `check-dist: ${checked.join(', ')}: every exports/types/bin target built, dist/ matches src/, plain node imports them\n`,
  );
}
