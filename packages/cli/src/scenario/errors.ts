/**
 * ScenarioError: every problem of a scenario file at once.
 */
import { JobGraphError } from '@jobgraph/core';

/** One problem in a scenario file. */
export interface ScenarioProblem {
  /** The scenario file. */
  readonly file: string;
  /** Where in the file, as a YAML path such as `jobs[3].commands[0].type`; `(root)` for the whole file. */
  readonly path: string;
  /** What is wrong, and what was expected. */
  readonly message: string;
}

/**
 * A scenario file could not be loaded: code `ERR_CONFIG`. `problems` lists every problem found; the
 * message has a summary line (`<file>: 3 problems`) then one line per problem (`  <path>: <message>`).
 */
export class ScenarioError extends JobGraphError {
  override name = 'ScenarioError';
  readonly file: string;
  readonly problems: readonly ScenarioProblem[];

  constructor(file: string, problems: readonly ScenarioProblem[], options?: ErrorOptions) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      'ERR_CONFIG',
      [`${file}: ${count}`, ...problems.map((problem) => `  ${problem.path}: ${problem.message}`)].join('\n'),
      options,
    );
    this.file = file;
    this.problems = problems;
  }
}
