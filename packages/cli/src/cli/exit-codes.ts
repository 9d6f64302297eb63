/**
 * The exit codes of `jobgraph`, in a module of their own: main.ts needs them on every run, and
 * errors.ts (which loads @jobgraph/core for ScenarioError) only when something went wrong.
 */

/** Exit codes of `jobgraph`. */
export const EXIT = {
  ok: 0,
  /** The run failed, or an error while running. */
  failure: 1,
  /** A bad command line or a bad scenario. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;
