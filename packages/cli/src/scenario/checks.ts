/**
 * Checks beyond the shape of a scenario: references between nodes and jobs, duplicates, cycles, and
 * the keys that go together. They run on the raw data, so they report even when the shape is wrong.
 */
import { elided } from '@jobgraph/core';
import { templateSyntaxError } from '@jobgraph/deferred';
import { formatPath, type PathItem } from './issues.js';
import { quoted } from './quoted.js';

type Problem = { path: string; message: string };
type Entry = Record<string, unknown>;

function entries(data: unknown, key: string): Array<{ index: number; entry: Entry }> {
  const list = data !== null && typeof data === 'object' ? (data as Entry)[key] : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry, index) =>
    entry !== null && typeof entry === 'object' && !Array.isArray(entry)
      ? [{ index, entry: entry as Entry }]
      : [],
  );
}

function asIds(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function known(ids: Iterable<string>): string {
  const list = [...ids];
  if (list.length === 0) return 'none defined';
  // a message stays one short line: the first ten, each cut as any value of the file
  const shown = list.slice(0, 10).map((id) => (id.length > 60 ? quoted(id) : id));
  return `known: ${shown.join(', ')}${list.length > 10 ? `, … (${list.length - 10} more)` : ''}`;
}

/** Whether `data[key]` is a list whose entries all have a string id. */
function complete(data: unknown, key: string): boolean {
  const list = data !== null && typeof data === 'object' ? (data as Entry)[key] : undefined;
  return (
    Array.isArray(list) &&
    list.every(
      (entry) => entry !== null && typeof entry === 'object' && typeof (entry as Entry).id === 'string',
    )
  );
}

/** Index of the first entry of each id; a problem for each later duplicate. */
function collectIds(kind: 'node' | 'job', list: Array<{ index: number; entry: Entry }>, problems: Problem[]) {
  const ids = new Map<string, number>();
  for (const { index, entry } of list) {
    if (typeof entry.id !== 'string' || entry.id === '') continue;
    const first = ids.get(entry.id);
    if (first === undefined) ids.set(entry.id, index);
    else {
      problems.push({
        path: formatPath([`${kind}s`, index, 'id']),
        message: `duplicate ${kind} id "${entry.id}" (first defined at ${kind}s[${first}])`,
      });
    }
  }
  return ids;
}

/** Cycles in a graph given as id → successor ids; each cycle once, as its id list, from its smallest index. */
function findCycles(order: readonly string[], edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  // depth-first without recursion: a chain of 5,000 jobs overflowed the stack
  const stack: string[] = [];
  const positions: number[] = [];
  const enter = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    positions.push(0);
  };
  for (const root of order) {
    if (state.has(root)) continue;
    enter(root);
    while (stack.length > 0) {
      const id = stack.at(-1) as string;
      const successors = edges.get(id) ?? [];
      const position = positions.at(-1) as number;
      if (position >= successors.length) {
        stack.pop();
        positions.pop();
        state.set(id, 'done');
        continue;
      }
      positions[positions.length - 1] = position + 1;
      const next = successors[position] as string;
      if (!edges.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) enter(next);
    }
  }
  return cycles;
}

/** `a -> b -> a`, a long cycle by its first and last ids (a ring of 2,000 made a line of all). */
function cycleText(cycle: readonly string[]): string {
  return elided(cycle).join(' -> ');
}

