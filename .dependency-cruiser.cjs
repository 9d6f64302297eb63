/**
 * dependency-cruiser rules, checked by `pnpm lint` (scripts/check-structure.mjs).
 *
 * - no cycle between the modules of a package, **type-only imports included**
 *   (`tsPreCompilationDeps`): a reader meets them like any other import;
 * - the layers of a package (folders of its `src/`, bottom first: scripts/layers.cjs) import
 *   only downwards, and no module imports the package's own `index.ts`;
 * - every import resolves (an unresolved one would escape the rules above).
 */
const LAYERS = require('./scripts/layers.cjs');

const layerRules = Object.entries(LAYERS).flatMap(([pkg, layers]) =>
  layers.slice(0, -1).map((layer, i) => ({
    name: `${pkg}-layer-${layer}`,
    comment: `${pkg}/src/${layer}/ may import only ${layers.slice(0, i).join(', ') || 'nothing of its package but itself'} (ARCHITECTURE.md)`,
    severity: 'error',
    from: { path: `^packages/${pkg}/src/${layer}/` },
    to: { path: `^packages/${pkg}/src/(${layers.slice(i + 1).join('|')})/` },
  })),
);

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Modules of a package depend on each other in one direction (ARCHITECTURE.md).',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true },
    },
    {
      name: 'no-index-import',
      comment: "A package's index.ts is its public face: its own modules never import it.",
      severity: 'error',
      from: { path: '^packages/([^/]+)/src/' },
      to: { path: '^packages/$1/src/index\\.ts$' },
    },
    {
      name: 'not-unresolvable',
      comment:
        'Every import resolves: an unresolved one (a typo, or a package importing itself by its own name) would escape the other rules.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { couldNotResolve: true },
    },
    ...layerRules,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // resolve the other @jobgraph packages as the typecheck does: to their sources
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@jobgraph/source', 'types', 'import', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
  },
};
