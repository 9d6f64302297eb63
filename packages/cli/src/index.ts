/**
 * @jobgraph/cli: scenario files (the apssh YAML format, validated with zod), the run report
 * (recordRun, writeReport), and the `jobgraph` command (bin/jobgraph.js).
 * @packageDocumentation
 */
export type { PlannedJob } from './report/plan.js';
export { type RunRecording, recordRun, writeReport } from './report/write-report.js';
export { isDurationString, parseDuration } from './scenario/durations.js';
export { ScenarioError, type ScenarioProblem } from './scenario/errors.js';
export {
  intermediateHeader,
  intermediatePath,
  type LoadedScenario,
  type LoadScenarioOptions,
  loadScenario,
  parseScenario,
} from './scenario/load.js';
export {
  COMMAND_TYPES,
  type CommandEntry,
  commandSchema,
  FORMATTER_NAMES,
  type JobEntry,
  jobSchema,
  type NodeEntry,
  nodeSchema,
  type ScenarioFile,
  scenarioJsonSchema,
  scenarioSchema,
  schedulerSchema,
} from './scenario/schema.js';
