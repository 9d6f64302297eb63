/**
 * `fs.glob`: a pattern compiled by picomatch (`*`, `**`, `?`, `[...]`, braces), and our walk of
 * the tree over a backend, listing several directories at once — over SFTP each listing is a
 * round trip, and walking one directory at a time would make 10,000 files across a thousand
 * directories a thousand round trips in a row.
 */
import { posix } from 'node:path';
import picomatch from 'picomatch';
import { SshErrorCode } from '../errors.js';
import type { FsBackend, FsRequest } from './backend.js';
import { hasCode, invalidArgument } from './fs-errors.js';

/** A pattern ready to walk: the directory to start from, and how to match and prune. */
export interface CompiledGlob {
  /** The directory the walk starts from, relative to the base (`''` for the base itself). */
  readonly start: string;
  /** Whether a path relative to the base matches. */
  readonly matches: (path: string) => boolean;
  /** Whether a directory (relative to the base) may hold a match: else it is not listed. */
  readonly mayHold: (path: string) => boolean;
}

const MAGIC = /[*?[\]{}]/;

/**
 * Compiles `pattern`, relative to `base` (absolute). A pattern with a `..` segment, or absolute
 * and outside `base`, is refused: glob answers about `base`'s tree only.
 */
export function compileGlob(pattern: unknown, base: string, dot: boolean): CompiledGlob {
  if (typeof pattern !== 'string' || pattern === '' || pattern.includes('\0')) {
    throw invalidArgument('glob', 'pattern', 'a non-empty pattern', pattern);
  }
  let relative = pattern;
  if (pattern.startsWith('/')) {
    const prefix = base.endsWith('/') ? base : `${base}/`;
    if (!pattern.startsWith(prefix)) {
      throw invalidArgument('glob', 'pattern', `a pattern inside the base directory ${base}`, pattern);
    }
    relative = pattern.slice(prefix.length);
  }
  const segments = relative.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..') || segments.length === 0) {
    throw invalidArgument(
      'glob',
      'pattern',
      `a pattern inside the base directory ${base}, without '..'`,
      pattern,
    );
  }
  // what the README lists is special, no more: no extglobs, no leading `!`, parentheses literal
  const options = { dot, noextglob: true, nonegate: true };
  const whole = picomatch(literalParentheses(segments.join('/')), options);
  const parts = segments.map((segment) =>
    segment === '**' ? 'globstar' : picomatch(literalParentheses(segment), options),
  );
  // the literal leading directories: no need to list what is above them
  const literal: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (MAGIC.test(segment) || segment.includes('\\')) break;
    literal.push(segment);
  }
  // without `dot`, nothing under a dot directory can match unless the pattern names one
  const skipDotDirectories = !dot && !segments.some((segment) => segment.startsWith('.'));
  const mayHold = (path: string): boolean => {
    const names = path === '' ? [] : path.split('/');
    if (skipDotDirectories && names.some((name) => name.startsWith('.'))) return false;
    for (let i = 0; i < names.length; i++) {
      const part = parts[i];
      if (part === 'globstar') return true;
      if (part === undefined || !part(names[i] as string)) return false;
    }
    // a directory as deep as the pattern can hold nothing more (unless the last part is **)
    return names.length < segments.length || parts[parts.length - 1] === 'globstar';
  };
  return { start: literal.join('/'), matches: (path) => whole(path), mayHold };
}

/**
 * `pattern` with its parentheses escaped outside `[...]`: picomatch reads `dir(1)` as a regular
 * expression's group, matching `dir1` and not the directory `dir(1)`.
 */
function literalParentheses(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') {
      out += char + (pattern[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
      out += char;
    } else if (char === '[' && pattern.indexOf(']', i + 2) > 0) {
      // (a `[` that no `]` closes is a plain character to picomatch: what follows is no class)
      inClass = true;
      out += char;
    } else out += char === '(' || char === ')' ? `\\${char}` : char;
  }
  return out;
}

/**
 * The paths under `base` that `glob` matches, relative to it, sorted. Directories are listed
 * `concurrency` at a time; symlinks are matched, never followed (no loops, no escape).
 */
export async function walkGlob(
  backend: FsBackend,
  request: FsRequest,
  base: string,
  glob: CompiledGlob,
  concurrency: number,
): Promise<string[]> {
  const found: string[] = [];
  const queue: string[] = [glob.start];
  let active = 0;
  let failed = false;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const pump = () => {
      if (failed) return;
      if (request.signal?.aborted) {
        fail(request.signal.reason);
        return;
      }
      while (active < concurrency && queue.length > 0) {
        const dir = queue.pop() as string;
        active++;
        backend.entries(request, dir === '' ? base : posix.join(base, dir)).then(
          (entries) => {
            active--;
            for (const entry of entries) {
              const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
              if (glob.matches(path)) found.push(path);
              if (entry.type === 'directory' && glob.mayHold(path)) queue.push(path);
            }
            pump();
          },
          (error: unknown) => {
            // A literal start directory that is not there holds no match; a directory met on the
            // walk that cannot be listed (no permission, removed meanwhile) is skipped, as glob(3)
            // and the shells do; the base itself must be listable.
            const skip =
              dir !== '' &&
              (dir === glob.start
                ? hasCode(error, SshErrorCode.REMOTE_NOT_FOUND, SshErrorCode.REMOTE_NOT_DIRECTORY)
                : hasCode(
                    error,
                    SshErrorCode.REMOTE_PERMISSION,
                    SshErrorCode.REMOTE_NOT_FOUND,
                    SshErrorCode.REMOTE_NOT_DIRECTORY,
                  ));
            if (skip) {
              active--;
              pump();
            } else fail(error);
          },
        );
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
  return found.sort();
}
