/**
 * Where targets come from: each `-t`/`-x` argument is a file of targets (`#` comments), a
 * directory whose file names are hosts (as `--mark` leaves them: `-t out/0ok`), or else the
 * targets themselves. Relative files and directories are also looked up under `~/.jobgraph/`
 * (apssh looks under `~/.apssh/`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { TargetError } from './errors.js';
import { parseTarget, parseTargets, splitTargets, type TargetSpec } from './grammar.js';
import { expandRanges } from './ranges.js';

/** Where {@link readTargetArgument} looks. */
export interface TargetLookup {
  /** Relative paths are read from here first. @default process.cwd() */
  readonly cwd?: string;
  /** Then from `<home>/.jobgraph/`. @default os.homedir() */
  readonly home?: string;
  /**
   * Told when a bare word (no `/`) is read as a directory of targets: it is a host name too, and
   * a directory of that name is often an earlier `pull … '{host}/'`'s, not a list meant here.
   */
  readonly onShadow?: (argument: string, directory: string) => void;
}

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/** The file or directory an argument names, if any. */
async function locate(
  argument: string,
  lookup: TargetLookup,
): Promise<{ path: string; kind: 'file' | 'directory' } | undefined> {
  const home = lookup.home ?? homedir();
  const expanded = argument.startsWith('~/') ? join(home, argument.slice(2)) : argument;
  const candidates = [resolve(lookup.cwd ?? process.cwd(), expanded)];
  if (!isAbsolute(expanded)) candidates.push(join(home, '.jobgraph', expanded));
  for (const path of candidates) {
    const kind = await kindOf(path);
    if (kind !== undefined) return { path, kind };
  }
  return undefined;
}

/** The targets of a file: one or more per line, separated by spaces or commas, `#` starts a comment. */
export async function readTargetsFile(path: string): Promise<TargetSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TargetError(path, `cannot read the targets file: ${(error as Error).message}`);
  }
  const specs: TargetSpec[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const hash = line.indexOf('#');
    for (const word of splitTargets(hash < 0 ? line : line.slice(0, hash))) {
      try {
        specs.push(...expandRanges(word).map(parseTarget));
      } catch (error) {
        throw error instanceof TargetError ? error.at(`${path}:${index + 1}`) : error;
      }
    }
  }
  return specs;
}

/** The targets of a directory: the names of its files (hidden ones aside), in natural order. */
export async function readTargetsDirectory(path: string): Promise<TargetSpec[]> {
  const entries = await readdir(path, { withFileTypes: true });
  const names = entries
    .filter((entry) => !entry.name.startsWith('.') && (entry.isFile() || entry.isSymbolicLink()))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.map((name) => {
    try {
      return parseTarget(name);
    } catch (error) {
      throw error instanceof TargetError ? error.at(join(path, name)) : error;
    }
  });
}

/**
 * The targets one `-t` (or `-x`) argument stands for.
 * @example
 * await readTargetArgument('fit[01-03]')        // three targets
 * await readTargetArgument('nodes.txt')         // the targets listed in ./nodes.txt or ~/.jobgraph/nodes.txt
 * await readTargetArgument('out/0ok')           // the hosts that succeeded in an earlier `--mark` run
 * @throws TargetError for a malformed target (located in its file when read from one)
 */
export async function readTargetArgument(argument: string, lookup: TargetLookup = {}): Promise<TargetSpec[]> {
  // "" would name the working directory, and make a target of every file in it
  if (argument.trim() === '') {
    throw new TargetError(argument, 'an empty target: expected a host, a list, a file or a directory');
  }
  const found = await locate(argument, lookup);
  if (found === undefined) return parseTargets(argument);
  // a word that could be a host, found here (not a ~/.jobgraph/ group, nor `.`): a pull into
  // `{host}/` leaves such directories, and the word then no longer means the host
  const here = resolve(lookup.cwd ?? process.cwd(), argument);
  if (found.kind === 'directory' && found.path === here && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(argument))
    lookup.onShadow?.(argument, found.path);
  return found.kind === 'file' ? readTargetsFile(found.path) : readTargetsDirectory(found.path);
}
