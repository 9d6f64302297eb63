/**
 * What one resolution shares: the config file, the local login and home, and each file's
 * lines read once (a jump chain, and ssh's final pass, read the same files again).
 */
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { messageOf } from '../errors.js';
import { type ConfigLine, parseConfig } from './lexer.js';
import { ConfigProblem, type Where } from './problem.js';

/** What one call of resolveSshConfig shares between the hosts it resolves. */
export interface Session {
  readonly file: string;
  readonly home: string;
  readonly localUser: string;
  readonly files: Map<string, Promise<ConfigLine[] | undefined>>;
}

/** What Host and Match lines are matched against, in one pass over the files for one host. */
export interface Subject {
  /** The name as given (`Match originalhost`, `%n`, HostName's `%h`). */
  readonly alias: string;
  /**
   * What `Host` lines match: the alias, and in ssh's final pass the host name it resolved
   * to (HostName expanded, lower-cased).
   */
  readonly hostPatternName: string;
  /** ssh's final pass (requested by `Match final` or CanonicalizeHostName), where `Match final` and `canonical` match. */
  readonly finalPass: boolean;
  readonly session: Session;
}

/** A file's lines, or undefined when it does not exist (ssh treats a missing file as empty). */
export function configLines(
  session: Session,
  file: string,
  includedFrom?: Where,
): Promise<ConfigLine[] | undefined> {
  let lines = session.files.get(file);
  if (lines === undefined) {
    lines = parsedFile(file, includedFrom);
    session.files.set(file, lines);
  }
  return lines;
}

/**
 * Files parsed by earlier resolutions, by path, kept while their size and modification time stay
 * the same: a command resolving 200 hosts of a 10,000-line config parsed it 200 times.
 */
const parsed = new Map<string, { size: number; mtimeMs: number; lines: Promise<ConfigLine[] | undefined> }>();

async function parsedFile(file: string, includedFrom?: Where): Promise<ConfigLine[] | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return readConfigFile(file, includedFrom);
  const known = parsed.get(file);
  if (known !== undefined && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.lines;
  const lines = readConfigFile(file, includedFrom);
  // a failure is the caller's to see, and is not kept (the file may be fixed)
  lines.catch(() => parsed.delete(file));
  if (parsed.size >= 100) parsed.clear();
  parsed.set(file, { size: info.size, mtimeMs: info.mtimeMs, lines });
  return lines;
}

async function readConfigFile(file: string, includedFrom?: Where): Promise<ConfigLine[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    // an Include naming a directory (or a glob matching one) reads nothing there, as ssh does
    if ((error as { code?: string }).code === 'EISDIR' && includedFrom !== undefined) return undefined;
    const why = (error as { code?: string }).code === 'EISDIR' ? 'it is a directory' : messageOf(error);
    throw new ConfigProblem(`cannot read ${file}: ${why}`, includedFrom);
  }
  return parseConfig(text, file);
}

/** The local login name; in a container without a passwd entry, the environment's. */
export function currentLogin(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}
