/**
 * What one resolution shares: the config file, the local login and home, and each file's
 * lines read once (a jump chain, and ssh's final pass, read the same files again).
 */
import { readFile } from 'node:fs/promises';
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

/** The local login name; in a container without a passwd entry, the environment's. */
export function currentLogin(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}
