/**
 * Walking the config files for one host, as ssh's readconf.c does: Host and Match lines
 * switch the lines after them on or off, Include reads other files in place (at most 16
 * deep), and a final pass follows when `Match final` or CanonicalizeHostName asks for it.
 */
import { canonicalHostName } from './canonicalize.js';
import { includeFiles } from './include.js';
import type { ConfigLine } from './lexer.js';
import { matchLineMatches } from './match.js';
import { hostLineMatches } from './patterns.js';
import { ConfigProblem, type Where } from './problem.js';
import { configLines, type Session, type Subject } from './session.js';
import { applySetting, type Settings } from './settings.js';
import { currentHost } from './tokens.js';
import type { ResolvedHost } from './types.js';

/** OpenSSH's READCONF_MAX_DEPTH: how deep `Include` may nest (which also stops include loops). */
const MAX_INCLUDE_DEPTH = 16;

/** The state of one pass through the config files for one host. */
interface Walk {
  readonly subject: Subject;
  readonly settings: Settings;
  /** Whether the lines read now apply (before any Host or Match line, they do). */
  active: boolean;
  /** Whether a `Match final` asked for a final pass. */
  wantsFinalPass: boolean;
}

/**
 * Reads one file's lines in order. `neverMatch` is set for files included from a block
 * that does not apply: they are read (and checked) but nothing in them may apply.
 */
async function walkFile(
  file: string,
  walk: Walk,
  depth: number,
  neverMatch: boolean,
  from?: Where,
): Promise<void> {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new ConfigProblem(`Include nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`, from);
  }
  const lines = await configLines(walk.subject.session, file, from);
  for (const line of lines ?? []) {
    await walkLine(line, walk, depth, neverMatch);
  }
}

async function walkLine(line: ConfigLine, walk: Walk, depth: number, neverMatch: boolean): Promise<void> {
  switch (line.keyword) {
    case 'host':
      walk.active = !neverMatch && hostLineMatches(walk.subject.hostPatternName, line.args, line);
      return;
    case 'match': {
      const matched = matchLineMatches(line, walk.subject, walk.settings, !neverMatch, () => {
        walk.wantsFinalPass = true;
      });
      walk.active = !neverMatch && matched;
      return;
    }
    case 'include': {
      const outer = walk.active;
      for (const arg of line.args) {
        for (const included of await includeFiles(arg, line, walk.subject.session)) {
          await walkFile(included, walk, depth + 1, neverMatch || !outer, line);
          // a Host or Match inside an included file ends with it
          walk.active = outer;
        }
      }
      return;
    }
    default:
      applySetting(line, walk.settings, walk.active);
  }
}

/** What the caller fixed for a host before the config is read, as ssh's command line does (`-l`, `-p`, `-J`). */
export interface Seed {
  readonly user?: string | undefined;
  readonly port?: number | undefined;
  /**
   * The route, already resolved (empty when the caller gives it outside the config): the
   * host's own ProxyJump and ProxyCommand are then ignored, and the host is not canonicalized
   * (unless `always`), as with ssh -J.
   */
  readonly route?: ResolvedHost[];
}

/**
 * Everything the config says about one host. When the first pass asks for it, a final
 * pass reads the files again with what was set kept (first value still wins), `Host`
 * lines now matched against the host name (HostName expanded, canonicalized if asked,
 * lower-cased), and `Match final` and `canonical` true — as ssh does.
 */
export async function collectSettings(alias: string, seed: Seed, session: Session): Promise<Settings> {
  const settings: Settings = { identityFiles: [] };
  if (seed.user !== undefined) settings.user = seed.user;
  if (seed.port !== undefined) settings.port = seed.port;
  if (seed.route !== undefined) {
    settings.proxyJump = { value: 'given', where: undefined };
    settings.proxyCommand = { value: 'none', where: undefined };
  }
  const first: Walk = {
    subject: { alias, hostPatternName: alias, finalPass: false, session },
    settings,
    active: true,
    wantsFinalPass: false,
  };
  await walkFile(session.file, first, 0, false);
  const canonicalize = settings.canonicalize !== undefined && settings.canonicalize !== 'no';
  if (!first.wantsFinalPass && !canonicalize) return settings;
  // ssh lower-cases the name before canonicalizing it (and the suffix it may gain after)
  const current = currentHost(first.subject, settings).toLowerCase();
  const hostname = (await canonicalHostName(current, settings)).toLowerCase();
  // ssh fixes HostName before the final pass: a HostName read there changes nothing
  settings.hostname = { value: hostname.replaceAll('%', '%%'), where: settings.hostname?.where };
  const final: Walk = {
    subject: { alias, hostPatternName: hostname, finalPass: true, session },
    settings,
    active: true,
    wantsFinalPass: false,
  };
  await walkFile(session.file, final, 0, false);
  return settings;
}
