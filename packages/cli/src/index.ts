/**
 * @jobgraph/cli: scenario files (the apssh YAML format, validated with zod). The `jobgraph` command
 * comes later.
 * @packageDocumentation
 */
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
