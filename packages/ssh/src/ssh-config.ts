/**
 * OpenSSH client configuration (`~/.ssh/config`, ssh_config(5)): what `ssh ALIAS` would
 * use for the host name, user, port, identity files, known-hosts file, host-key policy,
 * connect timeout and ProxyJump chain — resolved the way OpenSSH resolves it, and
 * without ever running anything the file asks to run.
 *
 * Written here rather than taken from the `ssh-config` package, which returns ProxyJump
 * raw, does not default HostName, expand `~` or follow `Include`, and runs `Match exec`
 * commands unless told not to.
 *
 * This module must not import ssh-node.ts (which imports this one).
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir, hostname as localHostName, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { messageOf, SshError, SshErrorCode } from './errors.js';
import { importPrivateKey } from './keys.js';
import type { PrivateKey, Transport } from './transport/transport.js';

/** What OpenSSH would use to reach one host, according to the config. */
export interface ResolvedHost {
  /** The name looked up in the config (the `Host` patterns are matched against it). */
  alias: string;
  /** `HostName` with `%h` expanded, else the alias; lower-cased as ssh does (IP addresses included). */
  hostname: string;
  /** `User`, or the user of a `user@host` ProxyJump item; undefined when the config says nothing. */
  user: string | undefined;
  /** `Port`, or the port of a `host:port` ProxyJump item. */
  port: number | undefined;
  /** Every applicable `IdentityFile`, in order, `~`, `${VAR}` and `%` tokens expanded, duplicates removed. */
  identityFiles: string[];
  /** `IdentitiesOnly yes`: offer only these files, not every key of the agent. */
  identitiesOnly: boolean;
  /** The first file of `UserKnownHostsFile`, expanded (`none` gives `/dev/null`). */
  userKnownHostsFile: string | undefined;
  /** `StrictHostKeyChecking`: yes and ask → strict, accept-new → accept-new, no and off → off. */
  strictHostKeyChecking: 'strict' | 'accept-new' | 'off' | undefined;
  /** `ConnectTimeout`, converted to ms (0 in the config gives undefined: ssh's "no limit" is not ours). */
  connectTimeout: number | undefined;
  /**
   * The ProxyJump route, outermost (first) hop first, each hop resolved through its own
   * Host blocks, as ssh does with `-J`. Each hop's own `jump` is the route to that hop
   * (the hops before it). Empty for a direct connection.
   */
  jump: ResolvedHost[];
}

/** Options of {@link resolveSshConfig}. */
export interface ResolveSshConfigOptions {
  /** The config file; relative `Include`s still live in `~/.ssh`, as with `ssh -F`. @default ~/.ssh/config */
  file?: string;
  /** The local login, for `%u`, `%r` (when no User is set), `~user` and `Match user`/`localuser`. @default the current user */
  user?: string;
}

/** OpenSSH's READCONF_MAX_DEPTH: how deep `Include` may nest (which also stops include loops). */
const MAX_INCLUDE_DEPTH = 16;

// ---------------------------------------------------------------------------------------
// Problems: thrown with their location by the inner functions, turned into one SshError
// (with the alias asked for) at the single entry point.

/** A file and line of the config, for messages. */
interface Where {
  readonly file: string;
  readonly line: number;
}

/** A config problem at a known place; resolveSshConfig turns it into an SshError. */
class ConfigProblem extends Error {
  readonly where: Where | undefined;
  /** The jump host being resolved when the problem arose, if not the alias itself. */
  hop: string | undefined;

  constructor(message: string, where?: Where) {
    super(message);
    this.where = where;
  }
}

