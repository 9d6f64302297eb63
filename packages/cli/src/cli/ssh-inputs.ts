/**
 * What `jobgraph ssh` reads besides its targets: `--stdin` (a file, or our own standard input),
 * `--host-args` (a YAML or JSON file of per-target arguments), `--sudo-password-file`, and the
 * check of `--encoding`. Each problem is a one-line UsageError naming the option; a secret read
 * from a file never appears in one.
 */
import { readBounded } from '@jobgraph/core';
import type { HostArg } from '@jobgraph/ssh';
import { parseDocument } from 'yaml';
import { targetNameForms } from '../targets/names.js';
import type { Target } from '../targets/resolve.js';
import { UsageError } from './errors.js';

/** Why a file could not be read, in a few words (the errno's message names the path again). */
function whyUnreadable(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** The largest file an option names that is read (host arguments, a password). */
const MAX_OPTION_FILE_BYTES = 64 * 1024 * 1024;

/** The bytes of a file an option names. @throws UsageError naming the option and the file */
export async function readOptionFile(option: string, path: string): Promise<Buffer> {
  try {
    return await readBounded(path, MAX_OPTION_FILE_BYTES);
  } catch (error) {
    throw new UsageError(`${option} ${path}: cannot read it: ${whyUnreadable(error)}`, { cause: error });
  }
}

/** `--encoding`: a label TextDecoder knows (what the nodes accept), else a usage error. */
export function checkEncoding(label: string | undefined): void {
  if (label === undefined) return;
  try {
    new TextDecoder(label);
  } catch {
    throw new UsageError(
      `--encoding ${label}: unknown encoding: expected a label TextDecoder knows, e.g. utf-8, latin1, utf-16le`,
    );
  }
}

/**
 * `--stdin FILE|-`: the bytes every target's command reads, read once. `-` is our own standard
 * input, read to its end; a terminal is refused rather than waited on (nothing would say that
 * jobgraph is waiting for the user to type).
 */
export async function readStdinOption(
  spec: string,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<Buffer> {
  if (spec !== '-') return readOptionFile('--stdin', spec);
  if (stdin.isTTY === true) {
    throw new UsageError(
      '--stdin -: the standard input is a terminal: pipe or redirect the input into jobgraph (… < FILE)',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** `--sudo-password-file`: its first line. The password is never part of a message. */
export async function readSudoPassword(path: string): Promise<string> {
  const text = (await readOptionFile('--sudo-password-file', path)).toString('utf8');
  const [first = ''] = text.split(/\r\n|\n|\r/, 1);
  if (first === '') {
    throw new UsageError(`--sudo-password-file ${path}: its first line is empty: expected the sudo password`);
  }
  return first;
}

/** Fleet's placeholders (packages/ssh/src/fleet/command.ts): `{0}`, `{name}`; `{{` and `}}` are braces. */
const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z0-9_]+)\}/g;

/** The placeholders a template uses, in order, once each. */
export function placeholdersOf(template: string): string[] {
  const found = new Set<string>();
  for (const [, key] of template.matchAll(PLACEHOLDER)) if (key !== undefined) found.add(key);
  return [...found];
}

/**
 * A word of the command line as a template piece: its literal text shell-quoted (braces doubled,
 * so that Fleet leaves them), its placeholders kept for Fleet to fill, quoted, with the target's
 * arguments. `--name={0}` stays one word: `'--name='{0}`.
 */
export function quotedTemplateWord(word: string, quote: (text: string) => string): string {
  const pieces: string[] = [];
  let literal = '';
  let last = 0;
  const flush = () => {
    if (literal !== '') pieces.push(quote(literal).replaceAll('{', '{{').replaceAll('}', '}}'));
    literal = '';
  };
  for (const match of word.matchAll(PLACEHOLDER)) {
    literal += word.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[1] === undefined) literal += match[0][0];
    else {
      flush();
      pieces.push(match[0]);
    }
  }
  literal += word.slice(last);
  flush();
  return pieces.length === 0 ? quote('') : pieces.join('');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}

/** A leaf: a word (numbers and booleans are written as YAML wrote them). */
function wordOf(value: unknown, where: string, file: string): string | number {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return String(value);
  throw new UsageError(
    `--host-args ${file}: ${where} is ${describe(value)}: expected a word (a string or a number)`,
  );
}

/** One target's entry: a word, a list of words, or a map of words. */
function hostArgOf(value: unknown, where: string, file: string): HostArg {
  if (Array.isArray(value)) return value.map((item, index) => wordOf(item, `${where}[${index}]`, file));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, wordOf(item, `${where}.${key}`, file)]),
    );
  }
  if (value === null || value === undefined) {
    throw new UsageError(
      `--host-args ${file}: ${where} is empty: expected a word, a list of words or a map of words`,
    );
  }
  return wordOf(value, where, file);
}

