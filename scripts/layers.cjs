/**
 * The layers of the packages that have them: folders of the package's `src/`, bottom first.
 * A module imports only from its own layer and the layers below it (.dependency-cruiser.cjs),
 * and every module of such a package but `index.ts` sits in one of them
 * (scripts/check-structure.mjs). ARCHITECTURE.md says what each layer holds.
 */
module.exports = {
  core: ['base', 'model', 'graph', 'run', 'views', 'scheduler'],
  // the commands on top of the two kinds of input they read (scenario files, target lists), and
  // of the run report (from a run's events: the page, its timeline and pictures, the log's lines)
  cli: ['targets', 'scenario', 'report', 'cli'],
};