/** A value quoted for a message, on one line whatever it contains. */
function show(value: string): string {
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------
// Lexing: a file becomes a list of keyword lines.

/** One meaningful line: keyword lower-cased (keywords are case-insensitive), arguments unquoted. */
interface ConfigLine extends Where {
  readonly keyword: string;
  readonly args: readonly string[];
  /** The text after the keyword, unsplit (ProxyCommand is a shell command, shown as written). */
  readonly rest: string;
}

/**
 * Splits `keyword args` or `keyword=args` (OpenSSH's strdelim: the keyword ends at a
 * blank or `=`, and one `=` with blanks around it may separate it from the arguments).
 * Returns undefined for blank lines and comments.
 */
function splitKeyword(text: string): { keyword: string; rest: string } | undefined {
  // ssh strips trailing blanks (and a form feed); \r covers files written on Windows.
  const line = text.replace(/[ \t\f\r]+$/, '').replace(/^[ \t]+/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  const match = /^([^ \t=]+)[ \t]*(?:=[ \t]*)?(.*)$/.exec(line);
  if (match === null) return undefined; // a line of "=" only: nothing ssh would read either
  return { keyword: (match[1] ?? '').toLowerCase(), rest: match[2] ?? '' };
}

/**
 * Splits arguments as OpenSSH's argv_split does: blanks separate them, `"…"` and `'…'`
 * quote (also in the middle of an argument), `\"`, `\'`, `\\` and (unquoted) `\ ` escape,
 * and a `#` at the start of an argument ends the line.
 */
function splitArgs(rest: string, where: Where): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let arg = '';
    let quote: string | undefined;
    for (; i < rest.length; i++) {
      const ch = rest[i] as string;
      const next = rest[i + 1];
      if (
        ch === '\\' &&
        (next === '"' || next === "'" || next === '\\' || (quote === undefined && next === ' '))
      ) {
        arg += next;
        i++;
      } else if (quote === undefined && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === undefined && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== undefined && ch === quote) {
        quote = undefined;
      } else {
        arg += ch;
      }
    }
    if (quote !== undefined) throw new ConfigProblem(`unterminated ${quote} quote`, where);
    args.push(arg);
  }
  return args;
}

/** The keyword lines of one file's text. Every line is checked, as ssh does, even in blocks that do not apply. */
function parseConfig(text: string, file: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const split = splitKeyword(raw);
    if (split === undefined) return;
    const where = { file, line: index + 1 };
    const args = splitArgs(split.rest, where);
    if (args.length === 0) throw new ConfigProblem(`no argument after keyword ${show(split.keyword)}`, where);
    lines.push({ ...where, keyword: split.keyword, args, rest: split.rest });
  });
  return lines;
}

// ---------------------------------------------------------------------------------------
// Reading files, once per resolution (a jump chain reads the same file for every hop).

/** What one call of resolveSshConfig shares between the hosts it resolves. */
interface Session {
  readonly file: string;
  readonly home: string;
  readonly localUser: string;
  readonly files: Map<string, Promise<ConfigLine[] | undefined>>;
}

/** A file's lines, or undefined when it does not exist (ssh treats a missing file as empty). */
function configLines(
  session: Session,
  file: string,
  includedFrom?: Where,
): Promise<ConfigLine[] | undefined> {
  let lines = session.files.get(file);
  if (lines === undefined) {
    lines = readConfigFile(file, includedFrom);
    session.files.set(file, lines);
  }
  return lines;
}

async function readConfigFile(file: string, includedFrom?: Where): Promise<ConfigLine[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    const why = (error as { code?: string }).code === 'EISDIR' ? 'it is a directory' : messageOf(error);
    throw new ConfigProblem(`cannot read ${file}: ${why}`, includedFrom);
  }
  return parseConfig(text, file);
}

// ---------------------------------------------------------------------------------------
// Patterns: `*` and `?` wildcards, `!` negation, comma lists (OpenSSH's match.c).

/** Whether text matches one pattern, where `*` is any run of characters and `?` any one. */
function matchPattern(text: string, pattern: string): boolean {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's').test(text);
}

/**
 * A `Host` line: whether any pattern matches and no negated one does. Patterns are
 * matched against the alias as typed, case-sensitively, like ssh.
 */
