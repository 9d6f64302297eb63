/**
 * Match lines: the criteria that need nothing but names (all, host, originalhost, user,
 * localuser) and ssh's final pass (canonical, final). Never anything that runs a command:
 * `Match exec` is refused where ssh would run it (and where `ssh -G` does run it).
 */
import type { ConfigLine } from './lexer.js';
import { matchPatternList } from './patterns.js';
import { ConfigProblem, show } from './problem.js';
import type { Subject } from './session.js';
import type { Settings } from './settings.js';
import { currentHost } from './tokens.js';

/** Criteria ssh knows that we cannot or will not evaluate (exec would run a shell command). */
const UNSUPPORTED_CRITERIA = new Set(['exec', 'localnetwork', 'version', 'tagged', 'command', 'sessiontype']);

/** Criteria without an argument. */
const BARE_CRITERIA = new Set(['canonical', 'final']);

/**
 * Whether a `Match` line applies. Criteria are ANDed and may be negated with `!`; their
 * argument follows (`host a,b`) or is attached (`host=a,b`). An unsupported criterion is
 * an error when it would have to be evaluated — not when an earlier one already failed
 * or the block can never apply — so a `Match host x exec …` for another host is harmless.
 * `canonical` and `final` match in ssh's final pass only; a `final` (not negated) asks
 * for that pass, wherever it is written, as in ssh.
 * @param evaluate - false when the block can never apply (a file included from a block that does not)
 * @param requestFinalPass - called when the line asks for ssh's final pass
 * @throws ConfigProblem for a malformed line or an unsupported criterion it reaches
 */
export function matchLineMatches(
  line: ConfigLine,
  subject: Subject,
  settings: Settings,
  evaluate: boolean,
  requestFinalPass: () => void,
): boolean {
  let result = true;
  let criteria = 0;
  const args = line.args;
  for (let i = 0; i < args.length; i++) {
    const original = args[i] as string;
    const negate = original.startsWith('!');
    let name = (negate ? original.slice(1) : original).toLowerCase();
    if (name === 'all') {
      if (i !== args.length - 1 || args.slice(0, i).some((a) => !/^!?(canonical|final)$/i.test(a))) {
        throw new ConfigProblem(`Match ${show(original)} cannot be combined with other criteria`, line);
      }
      return result && !negate;
    }
    criteria++;
    let value: string | undefined;
    const equals = name.indexOf('=');
    if (equals > 0) {
      value = original.slice((negate ? 1 : 0) + equals + 1);
      name = name.slice(0, equals);
    } else if (!BARE_CRITERIA.has(name)) {
      value = args[++i];
    }
    if ((value === undefined || value === '') && !BARE_CRITERIA.has(name)) {
      throw new ConfigProblem(`Match ${show(name)} needs an argument`, line);
    }
    let matched: boolean;
    switch (name) {
      case 'host':
        matched = matchPatternList(currentHost(subject, settings), value as string, true);
        break;
      case 'originalhost':
        matched = matchPatternList(subject.alias, value as string, true);
        break;
      case 'user':
        matched = matchPatternList(settings.user ?? subject.session.localUser, value as string, false);
        break;
      case 'localuser':
        matched = matchPatternList(subject.session.localUser, value as string, false);
        break;
      case 'canonical':
      case 'final':
        if (name === 'final' && !negate) requestFinalPass();
        matched = subject.finalPass;
        break;
      default:
        if (!UNSUPPORTED_CRITERIA.has(name)) {
          throw new ConfigProblem(`unknown Match criterion ${show(name)}`, line);
        }
        if (evaluate && result) {
          const why =
            name === 'exec'
              ? `Match exec ${show(value ?? '')} is not supported: jobgraph never runs commands from an ssh config`
              : `Match ${name} is not supported`;
          throw new ConfigProblem(
            `${why} (supported: all, host, originalhost, user, localuser, canonical, final)`,
            line,
          );
        }
        matched = false;
    }
    if (matched === negate) result = false;
  }
  if (criteria === 0) throw new ConfigProblem('Match needs a criterion', line);
  return result;
}
