/**
 * The options `jobgraph ssh`, `push` and `pull` share, checked once (they are declared for
 * commander by fanout-commands.ts). The checks are a few lines of our own rather than a zod
 * schema: zod's 95 modules were a third of `jobgraph ssh`'s start-up (~45 ms of ~140 ms).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostKeyPolicy } from '@jobgraph/ssh';
import { LONGEST_MS, parseDuration } from '../scenario/durations.js';
import { USER_NAME } from '../targets/grammar.js';
import { UsageError } from './errors.js';

/**
 * Reads the options commander parsed for a command, one at a time, each checked as it is read:
 * the first problem throws a one-line UsageError. (Commander gives booleans for flags, strings for
 * values, arrays for repeatable options; anything else is refused as well.)
 */
export class OptionReader {
  readonly #raw: Record<string, unknown>;

  constructor(raw: unknown) {
    if (typeof raw !== 'object' || raw === null) throw new UsageError('invalid options');
    this.#raw = raw as Record<string, unknown>;
  }

  /** A flag: false when absent. */
  flag(key: string): boolean {
    const value = this.#raw[key];
    if (value === undefined) return false;
    if (typeof value !== 'boolean') throw invalid(key);
    return value;
  }

  /** A repeatable option: [] when absent; with `empty`, an empty value is refused with that message. */
  list(key: string, empty?: string): string[] {
    const value = this.#raw[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw invalid(key);
    if (empty !== undefined && value.some((item) => item === '')) throw new UsageError(empty);
    return value as string[];
  }

  /** A value: undefined when absent; `problem` when empty (or, given `pattern`, when it does not match). */
  text(key: string, problem: string, pattern?: RegExp): string | undefined {
    const value = this.#raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(key);
    if (pattern === undefined ? value === '' : !pattern.test(value)) throw new UsageError(problem);
    return value;
  }

  /** One of `choices` (commander checks them too). */
  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const value = this.#raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      throw new UsageError(
        `invalid ${key}: expected one of ${choices.map((choice) => `"${choice}"`).join('|')}`,
      );
    }
    return value as T;
  }

  /** A whole number from `min` to `max`, written in digits. */
  integer(key: string, option: string, min: number, max: number): number | undefined {
    const text = this.text(key, `${option} expects an integer from ${min} to ${max}`, /^\d+$/);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!(value >= min && value <= max))
      throw new UsageError(`${option} expects an integer from ${min} to ${max}`);
    return value;
  }

  /** A duration in ms: a bare number is seconds (as apssh's -c), else as 30s, 500ms, 2m. */
  duration(key: string, option: string): number | undefined {
    const value = this.#raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(key);
    try {
      const ms = /^\d+(\.\d+)?$/.test(value.trim()) ? Math.round(Number(value) * 1000) : parseDuration(value);
      if (!(ms > 0 && ms <= LONGEST_MS)) throw new RangeError('out of range');
      return ms;
    } catch {
      throw new UsageError(
        `${option} expects a positive duration (at most 596h) in seconds or like 30s, 500ms, 2m; got ${JSON.stringify(value)}`,
      );
    }
  }
}

function invalid(key: string): UsageError {
  return new UsageError(`invalid value for the option ${key}`);
}

/** The options that fanout-commands.ts's `addTargetOptions` declares, checked. */
export interface TargetOptionValues {
  readonly target: string[];
  readonly exclude: string[];
  readonly login: string | undefined;
  readonly gateway: string | undefined;
  readonly port: number | undefined;
  readonly sshConfig: string | undefined;
  readonly key: string[];
  readonly okIfNoKey: boolean;
  readonly knownHosts: string | undefined;
  readonly hostKeyPolicy: HostKeyPolicy | undefined;
  readonly connectTimeout: number | undefined;
  readonly timeout: number | undefined;
  readonly window: number | undefined;
  readonly listTargets: boolean;
  readonly dryRun: boolean;
  readonly verbose: boolean;
  readonly debug: boolean;
}

/** Reads the target options, in the order of their declaration (the first problem is reported). */
export function readTargetOptions(reader: OptionReader): TargetOptionValues {
  return {
    target: reader.list('target'),
    exclude: reader.list('exclude'),
    login: reader.text('login', '-l expects a user name (letters, digits, and . _ - $)', USER_NAME),
    gateway: reader.text('gateway', '-g expects [user@]host'),
    port: reader.integer('port', '-p', 1, 65535),
    sshConfig: reader.text('sshConfig', '-F expects a file name or none'),
    key: reader.list('key', '-k expects a key file'),
    okIfNoKey: reader.flag('okIfNoKey'),
    knownHosts: reader.text('knownHosts', '--known-hosts expects a file name'),
    hostKeyPolicy: reader.choice('hostKeyPolicy', ['strict', 'accept-new', 'off'] as const),
    connectTimeout: reader.duration('connectTimeout', '-c'),
    timeout: reader.duration('timeout', '--timeout'),
    window: reader.integer('window', '-w', 0, 1_000_000),
    listTargets: reader.flag('listTargets'),
    dryRun: reader.flag('dryRun'),
    verbose: reader.flag('verbose'),
    debug: reader.flag('debug'),
  };
}

/** The validated target options, with the ssh config file decided. */
export interface TargetOptions {
  readonly targets: readonly string[];
  readonly excludes: readonly string[];
  readonly login: string | undefined;
  readonly gateway: string | undefined;
  readonly port: number | undefined;
  /** The ssh config to read, or undefined for none. */
  readonly sshConfig: string | undefined;
  readonly keys: readonly string[];
  readonly okIfNoKey: boolean;
  readonly knownHosts: string | undefined;
  readonly hostKeyPolicy: HostKeyPolicy | undefined;
  /** In ms. */
  readonly connectTimeout: number | undefined;
  /** In ms. */
  readonly timeout: number | undefined;
  readonly window: number;
  readonly listTargets: boolean;
  readonly dryRun: boolean;
  readonly verbose: boolean;
  readonly debug: boolean;
}

/** `-F file` (which must exist), `-F none`, or ~/.ssh/config when it exists. */
function sshConfigFile(given: string | undefined, home = homedir()): string | undefined {
  if (given === 'none') return undefined;
  if (given !== undefined) {
    const path = given.startsWith('~/') ? join(home, given.slice(2)) : given;
    if (!existsSync(path)) throw new UsageError(`-F ${given}: no such ssh config file`);
    return path;
  }
  const fallback = join(home, '.ssh', 'config');
  return existsSync(fallback) ? fallback : undefined;
}

/** The target options of a command, validated. */
export function targetOptions(raw: TargetOptionValues): TargetOptions {
  return {
    targets: raw.target,
    excludes: raw.exclude,
    login: raw.login,
    gateway: raw.gateway,
    port: raw.port,
    sshConfig: sshConfigFile(raw.sshConfig),
    keys: raw.key,
    okIfNoKey: raw.okIfNoKey,
    knownHosts: raw.knownHosts,
    hostKeyPolicy: raw.hostKeyPolicy,
    connectTimeout: raw.connectTimeout,
    timeout: raw.timeout,
    window: raw.window ?? 0,
    listTargets: raw.listTargets,
    dryRun: raw.dryRun,
    verbose: raw.verbose || raw.debug,
    debug: raw.debug,
  };
}