function hostLineMatches(alias: string, patterns: readonly string[], where: Where): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern === '' || pattern === '!') throw new ConfigProblem('empty Host pattern', where);
    const negated = pattern.startsWith('!');
    if (matchPattern(alias, negated ? pattern.slice(1) : pattern)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** A comma-separated pattern list of a `Match` criterion: a negated match vetoes, else any positive one matches. */
function matchPatternList(text: string, list: string, lowercase: boolean): boolean {
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

// ---------------------------------------------------------------------------------------
// Settings: what the lines that apply say, first value winning (ssh_config(5)).

/** A value with the line it came from, for later expansion errors. */
interface Placed<T> {
  readonly value: T;
  readonly where: Where | undefined;
}

/** A ProxyJump item: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
interface JumpItem {
  readonly text: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

/** What the applicable lines have set so far for one host. */
interface Settings {
  hostname?: Placed<string>;
  user?: string;
  port?: number;
  identityFiles: Placed<string>[];
  identitiesOnly?: boolean;
  knownHosts?: Placed<string>;
  strictHostKeyChecking?: ResolvedHost['strictHostKeyChecking'];
  connectTimeout?: number;
  /** ProxyJump's slot: a chain, 'none', or 'given' when the route was fixed by the caller (ssh -J). */
  proxyJump?: Placed<readonly JumpItem[] | 'none' | 'given'>;
  /** ProxyCommand's slot; ProxyJump fills it with 'none' (the two compete: the first one written wins). */
  proxyCommand?: Placed<string>;
}

/** What Host and Match lines are matched against: the alias, and (through the session) the local login. */
interface Subject {
  readonly alias: string;
  readonly session: Session;
}

/** The arguments of a keyword that takes exactly one. */
function single(line: ConfigLine): string {
  if (line.args.length !== 1) {
    throw new ConfigProblem(`${line.keyword} takes one argument, got ${line.args.length}`, line);
  }
  return line.args[0] as string;
}

/** yes/no/true/false, as ssh's flags. */
function parseFlag(line: ConfigLine): boolean {
  const value = single(line).toLowerCase();
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new ConfigProblem(`${line.keyword} must be yes or no, not ${show(value)}`, line);
}

/** A TCP port, 1 to 65535 (service names such as "ssh" are not looked up). */
function parsePort(text: string, where: Where, what: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new ConfigProblem(`bad port ${show(text)} in ${what}`, where);
  return port;
}

/** OpenSSH's time format: `30`, `30s`, `2m`, `1h30m` (s, m, h, d, w), in seconds. */
function parseSeconds(line: ConfigLine): number {
  const text = single(line);
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  const parts = /^(?:\d+[smhdw]?)+$/i.test(text) ? text.match(/\d+[smhdw]?/gi) : null;
  if (parts === null) throw new ConfigProblem(`bad time ${show(text)} for ${line.keyword}`, line);
  return parts.reduce((total, part) => {
    const unit = /[a-z]$/i.test(part) ? (part.at(-1) as string).toLowerCase() : '';
    return total + Number.parseInt(part, 10) * (units[unit] ?? 1);
  }, 0);
}

/** `StrictHostKeyChecking`: ask is strict for a program (there is nobody to ask). */
function parseStrictHostKeyChecking(line: ConfigLine): NonNullable<ResolvedHost['strictHostKeyChecking']> {
  const value = single(line).toLowerCase();
  if (value === 'yes' || value === 'true' || value === 'ask') return 'strict';
  if (value === 'no' || value === 'false' || value === 'off') return 'off';
  if (value === 'accept-new') return 'accept-new';
  throw new ConfigProblem(
    `StrictHostKeyChecking must be yes, no, accept-new, off or ask, not ${show(value)}`,
    line,
  );
}

/** `[user@]host[:port]`, the user ending at the last `@`, an IPv6 address in brackets. */
function parseUserHostPort(text: string, where: Where): JumpItem {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  if (user === '') throw new ConfigProblem(`empty user in ProxyJump item ${show(text)}`, where);
  const { host, port } = splitHostPort(text.slice(at + 1), text, where, false);
  return { text, user, host, port };
}

/** `ssh://[user@]host[:port][/]`: the user up to the first `@`, url-encoded, `;parameters` ignored. */
function parseSshUri(text: string, where: Where): JumpItem {
  let rest = text.slice('ssh://'.length);
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const info = rest.slice(0, at).split(';')[0] ?? '';
    if (info === '') throw new ConfigProblem(`empty user in ProxyJump item ${show(text)}`, where);
    try {
      user = decodeURIComponent(info.replace(/\+/g, ' '));
    } catch {
      throw new ConfigProblem(`bad url-encoding in ProxyJump item ${show(text)}`, where);
    }
    rest = rest.slice(at + 1);
  }
  const { host, port } = splitHostPort(rest, text, where, true);
  return { text, user, host, port };
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`; in a URI a trailing `/` is allowed but no path. */
function splitHostPort(
  text: string,
  item: string,
  where: Where,
  uri: boolean,
): { host: string; port: number | undefined } {
  const match = /^(?:\[([^\]]+)\]|([^:/[\]]+))(?::([^/]*))?(\/.*)?$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const path = match?.[4];
  if (match === null || host === undefined || (path !== undefined && (!uri || path !== '/'))) {
    throw new ConfigProblem(
      `bad ProxyJump item ${show(item)}: expected [user@]host[:port] or ssh://…`,
      where,
    );
  }
  const port =
    match[3] === undefined ? undefined : parsePort(match[3], where, `ProxyJump item ${show(item)}`);
  return { host, port };
}

