// What a process pays before its first job: the import of each package, from the built dist/ on
// plain node and from the TypeScript sources through tsx, the `jobgraph` command's start-up, and
// the heavy dependencies alone. Each case runs REPEAT times in a fresh process (round-robin, so
// that the load of a shared machine spreads over all of them); medians, RSS = largest peak.
// One more run per case, with NODE_DEBUG=esm,module, lists the modules it loaded, by package.
//
//   npx -y pnpm@10 build && node bench/imports.mjs
//   BENCH_REPEAT=9 node bench/imports.mjs
//   TSX_DISABLE_CACHE=1 node bench/imports.mjs    # tsx without its transform cache (a first run)
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const caseScript = fileURLToPath(new URL('./import-case.mjs', import.meta.url));
const tsx = import.meta.resolve('tsx');
const TSX = ['--conditions=@jobgraph/source', '--import', tsx];
const PACKAGES = ['core', 'deferred', 'ssh', 'cli'];
const fileUrl = (...parts) => pathToFileURL(join(root, ...parts)).href;

/** The file `import(name)` loads from `packageDir` on node: exports' import/node/default, else main. */
function importEntry(name, packageDir) {
  const dir = realpathSync(join(packageDir, 'node_modules', name));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let entry = manifest.exports?.['.'] ?? manifest.exports;
  while (entry !== null && typeof entry === 'object') {
    const key = Object.keys(entry).find((condition) => ['import', 'node', 'default'].includes(condition));
    if (key === undefined) break;
    entry = entry[key];
  }
  const path = typeof entry === 'string' ? entry : (manifest.main ?? 'index.js');
  return pathToFileURL(join(dir, path)).href;
}

const cases = [
  { name: 'node, nothing imported', args: [caseScript] },
  ...PACKAGES.map((pkg) => ({
    name: `@jobgraph/${pkg}, built`,
    args: [caseScript, fileUrl('packages', pkg, 'dist', 'index.js')],
  })),
  { name: 'tsx, nothing imported', args: [...TSX, caseScript] },
  ...PACKAGES.map((pkg) => ({
    name: `@jobgraph/${pkg}, tsx`,
    args: [...TSX, caseScript, fileUrl('packages', pkg, 'src', 'index.ts')],
  })),
  ...[
    ['jobgraph --help', ['--help']],
    ['jobgraph ssh -L -t localhost', ['ssh', '-L', '-t', 'localhost']],
  ].flatMap(([name, argv]) => [
    { name: `${name}, built`, args: [join(root, 'packages/cli/dist/cli/main.js'), ...argv], command: true },
    {
      name: `${name}, tsx`,
      args: [...TSX, join(root, 'packages/cli/src/cli/main.ts'), ...argv],
      command: true,
    },
  ]),
  {
    name: 'bin/jobgraph.js --help (checkout)',
    args: [join(root, 'packages/cli/bin/jobgraph.js'), '--help'],
    command: true,
  },
  ...[
    ['nunjucks', 'deferred'],
    ['zod', 'cli'],
    ['yaml', 'cli'],
    ['commander', 'cli'],
    ['ssh2', 'ssh'],
    ['@hpcc-js/wasm-graphviz', 'core'],
    ['@resvg/resvg-js', 'core'],
  ].map(([dep, pkg]) => ({
    name: `${dep} alone`,
    args: [caseScript, importEntry(dep, join(root, 'packages', pkg))],
  })),
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function runOnce(item, env = process.env) {
  const started = process.hrtime.bigint();
  // NODE_DEBUG=esm prints every module record (with tsx, its source maps): a large buffer
  const child = spawnSync(process.execPath, item.args, {
    cwd: root,
    encoding: 'utf8',
    env,
    maxBuffer: 2 ** 30,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0)
    throw new Error(`${item.name} failed (${child.status}): ${child.stderr.slice(-2000)}`);
  if (item.command) return { wallMs, child };
  const result = JSON.parse(child.stdout.trim().split('\n').pop());
  return { ...result, wallMs, rssMb: result.maxRssKb / 1024, child };
}

/** The modules a run loaded, counted by package: ours by name, dependencies by npm name. */
function modulesOf(item) {
  const { child } = runOnce(item, { ...process.env, NODE_DEBUG: 'esm,module' });
  const files = new Set();
  for (const match of child.stderr.matchAll(/Storing (file:\/\/\S+)|load "(\/[^"]+)" for module/g)) {
    const path = match[1] === undefined ? match[2] : fileURLToPath(match[1]);
    files.add(path);
  }
  files.delete(caseScript);
  const byPackage = new Map();
  for (const file of files) {
    const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(file);
    const ours = /\/packages\/([^/]+)\//.exec(file);
    const group = dependency?.[1] ?? (ours === null ? 'other' : ours[1]);
    byPackage.set(group, (byPackage.get(group) ?? 0) + 1);
  }
  return { count: files.size, byPackage };
}

const runs = new Map(cases.map((item) => [item, []]));
for (let round = 0; round < REPEAT; round++) {
  for (const item of cases) runs.get(item).push(runOnce(item));
}

const pad = (text, n) => String(text).padStart(n);
console.log(
  `node ${process.version}, tsx ${JSON.parse(readFileSync(new URL('../node_modules/tsx/package.json', import.meta.url), 'utf8')).version}` +
    `${process.env.TSX_DISABLE_CACHE ? ' (TSX_DISABLE_CACHE)' : ''}, ${REPEAT} fresh processes per case (medians; RSS = max peak)`,
);
console.log(
  `${'case'.padEnd(36)}${pad('start ms', 9)}${pad('import ms', 10)}${pad('wall ms', 9)}${pad('RSS MB', 8)}  modules loaded`,
);
for (const item of cases) {
  const results = runs.get(item);
  const modules = modulesOf(item);
  const groups = [...modules.byPackage]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  const fmt = (values, digits = 1) =>
    values.some((v) => v === undefined) ? '-' : median(values).toFixed(digits);
  console.log(
    `${item.name.padEnd(36)}${pad(fmt(results.map((r) => r.startMs)), 9)}${pad(fmt(results.map((r) => r.importMs)), 10)}` +
      `${pad(
        fmt(
          results.map((r) => r.wallMs),
          0,
        ),
        9,
      )}${pad(item.command ? '-' : Math.max(...results.map((r) => r.rssMb)).toFixed(0), 8)}` +
      `  ${modules.count}${groups === '' ? '' : `: ${groups}`}`,
  );
}
