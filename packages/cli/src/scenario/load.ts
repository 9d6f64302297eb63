/**
 * loadScenario: a scenario file (YAML, optionally a Jinja template) → nodes, jobs and a Scheduler.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readBounded, type Scheduler } from '@jobgraph/core';
import { Variables } from '@jobgraph/deferred';
import type { CommandNode, SshJob } from '@jobgraph/ssh';
import { LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import { buildJobs, buildNodes, localPath } from './build.js';
import { checkCommandTemplates, checkReferences, checkRunTimeTemplates } from './checks.js';
import { ScenarioError, type ScenarioProblem } from './errors.js';
import { comparePaths, describeIssue } from './issues.js';
import { renderOrThrow, TEMPLATE_SYNTAX } from './pre-render.js';
import { type ScenarioFile, scenarioSchema } from './schema.js';

export { TEMPLATE_SYNTAX } from './pre-render.js';

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
  /**
   * The nodes print nothing on the terminal: their formatters that would (HostFormatter, the
   * default, RawFormatter…) are replaced by one that shows nothing; SubdirFormatter and
   * CaptureFormatter stay. For a live view, which shows the output itself. @default false
   */
  quiet?: boolean;
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

/**
 * The largest scenario file read: one written by hand or by a script is far smaller, and a
 * device or a pipe that never ends (`/dev/zero`) must be an error, not gigabytes read.
 */
const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/** The header of a rendered scenario (apssh's). */
export function intermediateHeader(source: string): string {
  return `# WARNING: this file was produced automatically - DO NOT EDIT !\n# see ${source} instead\n#\n`;
}

/** Where `saveIntermediate: true` writes the rendered YAML of `file`. */
export function intermediatePath(file: string): string {
  return file.endsWith('.j2') ? file.slice(0, -'.j2'.length) : `${file}.tmp`;
}

/**
 * `yes`/`no`/`on`/`off` (plain, in any of YAML 1.1's cases) are booleans, as PyYAML's safe_load,
 * apssh's, reads them: `localnode: yes` was refused ("expected a boolean, got \"yes\""). Not `y`
 * and `n`, which PyYAML leaves strings too; quoted, they stay strings.
 */
const YAML11_BOOLEANS = {
  identify: (value: unknown) => typeof value === 'boolean',
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test: /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/,
  resolve: (text: string) => /^(?:yes|on)$/i.test(text),
};

/** `hostKeyPolicy: off`, read as the boolean false with {@link YAML11_BOOLEANS}, is the policy `off`. */
function offAsText(data: unknown): void {
  const nodes = (data as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return;
  for (const node of nodes) {
    if (
      typeof node === 'object' &&
      node !== null &&
      (node as { hostKeyPolicy?: unknown }).hostKeyPolicy === false
    )
      (node as { hostKeyPolicy: string }).hostKeyPolicy = 'off';
  }
}

/**
 * The scenario's text once parsed and validated, or every problem found.
 * @throws ScenarioError (code `ERR_CONFIG`) listing every problem.
 */
export async function parseScenario(
  file: string,
  text: string,
  options: { rendered?: boolean; savedAs?: string | undefined } = {},
): Promise<ScenarioFile> {
  const lineCounter = new LineCounter();
  // merge keys (`<<: *defaults`) as PyYAML's safe_load reads them; warnings are ours to report
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'silent',
    customTags: (tags) => [...tags, YAML11_BOOLEANS],
  });
  // a line of the rendered text: in the saved intermediate file when there is one (same lines)
  const at = options.savedAs ?? file;
  const where =
    options.savedAs !== undefined
      ? ` (${file} rendered)`
      : options.rendered === true
        ? ' (a line of the rendered template)'
        : '';
  // a second document (`---`) was dropped without a word; PyYAML's safe_load, apssh's, refuses it
  if (document.errors.length === 0 && /(^|\n)---/.test(text)) {
    const documents = parseAllDocuments(text, { logLevel: 'silent' });
    const second = Array.isArray(documents) ? documents[1] : undefined;
    if (second !== undefined) {
      const position = lineCounter.linePos(second.range[0]);
      throw new ScenarioError(file, [
        {
          file,
          path: '(root)',
          message: `a second YAML document starts at ${at}:${position.line}${where}: a scenario is one document (expected no --- after the first)`,
        },
      ]);
    }
  }
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        const message = error.message.split('\n')[0] ?? error.message;
        return {
          file,
          path: '(root)',
          message: `YAML syntax error at ${at}:${position.line}:${position.col}${where}: ${message}`,
        };
      }),
    );
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // the yaml library's own limit on aliases ("billion laughs"), the one error of toJS()
    const message = error instanceof Error ? error.message : String(error);
    throw new ScenarioError(
      file,
      [{ file, path: '(root)', message: `YAML error in ${at}${where}: ${message}` }],
      {
        cause: error,
      },
    );
  }
  const problems: ScenarioProblem[] = [];
  offAsText(data);
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const problem of describeIssue(issue, data)) problems.push({ file, ...problem });
    }
  }
  for (const problem of checkReferences(data)) problems.push({ file, ...problem });
  for (const problem of checkRunTimeTemplates(data)) problems.push({ file, ...problem });
  for (const problem of checkCommandTemplates(data)) problems.push({ file, ...problem });
  for (const problem of missingLocalFiles(data, file)) problems.push({ file, ...problem });
  problems.sort((a, b) => comparePaths(a.path, b.path));
  if (problems.length > 0 || !parsed.success) throw new ScenarioError(file, problems);
  return parsed.data;
}