/** Every cross-reference problem of `data` (a parsed scenario, possibly malformed). */
export function checkReferences(data: unknown): Problem[] {
  const problems: Problem[] = [];
  const at = (path: PathItem[], message: string) => problems.push({ path: formatPath(path), message });
  const nodes = entries(data, 'nodes');
  const jobs = entries(data, 'jobs');
  const nodeIds = collectIds('node', nodes, problems);
  const jobIds = collectIds('job', jobs, problems);
  const localIds = new Set(
    nodes
      .filter(({ index, entry }) => entry.localnode === true && nodeIds.get(entry.id as string) === index)
      .map(({ entry }) => entry.id),
  );
  // references are checked only against complete lists: no cascade of "unknown" after a broken entry
  const nodesComplete = complete(data, 'nodes');
  const jobsComplete = complete(data, 'jobs');

  // nodes
  const gateways = new Map<string, string[]>();
  for (const { index, entry } of nodes) {
    if (entry.localnode === true) {
      for (const key of ['hostname', 'username', 'gateway', 'port', 'keys', 'sshConfig', 'sshConfigFile']) {
        if (entry[key] !== undefined) at(['nodes', index, key], 'not allowed on a localnode');
      }
      for (const key of [
        'hostKeyPolicy',
        'knownHosts',
        'connectTimeout',
        'keepaliveInterval',
        'maxSessions',
        'maxConnections',
        'idleClose',
        'maxHandshakes',
        'shareConnection',
        'tunnelNoDelay',
      ]) {
        if (entry[key] !== undefined) at(['nodes', index, key], 'not allowed on a localnode');
      }
      continue;
    }
    if (entry.hostname === undefined && entry.sshConfig === undefined) {
      at(['nodes', index, 'hostname'], 'missing (a node needs a hostname, or sshConfig, or localnode: true)');
    }
    if (entry.hostname !== undefined && entry.sshConfig !== undefined) {
      at(['nodes', index, 'sshConfig'], 'give hostname or sshConfig, not both');
    }
    if (entry.sshConfigFile !== undefined && entry.sshConfig === undefined) {
      at(['nodes', index, 'sshConfigFile'], 'only meaningful with sshConfig');
    }
    const gateway = entry.gateway;
    if (typeof gateway !== 'string' || gateway === '') continue;
    if (!nodeIds.has(gateway)) {
      if (nodesComplete)
        at(['nodes', index, 'gateway'], `unknown node ${quoted(gateway)} (${known(nodeIds.keys())})`);
    } else if (localIds.has(gateway)) {
      at(['nodes', index, 'gateway'], `node "${gateway}" is a localnode: a gateway must be an SSH node`);
    } else if (typeof entry.id === 'string' && nodeIds.get(entry.id) === index) {
      gateways.set(entry.id, [gateway]);
    }
  }
  for (const { index, entry } of nodes) {
    if (typeof entry.id === 'string' && nodeIds.get(entry.id) === index && !gateways.has(entry.id)) {
      gateways.set(entry.id, []);
    }
  }
  for (const cycle of findCycles([...nodeIds.keys()], gateways)) {
    const start = cycle[0] ?? '';
    at(['nodes', nodeIds.get(start) ?? 0, 'gateway'], `gateway cycle: ${cycleText(cycle)}`);
  }

  // jobs
  const requirements = new Map<string, string[]>();
  for (const { index, entry } of jobs) {
    if (nodesComplete && typeof entry.node === 'string' && entry.node !== '' && !nodeIds.has(entry.node)) {
      at(['jobs', index, 'node'], `unknown node ${quoted(entry.node)} (${known(nodeIds.keys())})`);
    }
    const required = asIds(entry.required);
    required.forEach((id, position) => {
      const where: PathItem[] = Array.isArray(entry.required)
        ? ['jobs', index, 'required', position]
        : ['jobs', index, 'required'];
      if (jobsComplete && !jobIds.has(id)) at(where, `unknown job ${quoted(id)} (${known(jobIds.keys())})`);
    });
    if (typeof entry.id === 'string' && jobIds.get(entry.id) === index) {
      requirements.set(
        entry.id,
        required.filter((id) => jobIds.has(id)),
      );
    }
    const commands = Array.isArray(entry.commands) ? entry.commands : [];
    commands.forEach((command: unknown, position) => {
      if (command === null || typeof command !== 'object') return;
      checkCommand(command as Entry, ['jobs', index, 'commands', position], at);
    });
  }
  for (const cycle of findCycles([...jobIds.keys()], requirements)) {
    const start = cycle[0] ?? '';
    at(['jobs', jobIds.get(start) ?? 0, 'required'], `requirement cycle: ${cycleText(cycle)}`);
  }
  return problems;
}

