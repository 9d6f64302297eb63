/**
 * ssh_config patterns: `*` and `?` wildcards, `!` negation, comma lists (OpenSSH's match.c).
 *
 * Ours rather than the `ssh-config` package's `glob`, whose `?` also matches no character
 * (`Host web?` would take `web`), and whose Match lists are never lower-cased.
 */
import { ConfigProblem, type Where } from './problem.js';

/** Patterns compiled once (a config of thousands of hosts is matched against every name). */
const compiled = new Map<string, RegExp | string>();

/** Whether text matches one pattern, where `*` is any run of characters and `?` any one. */
function matchPattern(text: string, pattern: string): boolean {
  let matcher = compiled.get(pattern);
  if (matcher === undefined) {
    // a pattern without wildcards is compared as text
    matcher = /[*?]/.test(pattern)
      ? new RegExp(
          `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
          's',
        )
      : pattern;
    if (compiled.size >= 10_000) compiled.clear();
    compiled.set(pattern, matcher);
  }
  return typeof matcher === 'string' ? matcher === text : matcher.test(text);
}

/**
 * A `Host` line: whether any pattern matches and no negated one does. Patterns are
 * matched against the name as given, case-sensitively, like ssh; `!` alone negates the
 * empty pattern, which matches no name.
 * @throws ConfigProblem for an empty pattern (`""`), which ssh refuses
 */
export function hostLineMatches(name: string, patterns: readonly string[], where: Where): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern === '') throw new ConfigProblem('empty Host pattern', where);
    const negated = pattern.startsWith('!');
    if (matchPattern(name, negated ? pattern.slice(1) : pattern)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** A comma-separated pattern list of a `Match` criterion: a negated match vetoes, else any positive one matches. */
export function matchPatternList(text: string, list: string, lowercase: boolean): boolean {
  const subject = lowercase ? text.toLowerCase() : text;
  let matched = false;
  for (const raw of list.split(',')) {
    const item = lowercase ? raw.toLowerCase() : raw;
    const negated = item.startsWith('!');
    if (matchPattern(subject, negated ? item.slice(1) : item)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