/**
 * The nodes' key files and ssh_config files that are not there, found now rather than when the
 * node connects (an ssh_config file missing was even taken for no file at all).
 */
function missingLocalFiles(data: unknown, file: string): { path: string; message: string }[] {
  const nodes = (data as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const problems: { path: string; message: string }[] = [];
  const missing = (path: unknown) =>
    typeof path === 'string' && path !== '' && !existsSync(localPath(path, file));
  nodes.forEach((node: { keys?: unknown; sshConfigFile?: unknown } | null, index) => {
    if (Array.isArray(node?.keys)) {
      node.keys.forEach((key, at) => {
        if (missing(key))
          problems.push({ path: `nodes[${index}].keys[${at}]`, message: `no such key file: ${String(key)}` });
      });
    }
    if (missing(node?.sshConfigFile))
      problems.push({
        path: `nodes[${index}].sshConfigFile`,
        message: `no such ssh config file: ${String(node?.sshConfigFile)}`,
      });
  });
  return problems;
}

/**
 * Values are data: a value holding `{{`, `{%` or `{#` would be read as a template after the pre-render
 * (at run time, or even in a dry run), so it is refused.
 */
function templatedValues(file: string, values: Record<string, unknown>): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (TEMPLATE_SYNTAX.test(value)) {
        problems.push({
          file,
          path: `(variables).${path}`,
          message:
            'a value may not hold {{, {% or {# (it would be read as a template): write the template in the scenario file',
        });
      }
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, `${path}[${index}]`);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`);
    }
  };
  for (const [name, value] of Object.entries(values)) visit(value, name);
  return problems;
}

/** The names the pre-render left as `{{ name }}`: no value was given for them. */
function namesWithoutValue(rendered: string, values: Record<string, unknown>): string[] {
  const names = [...rendered.matchAll(/\{\{\s*([A-Za-z_]\w*)/g)].map((match) => match[1] as string);
  return [...new Set(names)].filter((name) => values[name] === undefined);
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
    text = (await readBounded(file, MAX_SCENARIO_BYTES)).toString('utf8');
  } catch (error) {
    throw new ScenarioError(
      path,
      [{ file: path, path: '(root)', message: `cannot read the file: ${(error as Error).message}` }],
      {
        cause: error,
      },
    );
  }
  const rendered = options.variables !== undefined || file.endsWith('.j2');
  const values = options.variables ?? {};
  let savedAs: string | undefined;
  if (rendered) {
    const refused = templatedValues(path, values);
    if (refused.length > 0) throw new ScenarioError(path, refused);
    text = renderOrThrow(path, text, values);
    const save = options.saveIntermediate;
    if (save !== undefined && save !== false) {
      savedAs = save === true ? intermediatePath(path) : save;
      // parsed with its header (comments only), so that a line number is one of the saved file
      text = intermediateHeader(path) + text;
      await writeFile(resolve(savedAs), text);
    }
  }
  let scenario: ScenarioFile;
  try {
    scenario = await parseScenario(path, text, { rendered, savedAs });
  } catch (error) {
    // a variable nobody gave often breaks the YAML or its shape: say which ones are missing
    const missing = rendered && error instanceof ScenarioError ? namesWithoutValue(text, values) : [];
    if (missing.length === 0) throw error;
    const hint = {
      file: path,
      path: '(variables)',
      message: `no value for ${missing.map((name) => `"${name}"`).join(', ')} (kept as {{ name }} by the pre-render; captures get theirs at run time)`,
    };
    throw new ScenarioError(path, [...(error as ScenarioError).problems, hint], { cause: error });
  }
  const variables = new Variables(options.variables ?? {});
  const context = { file, variables, ...(options.quiet === true ? { quiet: true } : {}) };
  const nodes = await buildNodes(scenario.nodes, context);
  const { scheduler, jobs } = buildJobs(scenario, nodes, context);
  return { scheduler, nodes, jobs, variables };
}
