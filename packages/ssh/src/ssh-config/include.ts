/**
 * Include: the files one argument names — `~` expanded, relative paths taken in ~/.ssh,
 * glob(3) wildcards matched in lexical order. No `%` token or `${VAR}` is expanded:
 * OpenSSH 9.2 globs the argument as written.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { ConfigLine } from './lexer.js';
import type { Session } from './session.js';
import { expandPath } from './tokens.js';

/** Whether a path segment has glob wildcards. */
function hasWildcards(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/** A glob(3) segment as a regular expression: `*`, `?`, `[…]` (`[!…]` negated); a leading dot only by name. */
function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let set = segment.slice(i + 1, close).replace(/\\/g, '\\\\');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      source += `[${set}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** The files an absolute glob pattern names, in lexical order; a pattern without wildcards names itself. */
async function globFiles(pattern: string): Promise<string[]> {
  const segments = pattern.split('/').filter((segment) => segment !== '');
  let paths = ['/'];
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (!hasWildcards(segment)) {
      paths = paths.map((path) => join(path, segment));
      continue;
    }
    const regexp = segmentRegExp(segment);
    const next: string[] = [];
    for (const path of paths) {
      let entries: Dirent[];
      try {
        entries = await readdir(path, { withFileTypes: true });
      } catch {
        continue; // not a directory, or unreadable: matches nothing, as with glob(3)
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
        if (!regexp.test(entry.name)) continue;
        // the last segment must name a file; a directory there would be read as a config
        if (last ? entry.isDirectory() : !(entry.isDirectory() || entry.isSymbolicLink())) continue;
        next.push(join(path, entry.name));
      }
    }
    paths = next;
  }
  return paths.sort();
}

/**
 * The files an `Include` argument names: `~` expanded, relative to ~/.ssh, globbed.
 * @throws ConfigProblem for `~other`
 */
export async function includeFiles(arg: string, line: ConfigLine, session: Session): Promise<string[]> {
  const expanded = expandPath(arg, line, session, undefined, 'Include');
  // ssh anchors a relative path of a user config in ~/.ssh, whatever file includes it
  const path = isAbsolute(expanded) ? expanded : join(session.home, '.ssh', expanded);
  return globFiles(path);
}