/** A ProxyJump value: `none`, or a comma-separated chain, first hop first. */
function parseProxyJump(line: ConfigLine): readonly JumpItem[] | 'none' {
  const value = single(line);
  if (value.toLowerCase() === 'none') return 'none';
  return value.split(',').map((item) => {
    if (item === '') throw new ConfigProblem(`empty item in ProxyJump ${show(value)}`, line);
    return item.startsWith('ssh://') ? parseSshUri(item, line) : parseUserHostPort(item, line);
  });
}

/**
 * Applies one setting line. Its value is checked even when the line does not apply or
 * comes too late (ssh rejects a bad value anywhere), and kept only if the line applies
 * and nothing set it before.
 */
function applySetting(line: ConfigLine, settings: Settings, active: boolean): void {
  switch (line.keyword) {
    case 'hostname': {
      const value = single(line);
      if (active) settings.hostname ??= { value, where: line };
      return;
    }
    case 'user': {
      const value = single(line);
      if (active) settings.user ??= value;
      return;
    }
    case 'port': {
      const value = parsePort(single(line), line, 'Port');
      if (active) settings.port ??= value;
      return;
    }
    case 'identityfile': {
      // the one keyword here that accumulates: every IdentityFile that applies is tried
      const value = single(line);
      if (active) settings.identityFiles.push({ value, where: line });
      return;
    }
    case 'identitiesonly': {
      const value = parseFlag(line);
      if (active) settings.identitiesOnly ??= value;
      return;
    }
    case 'userknownhostsfile': {
      // several files may be listed; a node checks one, the first
      const value = line.args[0] as string;
      if (active) settings.knownHosts ??= { value, where: line };
      return;
    }
    case 'stricthostkeychecking': {
      const value = parseStrictHostKeyChecking(line);
      if (active) settings.strictHostKeyChecking ??= value;
      return;
    }
    case 'connecttimeout': {
      const value = parseSeconds(line);
      if (active) settings.connectTimeout ??= value;
      return;
    }
    case 'proxyjump': {
      const value = parseProxyJump(line);
      if (!active || settings.proxyJump !== undefined) return;
      if (value === 'none') {
        settings.proxyJump = { value, where: line };
      } else if (settings.proxyCommand === undefined) {
        // a jump also takes ProxyCommand's place, so a later ProxyCommand is ignored
        settings.proxyJump = { value, where: line };
        settings.proxyCommand = { value: 'none', where: line };
      }
      return;
    }
    case 'proxycommand': {
      if (active) settings.proxyCommand ??= { value: line.rest, where: line };
      return;
    }
    default:
      // every other keyword means nothing to a node: ignored, as asked
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Match: the criteria that need nothing but names. Never anything that runs a command.

/** Criteria ssh knows that we cannot or will not evaluate (exec would run a shell command). */
const UNSUPPORTED_CRITERIA = new Set([
  'canonical',
  'final',
  'exec',
  'localnetwork',
  'version',
  'tagged',
  'command',
  'sessiontype',
]);

/** The host name `Match host` sees: HostName as set so far (`%h` expanded), else the alias. */
function currentHost(subject: Subject, settings: Settings): string {
  return settings.hostname === undefined ? subject.alias : expandHostName(settings.hostname, subject.alias);
}

/**
 * Whether a `Match` line applies. Criteria are ANDed and may be negated with `!`; their
 * argument follows (`host a,b`) or is attached (`host=a,b`). An unsupported criterion is
 * an error when it would have to be evaluated — not when an earlier one already failed
 * or the block can never apply — so a `Match host x exec …` for another host is harmless.
 */
function matchLineMatches(
  line: ConfigLine,
  subject: Subject,
  settings: Settings,
  evaluate: boolean,
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
    } else if (name !== 'canonical' && name !== 'final') {
      value = args[++i];
    }
    if ((value === undefined || value === '') && name !== 'canonical' && name !== 'final') {
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
      default:
        if (!UNSUPPORTED_CRITERIA.has(name)) {
          throw new ConfigProblem(`unknown Match criterion ${show(name)}`, line);
        }
        if (evaluate && result) {
          const why =
            name === 'exec'
              ? `Match exec ${show(value ?? '')} is not supported: jobgraph never runs commands from an ssh config`
              : `Match ${name} is not supported`;
          throw new ConfigProblem(`${why} (supported: all, host, originalhost, user, localuser)`, line);
        }
        matched = false;
    }
    if (matched === negate) result = false;
  }
  if (criteria === 0) throw new ConfigProblem('Match needs a criterion', line);
  return result;
}

