/**
 * `jobgraph graph SCENARIO -o FILE`: writes the job graph (or, with `--topology`, the SSH topology)
 * of a scenario without running it.
 */
import { EXIT } from './errors.js';
import type { GraphOptions } from './options.js';
import { checkOutputFile } from './output-paths.js';
import { writeJobGraph, writeTopology } from './pictures.js';
import type { Io } from './run.js';
import { closeAll, load } from './scenario.js';

/** Writes the graph of `file`. @returns the exit code */
export async function graphCommand(file: string, options: GraphOptions, io: Io): Promise<number> {
  // checked as `run --graph` checks it: exit 2, one line (it was a raw ENOENT, exit 1)
  await checkOutputFile('-o', options.output);
  const scenario = await load(file, options.variables);
  try {
    const written = options.topology
      ? await writeTopology(scenario.scheduler, options.output)
      : await writeJobGraph(scenario.scheduler, options.output);
    io.stdout.write(`wrote ${written}\n`);
  } finally {
    await closeAll(scenario);
  }
  return EXIT.ok;
}
