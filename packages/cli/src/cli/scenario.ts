/**
 * Loading a scenario for a command, and closing what it opened.
 */
import { closeSshInScheduler } from '@jobgraph/ssh';
import { type LoadedScenario, loadScenario } from '../scenario/load.js';

/**
 * Loads `file`, rendered with `variables` when there are any (or when it is a `.j2` file); `quiet`:
 * its nodes print nothing on the terminal (the live view shows their output).
 */
export function load(
  file: string,
  variables: Record<string, unknown>,
  options: { quiet?: boolean } = {},
): Promise<LoadedScenario> {
  return loadScenario(file, {
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(options.quiet === true ? { quiet: true } : {}),
  });
}

/** Closes every connection of the scenario: the SSH nodes of its jobs (gateways last), then every node. */
export async function closeAll(scenario: LoadedScenario): Promise<void> {
  const outcomes = await Promise.allSettled([closeSshInScheduler(scenario.scheduler)]);
  const more = await Promise.allSettled([...scenario.nodes.values()].map((node) => node.close()));
  const failed = [...outcomes, ...more].find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