// ---------------------------------------------------------------------------------------
// Include: files relative to ~/.ssh, with glob wildcards, nested at most 16 deep.

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

/** The files an `Include` argument names: `~` and tokens expanded, relative to ~/.ssh, globbed. */
async function includeFiles(
  arg: string,
  line: ConfigLine,
  subject: Subject,
  settings: Settings,
): Promise<string[]> {
  const expanded = expandPath(arg, line, subject, tokensSoFar(subject, settings), 'Include');
  // ssh anchors a relative path of a user config in ~/.ssh, whatever file includes it
  const path = isAbsolute(expanded) ? expanded : join(subject.session.home, '.ssh', expanded);
  return globFiles(path);
}

// ---------------------------------------------------------------------------------------
// Walking the files for one host.

/** The state of one walk through the config files for one host. */
interface Walk {
  readonly subject: Subject;
  readonly settings: Settings;
  /** Whether the lines read now apply (before any Host or Match line, they do). */
  active: boolean;
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
    switch (line.keyword) {
      case 'host':
        walk.active = !neverMatch && hostLineMatches(walk.subject.alias, line.args, line);
        break;
      case 'match': {
        const matched = matchLineMatches(line, walk.subject, walk.settings, !neverMatch);
        walk.active = !neverMatch && matched;
        break;
      }
      case 'include': {
        const outer = walk.active;
        for (const arg of line.args) {
          for (const included of await includeFiles(arg, line, walk.subject, walk.settings)) {
            await walkFile(included, walk, depth + 1, neverMatch || !outer, line);
            // a Host or Match inside an included file ends with it
            walk.active = outer;
          }
        }
        break;
      }
      default:
        applySetting(line, walk.settings, walk.active);
    }
  }
}

/** What the caller fixed for a host before the config is read, as ssh's command line does (`-l`, `-p`, `-J`). */
interface Seed {
  readonly user?: string | undefined;
  readonly port?: number | undefined;
  /** The route, already resolved: the host's own ProxyJump and ProxyCommand are then ignored. */
  readonly route?: ResolvedHost[];
}

/** Everything the config says about one host. */
async function collectSettings(alias: string, seed: Seed, session: Session): Promise<Settings> {
  const settings: Settings = { identityFiles: [] };
  if (seed.user !== undefined) settings.user = seed.user;
  if (seed.port !== undefined) settings.port = seed.port;
  if (seed.route !== undefined) {
    settings.proxyJump = { value: 'given', where: undefined };
    settings.proxyCommand = { value: 'none', where: undefined };
  }
  await walkFile(session.file, { subject: { alias, session }, settings, active: true }, 0, false);
  return settings;
}