/** Whether an entry gives the placeholder `key`. */
function gives(arg: HostArg, key: string): boolean {
  if (typeof arg === 'string' || typeof arg === 'number') return key === '0';
  if (Array.isArray(arg)) return /^\d+$/.test(key) && Number(key) < arg.length;
  return Object.hasOwn(arg, key);
}

const shortList = (items: readonly string[]) =>
  items.length <= 6 ? items.join(', ') : `${items.slice(0, 6).join(', ')}… (${items.length})`;

/**
 * `--host-args FILE`: each target's arguments, in target order. The file holds a list (one
 * entry per target, in the order of the targets) or a map keyed by the targets' names (as `-o`
 * names their files; keys of other hosts are ignored, so one file serves a second pass on
 * fewer targets). Every placeholder of `template` must be given for every target.
 * @throws UsageError one line naming the file and what is wrong, before anything runs
 */
export async function readHostArgs(
  file: string,
  targets: readonly Target[],
  names: ReadonlyMap<Target, string>,
  template: string,
): Promise<HostArg[]> {
  const text = (await readOptionFile('--host-args', file)).toString('utf8');
  const document = parseDocument(text);
  const [error] = document.errors;
  if (error !== undefined) {
    const [first = ''] = error.message.split('\n', 1);
    throw new UsageError(`--host-args ${file}: not YAML nor JSON: ${first}`);
  }
  const data: unknown = document.toJS();
  const nameOf = (target: Target) => names.get(target) ?? target.text;
  let args: HostArg[];
  if (Array.isArray(data)) {
    if (data.length !== targets.length) {
      throw new UsageError(
        `--host-args ${file}: a list of ${data.length} for ${targets.length} target(s): expected one entry per target, in their order (${shortList(targets.map(nameOf))})`,
      );
    }
    args = data.map((value, index) => hostArgOf(value, `entry ${index + 1}`, file));
  } else if (typeof data === 'object' && data !== null) {
    const map = data as Record<string, unknown>;
    args = targets.map((target) => {
      // the name of this run, else any name the target had in another (a first pass on more
      // targets named it longer: `root@fit01` beside `bob@fit01`), so one file serves both passes
      const name =
        [nameOf(target), ...targetNameForms(target)].find((form) => Object.hasOwn(map, form)) ??
        nameOf(target);
      if (!Object.hasOwn(map, name)) {
        throw new UsageError(
          `--host-args ${file}: no entry for the target ${name}: expected a key for each target, named as -o names files (${shortList(targets.map(nameOf))})`,
        );
      }
      return hostArgOf(map[name], `the entry of ${name}`, file);
    });
  } else {
    throw new UsageError(
      `--host-args ${file}: ${data === null ? 'empty' : describe(data)}: expected a list (in target order) or a map keyed by target name`,
    );
  }
  const used = placeholdersOf(template);
  if (used.length === 0) {
    throw new UsageError(
      `--host-args ${file}: the command has no placeholder to fill: expected {0}, {1}… or {name} in it`,
    );
  }
  targets.forEach((target, index) => {
    const arg = args[index] as HostArg;
    const missing = used.find((key) => !gives(arg, key));
    if (missing !== undefined) {
      throw new UsageError(
        `--host-args ${file}: the command uses {${missing}}, which the entry of ${nameOf(target)} does not give (${JSON.stringify(arg)})`,
      );
    }
  });
  return args;
}
