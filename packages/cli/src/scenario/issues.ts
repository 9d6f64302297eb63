/**
 * zod issues as scenario problems: a YAML path and a message saying what was expected.
 */
import type { z } from 'zod';
import { quoted } from './quoted.js';
import {
  COMMAND_TYPES,
  jobSchema,
  nodeSchema,
  pullCommandSchema,
  pushCommandSchema,
  runCommandSchema,
  runScriptCommandSchema,
  runStringCommandSchema,
  scenarioSchema,
  schedulerSchema,
} from './schema.js';

export type PathItem = PropertyKey;

/** `jobs[3].commands[0].type`; `(root)` for the empty path. */
export function formatPath(path: readonly PathItem[]): string {
  let text = '';
  for (const item of path) {
    if (typeof item === 'number') text += `[${item}]`;
    else text += text === '' ? String(item) : `.${String(item)}`;
  }
  return text === '' ? '(root)' : text;
}

/** A value as shown in messages: strings quoted, lists and mappings named. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return quoted(value);
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

const COMMAND_SHAPES: Record<string, readonly string[]> = {
  Run: Object.keys(runCommandSchema.shape),
  RunScript: Object.keys(runScriptCommandSchema.shape),
  RunString: Object.keys(runStringCommandSchema.shape),
  Push: Object.keys(pushCommandSchema.shape),
  Pull: Object.keys(pullCommandSchema.shape),
};

/** The keys allowed in the mapping at `path` of `data`. */
function allowedKeys(path: readonly PathItem[], data: unknown): readonly string[] {
  const [first] = path;
  if (path.length === 0) return Object.keys(scenarioSchema.shape);
  if (first === 'scheduler' && path.length === 1) return Object.keys(schedulerSchema.shape);
  if (first === 'nodes' && path.length === 2) return Object.keys(nodeSchema.shape);
  if (first === 'jobs' && path.length === 2) return Object.keys(jobSchema.shape);
  if (first === 'jobs' && path.length === 4) {
    const type = valueAt(data, path) as { type?: unknown } | undefined;
    return COMMAND_SHAPES[String(type?.type)] ?? [];
  }
  return [];
}

/** The value at `path` in `data`, or undefined. */
export function valueAt(data: unknown, path: readonly PathItem[]): unknown {
  let value = data;
  for (const item of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[item];
  }
  return value;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + cost);
      previous = saved;
    }
  }
  return row[b.length] ?? 0;
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const close = allowed
    .map((candidate) => ({ candidate, d: distance(key.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  if (close !== undefined) return `unknown key; did you mean "${close.candidate}"?`;
  return allowed.length > 0 ? `unknown key; expected one of ${allowed.join(', ')}` : 'unknown key';
}

function oneOf(values: readonly unknown[]): string {
  return values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(', ');
}

/** The problems (path, message) of one zod issue. */
export function describeIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
): Array<{ path: string; message: string }> {
  const path = issue.path;
  const input = valueAt(data, path);
  const at = (message: string, where: readonly PathItem[] = path) => [{ path: formatPath(where), message }];
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return at(`missing (expected ${typeName(issue.expected)})`);
      return at(`expected ${typeName(issue.expected)}, got ${describeValue(input)}`);
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path, data);
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: unknownKeyMessage(key, allowed),
      }));
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : COMMAND_TYPES;
        if (input === undefined) return at(`missing (expected one of ${oneOf(options)})`);
        return at(`expected one of ${oneOf(options)}, got ${describeValue(input)}`);
      }
      const branches = issue.errors;
      // a branch whose type the value has, wrong only inside (`[a, null]` for a list of strings):
      // its own issues, at their place ("expected a string or a string, got a list" said nothing)
      const inside = branches.find(
        (issues) => issues.length > 0 && issues.every((one) => one.path.length > 0),
      );
      if (inside !== undefined) {
        return inside.flatMap((inner) => describeIssue({ ...inner, path: [...path, ...inner.path] }, data));
      }
      const typeOnly = branches.every((branch) => branch.length === 1 && branch[0]?.code === 'invalid_type');
      if (typeOnly) {
        const names = branches.map((branch) =>
          branch[0]?.code === 'invalid_type' ? typeName(branch[0].expected) : '?',
        );
        if (input === undefined) return at(`missing (expected ${names.join(' or ')})`);
        return at(`expected ${names.join(' or ')}, got ${describeValue(input)}`);
      }
      const branch =
        branches.find((issues) => issues.every((one) => one.code !== 'invalid_type')) ?? branches[0];
      return (branch ?? []).flatMap((inner) =>
        describeIssue({ ...inner, path: [...path, ...inner.path] }, data),
      );
    }
    case 'invalid_value':
      return at(
        `expected ${issue.values.length === 1 ? '' : 'one of '}${oneOf(issue.values)}, got ${describeValue(input)}`,
      );
    case 'too_small':
      if (issue.origin === 'array') {
        return at(
          `expected at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}, got an empty list`,
        );
      }
      if (issue.origin === 'string') return at('expected a non-empty string');
      return at(`expected a number >= ${String(issue.minimum)}, got ${describeValue(input)}`);
    case 'too_big':
      return at(`expected a number <= ${String(issue.maximum)}, got ${describeValue(input)}`);
    case 'invalid_format':
      return at(`${issue.message}, got ${describeValue(input)}`);
    default:
      return at(issue.message);
  }
}

const SECTIONS = ['(root)', 'nodes', 'jobs', 'scheduler'];

/**
 * Orders problems as their places in the file: sections (nodes, jobs, scheduler), then entries by index;
 * problems of one entry keep their order (stable sort).
 */
export function comparePaths(a: string, b: string): number {
  const split = (path: string) => path.split(/[.[\]]+/).filter((part) => part !== '');
  const x = split(a);
  const y = split(b);
  const sectionOf = (name: string | undefined) => {
    const index = SECTIONS.indexOf(name ?? '(root)');
    return index === -1 ? SECTIONS.length : index;
  };
  const section = sectionOf(x[0]) - sectionOf(y[0]);
  if (section !== 0) return section;
  for (let depth = 1; depth < Math.min(x.length, y.length); depth++) {
    const [p, q] = [x[depth] ?? '', y[depth] ?? ''];
    const numeric = /^\d+$/.test(p) && /^\d+$/.test(q);
    if (!numeric) return 0;
    if (p !== q) return Number(p) - Number(q);
  }
  return 0;
}