// ---------------------------------------------------------------------------------------
// Expansion of `~`, `${VAR}` and `%` tokens.

/** `%h` and `%%` in HostName: the only tokens ssh allows there. */
function expandHostName(hostname: Placed<string>, alias: string): string {
  return expandTokens(hostname.value, { h: alias }, hostname.where, 'HostName');
}

/** Replaces `%x` tokens and `${VAR}` environment variables in one pass (values are not re-scanned). */
function expandTokens(
  value: string,
  tokens: Record<string, string>,
  where: Where | undefined,
  what: string,
): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|%(.?)/gs,
    (whole, variable?: string, token?: string) => {
      if (variable !== undefined) {
        if (what === 'HostName') return whole;
        const env = process.env[variable];
        if (env === undefined) {
          throw new ConfigProblem(
            `environment variable ${variable} of ${what} ${show(value)} is not set`,
            where,
          );
        }
        return env;
      }
      if (token === '%') return '%';
      const replacement = token === undefined ? undefined : tokens[token];
      if (replacement === undefined) {
        throw new ConfigProblem(`unsupported token %${token ?? ''} in ${what} ${show(value)}`, where);
      }
      return replacement;
    },
  );
}

/** The tokens of paths (IdentityFile, UserKnownHostsFile, Include) for a host. */
function pathTokens(
  session: Session,
  host: { alias: string; hostname: string; user: string | undefined; port: number | undefined },
): Record<string, string> {
  const local = localHostName();
  return {
    d: session.home,
    h: host.hostname,
    i: String(process.getuid?.() ?? ''),
    L: local.split('.')[0] ?? local,
    l: local,
    n: host.alias,
    p: String(host.port ?? 22),
    r: host.user ?? session.localUser,
    u: session.localUser,
  };
}

/** Path tokens from the settings read so far (for Include, which is expanded while reading). */
function tokensSoFar(subject: Subject, settings: Settings): Record<string, string> {
  return pathTokens(subject.session, {
    alias: subject.alias,
    hostname: currentHost(subject, settings).toLowerCase(),
    user: settings.user,
    port: settings.port,
  });
}

/** `~` and `~/x` (and `~login/x` for the local login), then tokens. */
function expandPath(
  value: string,
  where: Where | undefined,
  subject: Subject,
  tokens: Record<string, string>,
  what: string,
): string {
  let path = value;
  const tilde = /^~([^/]*)(?=\/|$)/.exec(value);
  if (tilde !== null) {
    const login = tilde[1] ?? '';
    if (login !== '' && login !== subject.session.localUser) {
      throw new ConfigProblem(`${what} ${show(value)}: ~${login} is not supported, only ~ and ~/`, where);
    }
    path = subject.session.home + value.slice(tilde[0].length);
  }
  return expandTokens(path, tokens, where, what);
}

// ---------------------------------------------------------------------------------------
// Resolution: settings → ResolvedHost, with the jump route.

/** A host being resolved through its own ProxyJump, for loop detection. */
interface Pending {
  readonly key: string;
  readonly label: string;
}

/** What identifies a jump target: ssh loops when it reaches the same user, host and port again. */
function pendingKey(host: string, user: string | undefined, port: number | undefined): string {
  return `${user ?? ''}@${host}:${port ?? ''}`;
}

/**
 * The route a ProxyJump chain gives, outermost first, as ssh runs it: the last item is
 * reached with `-J` the items before it (so its own ProxyJump is ignored), recursively,
 * and the first item is resolved with its own ProxyJump, whose route comes first.
 */
