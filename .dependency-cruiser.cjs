/**
 * dependency-cruiser rules, run by `pnpm lint` (scripts/check-structure.mjs wraps it).
 * Type-only imports count: `tsPreCompilationDeps` keeps them in the graph, because a reader
 * meets them like any other import.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Modules of a package depend on each other in one direction (ARCHITECTURE.md).',
      severity: 'error',
      from: { path: '^packages/' },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
  },
};
