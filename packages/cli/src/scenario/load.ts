/**
 * loadScenario: a scenario file (YAML, optionally a Jinja template) → nodes, jobs and a Scheduler.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Scheduler } from '@jobgraph/core';
import { renderTemplate, Variables } from '@jobgraph/deferred';
import type { CommandNode, SshJob } from '@jobgraph/ssh';
import { LineCounter, parseDocument } from 'yaml';
import { buildJobs, buildNodes } from './build.js';
import { checkReferences } from './checks.js';
import { ScenarioError, type ScenarioProblem } from './errors.js';
import { comparePaths, describeIssue } from './issues.js';
import { type ScenarioFile, scenarioSchema } from './schema.js';

export interface LoadScenarioOptions {
  /**
   * Values for the Jinja pre-render. With variables (or a file ending in `.j2`) the file is rendered
   * first; undefined names stay as they are (`{{ name }}`), to become Deferred on the scenario's
   * Variables, which start with these values.
   */
  variables?: Record<string, unknown>;
  /**
   * Write the rendered YAML: `true` next to the input (`x.yaml.j2` → `x.yaml`, else `x.tmp`), a string
   * to that path. Only when the file is rendered.
   */
  saveIntermediate?: boolean | string;
}

export interface LoadedScenario {
  /** The jobs, not critical itself: `run()` resolves false when a critical job fails. */
  scheduler: Scheduler;
  /** The nodes by id, in the file's order. */
  nodes: Map<string, CommandNode>;
  /** The jobs by id, in the file's order. */
  jobs: Map<string, SshJob>;
  /** The store of captures and Deferred commands, seeded with `options.variables`. */
  variables: Variables;
}

/** The header of a rendered scenario (apssh's). */
export function intermediateHeader(source: string): string {
  return `# WARNING: this file was produced automatically - DO NOT EDIT !\n# see ${source} instead\n#\n`;
}

/** Where `saveIntermediate: true` writes the rendered YAML of `file`. */
export function intermediatePath(file: string): string {
  return file.endsWith('.j2') ? file.slice(0, -'.j2'.length) : `${file}.tmp`;
}

/**
 * The scenario's text once parsed and validated, or every problem found.
 * @throws ScenarioError (code `ERR_CONFIG`) listing every problem.
 */
export async function parseScenario(file: string, text: string): Promise<ScenarioFile> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        const message = error.message.split('\n')[0] ?? error.message;
        return {
          file,
          path: '(root)',
          message: `YAML syntax error at ${file}:${position.line}:${position.col}: ${message}`,
        };
      }),
    );
  }
  const data: unknown = document.toJS();
  const problems: ScenarioProblem[] = [];
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const problem of describeIssue(issue, data)) problems.push({ file, ...problem });
    }
  }
  for (const problem of checkReferences(data)) problems.push({ file, ...problem });
  problems.sort((a, b) => comparePaths(a.path, b.path));
  if (problems.length > 0 || !parsed.success) throw new ScenarioError(file, problems);
  return parsed.data;
}

/**
 * Renders `text` leniently (undefined names stay as `{{ name }}`). The lenient renderer gives the text
 * back unchanged when the template is broken: a strict render then tells why.
 */
function renderOrThrow(file: string, text: string, values: Record<string, unknown>): string {
  const rendered = renderTemplate(text, values, 'lenient');
  if (rendered !== text || !/\{\{|\{%/.test(text)) return rendered;
  try {
    renderTemplate(text, values, 'strict');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNDEFINED_VARIABLE') {
      const message = `template error: ${(error as Error).message.split('\n')[0] ?? ''}`;
      throw new ScenarioError(file, [{ file, path: '(root)', message }], { cause: error });
    }
  }
  return rendered;
}

/**
 * Loads a scenario file: renders it if it is a template, parses and validates it, then builds its
 * nodes and jobs in a Scheduler.
 *
 * @example
 * ```ts
 * const { scheduler, nodes } = await loadScenario('experiment.yaml.j2', { variables: { gateway: 'faraday' } });
 * const ok = await scheduler.run();
 * ```
 * @throws ScenarioError (code `ERR_CONFIG`) listing every problem of the file.
 */
export async function loadScenario(path: string, options: LoadScenarioOptions = {}): Promise<LoadedScenario> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(
      path,
      [{ file: path, path: '(root)', message: `cannot read the file: ${(error as Error).message}` }],
      {
        cause: error,
      },
    );
  }
  if (options.variables !== undefined || file.endsWith('.j2')) {
    text = intermediateHeader(path) + renderOrThrow(path, text, options.variables ?? {});
    const save = options.saveIntermediate;
    if (save !== undefined && save !== false) {
      await writeFile(save === true ? intermediatePath(file) : resolve(save), text);
    }
  }
  const scenario = await parseScenario(path, text);
  const variables = new Variables(options.variables ?? {});
  const context = { file, variables };
  const nodes = await buildNodes(scenario.nodes, context);
  const { scheduler, jobs } = buildJobs(scenario, nodes, context);
  return { scheduler, nodes, jobs, variables };
}