async function resolveRoute(
  items: readonly JumpItem[],
  where: Where | undefined,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost[]> {
  const [first, ...others] = items as [JumpItem, ...JumpItem[]];
  const key = pendingKey(first.host, first.user, first.port);
  if (pending.some((p) => p.key === key)) {
    const chain = [...pending.map((p) => p.label), first.text].join(' -> ');
    throw new ConfigProblem(`ProxyJump loop: ${chain}`, where);
  }
  const outermost = await resolveHop(first, {}, session, [...pending, { key, label: first.text }]);
  let route = [...outermost.jump, outermost];
  for (const item of others) {
    route = [...route, await resolveHop(item, { route }, session, pending)];
  }
  return route;
}

/** One ProxyJump item resolved through its own Host blocks, its user and port winning over them. */
async function resolveHop(
  item: JumpItem,
  seed: Seed,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost> {
  try {
    return await resolveHost(item.host, { ...seed, user: item.user, port: item.port }, session, pending);
  } catch (error) {
    if (error instanceof ConfigProblem) error.hop ??= item.text;
    throw error;
  }
}

/** One host: its settings, expanded, and its route. */
async function resolveHost(
  alias: string,
  seed: Seed,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost> {
  const settings = await collectSettings(alias, seed, session);
  const subject = { alias, session };
  // ssh lower-cases the host name it connects to (and records in known_hosts)
  const hostname = (
    settings.hostname === undefined ? alias : expandHostName(settings.hostname, alias)
  ).toLowerCase();
  const tokens = pathTokens(session, { alias, hostname, user: settings.user, port: settings.port });
  const identityFiles = [
    ...new Set(
      settings.identityFiles.map((f) => expandPath(f.value, f.where, subject, tokens, 'IdentityFile')),
    ),
  ];
  const knownHosts = settings.knownHosts;
  let userKnownHostsFile: string | undefined;
  if (knownHosts !== undefined) {
    userKnownHostsFile =
      knownHosts.value.toLowerCase() === 'none'
        ? '/dev/null'
        : expandPath(knownHosts.value, knownHosts.where, subject, tokens, 'UserKnownHostsFile');
  }
  const command = settings.proxyCommand;
  if (command !== undefined && command.value !== 'none') {
    throw new ConfigProblem(
      `ProxyCommand is not supported (${show(command.value)}); use ProxyJump [user@]host[:port] instead`,
      command.where,
    );
  }
  const proxy = settings.proxyJump;
  let jump: ResolvedHost[] = [];
  if (seed.route !== undefined) jump = seed.route;
  else if (proxy !== undefined && Array.isArray(proxy.value)) {
    jump = await resolveRoute(proxy.value, proxy.where, session, pending);
  }
  return {
    alias,
    hostname,
    user: settings.user,
    port: settings.port,
    identityFiles,
    identitiesOnly: settings.identitiesOnly ?? false,
    userKnownHostsFile,
    strictHostKeyChecking: settings.strictHostKeyChecking,
    connectTimeout: settings.connectTimeout ? settings.connectTimeout * 1000 : undefined,
    jump,
  };
}

/** The local login name; in a container without a passwd entry, the environment's. */
function currentLogin(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}

/**
 * Resolves a host alias through an OpenSSH client config, as `ssh ALIAS` would.
 *
 * Supported: `Host` (several patterns, `*`, `?`, `!negation`), `Match all | host |
 * originalhost | user | localuser` (negatable, ANDed), `Include` (relative to ~/.ssh,
 * globs, 16 deep), first value wins, `key value` and `key=value`, quotes; HostName
 * (`%h`; default the alias), User, Port, IdentityFile (accumulating; `~`, `${VAR}`,
 * `%d %h %i %L %l %n %p %r %u %%`), IdentitiesOnly, UserKnownHostsFile,
 * StrictHostKeyChecking, ConnectTimeout, ProxyJump (chains, `user@host:port`, `ssh://`,
 * `none`; each hop through its own Host blocks). Other keywords are ignored. A missing
 * config file is an empty one.
 *
 * Rejected with `ERR_SSH_CONFIG`: `ProxyCommand` (use ProxyJump), `Match exec` and the
 * other Match criteria that need more than names (nothing is ever executed), ProxyJump
 * loops, bad values and syntax.
 *
 * @throws SshError `ERR_SSH_CONFIG`, one line naming the file and line.
 * @example
 * ```ts
 * // ~/.ssh/config:
 * //   Host lab
 * //     HostName faraday.inria.fr
 * //     User inria_r2lab
 * //   Host fit*
 * //     User root
 * //     ProxyJump lab
 * const fit01 = await resolveSshConfig('fit01')
 * fit01.hostname                 // 'fit01'
 * fit01.jump.map((h) => h.hostname)  // ['faraday.inria.fr']
 * ```
 */
export async function resolveSshConfig(
  alias: string,
  options: ResolveSshConfigOptions = {},
): Promise<ResolvedHost> {
  if (typeof alias !== 'string' || alias === '' || /\s/.test(alias)) {
    throw new SshError(
      SshErrorCode.SSH_CONFIG,
      `Cannot resolve the ssh config host ${show(String(alias))}: not a host name`,
    );
  }
  const home = homedir();
  const file = options.file ?? join(home, '.ssh', 'config');
  const session: Session = {
    file: file === '~' || file.startsWith('~/') ? join(home, file.slice(1)) : file,
    home,
    localUser: options.user ?? currentLogin(),
    files: new Map(),
  };
  try {
    return await resolveHost(alias, {}, session, [
      { key: pendingKey(alias, undefined, undefined), label: alias },
    ]);
  } catch (error) {
    if (!(error instanceof ConfigProblem)) throw error;
    const hop = error.hop === undefined ? '' : ` (jump host ${show(error.hop)})`;
    const where = error.where === undefined ? '' : `${error.where.file} line ${error.where.line}: `;
    throw new SshError(
      SshErrorCode.SSH_CONFIG,
      `Cannot resolve the ssh config host ${show(alias)}${hop}: ${where}${error.message}`,
      { cause: error },
    );
  }
}

// ---------------------------------------------------------------------------------------
// From a resolved host to the options of a node (used by SshNode.fromSshConfig).

/** The SshNode options one resolved host gives (see {@link configNodeOptions}). */
export interface ConfigNodeOptions {
  hostname: string;
  username: string;
  port?: number;
  keys?: PrivateKey[];
  agent?: false;
  knownHosts?: string;
  hostKeyPolicy?: 'strict' | 'accept-new' | 'off';
  connectTimeout?: number;
}

/**
 * The node options of a resolved host (what {@link SshNode.fromSshConfig} uses for each hop).
 * IdentityFiles are loaded now and, as ssh does, the missing or unusable ones (encrypted: the
 * agent may hold them) are skipped; with none left, the node keeps its default key policy.
 * `IdentitiesOnly` turns the agent off, unless an encrypted IdentityFile was skipped (ssh would
 * then use the agent's copy).
 * @param fallbackUsername - the login when the config names no User (else root)
 * @example
 * ```ts
 * const host = await resolveSshConfig('fit01')
 * const node = new SshNode({ ...(await configNodeOptions(host, 'root')), verbose: true })
 * ```
 */
export async function configNodeOptions(
  host: ResolvedHost,
  fallbackUsername: string | undefined,
  transport?: Transport,
): Promise<ConfigNodeOptions> {
  const keys: PrivateKey[] = [];
  let unusable = 0;
  for (const file of host.identityFiles) {
    try {
      if (!(await stat(file)).isFile()) continue;
    } catch {
      continue; // a missing IdentityFile is skipped by ssh too
    }
    try {
      keys.push(await importPrivateKey(file, undefined, transport));
    } catch {
      unusable++;
    }
  }
  const options: ConfigNodeOptions = {
    hostname: host.hostname,
    username: host.user ?? fallbackUsername ?? 'root',
  };
  if (host.port !== undefined) options.port = host.port;
  if (keys.length > 0) options.keys = keys;
  if (host.identitiesOnly && unusable === 0) options.agent = false;
  if (host.userKnownHostsFile !== undefined) options.knownHosts = host.userKnownHostsFile;
  if (host.strictHostKeyChecking !== undefined) options.hostKeyPolicy = host.strictHostKeyChecking;
  if (host.connectTimeout !== undefined) options.connectTimeout = host.connectTimeout;
  return options;
}