function checkCommand(
  command: Entry,
  path: PathItem[],
  at: (path: PathItem[], message: string) => void,
): void {
  const blank = (value: unknown) => typeof value === 'string' && value.trim() === '';
  if (command.allowedExits !== undefined && command.allowed_exits !== undefined) {
    at([...path, 'allowed_exits'], 'give allowedExits or allowed_exits (its apssh name), not both');
  }
  switch (command.type) {
    case 'Run':
      if (command.command === undefined && command.argv === undefined)
        at(path, 'Run needs command (a string) or argv (a list)');
      if (command.command !== undefined && command.argv !== undefined)
        at([...path, 'argv'], 'give command or argv, not both');
      if (blank(command.command)) at([...path, 'command'], 'empty command');
      if (Array.isArray(command.argv) && command.argv.length === 0)
        at([...path, 'argv'], 'expected at least 1 item, got an empty list');
      // what the command would refuse when it runs, said now with its place
      if (typeof command.env === 'object' && command.env !== null) {
        for (const name of Object.keys(command.env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
            at(
              [...path, 'env', name],
              'expected an environment variable name (letters, digits and _, not first a digit)',
            );
        }
      }
      break;
    case 'RunScript':
      if (command.command === undefined && command.local_script === undefined) {
        at(path, 'RunScript needs command (script and arguments) or local_script');
      }
      if (command.command !== undefined && command.local_script !== undefined) {
        at([...path, 'local_script'], 'give command or local_script, not both');
      }
      if (command.command !== undefined && command.args !== undefined)
        at([...path, 'args'], 'args go with local_script, not with command');
      if (blank(command.command)) at([...path, 'command'], 'empty command');
      break;
    default:
      break;
  }
}

/** The keys of a command whose text is a template rendered right before it runs. */
const RENDERED_AT_RUN_TIME = new Set(['command', 'argv', 'args', 'script_body']);
/** Keys whose text is shown, not run: a template there reads as itself (a label, an id). */
const SHOWN_AS_WRITTEN = new Set(['type', 'label', 'id']);
/** The names a `{{ … }}` starts with: `{{ pod }}`, `{{ pod | upper }}`, `{{ pod.name }}`. */
const TEMPLATE_NAME = /\{\{-?\s*([A-Za-z_]\w*)/g;

/**
 * Captures used where nothing renders them: only commands are rendered at run time, so a
 * `{{ rs }}` of a capture in a path, an environment value or a node's settings would be used as
 * written (a file named `out-{{ rs }}`). Other braces are left alone: `{{.Names}}` may well be a
 * docker format meant literally.
 */
export function checkRunTimeTemplates(data: unknown): Problem[] {
  const problems: Problem[] = [];
  const jobs = entries(data, 'jobs');
  const captures = new Set(
    jobs.flatMap(({ entry }) =>
      entries(entry, 'commands').flatMap(({ entry: command }) =>
        typeof command.capture === 'string' ? [command.capture] : [],
      ),
    ),
  );
  if (captures.size === 0) return problems;
  const capturedIn = (text: string) =>
    [...text.matchAll(TEMPLATE_NAME)].map((match) => match[1] as string).find((name) => captures.has(name));
  const visit = (value: unknown, path: PathItem[]): void => {
    if (typeof value === 'string') {
      const captured = capturedIn(value);
      if (captured !== undefined) {
        problems.push({
          path: formatPath(path),
          message: `holds {{ ${captured} }} (${quoted(value)}), but captures are rendered only in commands (command, argv, args, script_body): here it would be used as written`,
        });
      }
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, [...path, index]);
    } else if (value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) visit(item, [...path, name]);
    }
  };
  const visitEntry = (entry: Entry, path: PathItem[], skip: ReadonlySet<string>) => {
    for (const [key, value] of Object.entries(entry)) {
      if (!skip.has(key) && !SHOWN_AS_WRITTEN.has(key)) visit(value, [...path, key]);
    }
  };
  for (const { index, entry } of entries(data, 'nodes')) visitEntry(entry, ['nodes', index], new Set());
  for (const { index, entry } of jobs) {
    for (const { index: position, entry: command } of entries(entry, 'commands')) {
      const at: PathItem[] = ['jobs', index, 'commands', position];
      visitEntry(command, at, RENDERED_AT_RUN_TIME);
      // a RunScript's command starts with the local script, which is read as the scenario
      // loads: a capture there is never rendered (its arguments are)
      const start =
        command.type === 'RunScript' && typeof command.command === 'string'
          ? /^\s*\{\{-?\s*(\w+)/.exec(command.command)
          : null;
      if (start?.[1] !== undefined && captures.has(start[1])) {
        problems.push({
          path: formatPath([...at, 'command']),
          message: `starts with {{ ${start[1]} }}, but a RunScript's script path is not rendered (its arguments are): name the local script itself`,
        });
      }
    }
  }
  return problems;
}

/** The keys of a command whose text is rendered at run time when it holds `{{` or `{%`. */
const TEMPLATED_KEYS = ['command', 'argv', 'args', 'script_body'] as const;

/**
 * Command templates that do not parse: found as the scenario loads, not when the job's turn
 * comes (after earlier jobs ran). A literal `{{` (a docker or kubectl Go template) is written
 * `{% raw %}…{% endraw %}`.
 */
export function checkCommandTemplates(data: unknown): Problem[] {
  const problems: Problem[] = [];
  const check = (text: unknown, path: PathItem[]) => {
    if (typeof text !== 'string' || !/\{\{|\{%/.test(text)) return;
    const why = templateSyntaxError(text);
    if (why === undefined) return;
    const hint = why.includes('filter not found')
      ? ''
      : '; a literal {{ (a Go template) is written {% raw %}{{.Names}}{% endraw %}';
    problems.push({
      path: formatPath(path),
      message: `is rendered as a Jinja2 template at run time, and ${quoted(text)} is not one (${why})${hint}`,
    });
  };
  for (const { index, entry } of entries(data, 'jobs')) {
    for (const { index: position, entry: command } of entries(entry, 'commands')) {
      for (const key of TEMPLATED_KEYS) {
        const value = command[key];
        const at: PathItem[] = ['jobs', index, 'commands', position, key];
        if (Array.isArray(value)) for (const [item, text] of value.entries()) check(text, [...at, item]);
        else check(value, at);
      }
    }
  }
  return problems;
}
