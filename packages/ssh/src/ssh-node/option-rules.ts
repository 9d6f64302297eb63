/**
 * The checks of SshNode's options: one rule per option, and one-line `ERR_INVALID_OPTION`
 * messages that name the option, what it must be, and what it got.
 *
 * A hand-written check, not a schema library: zod's import alone took 55 ms of every
 * script's start-up (of ~200 ms).
 */
import { MAX_DURATION } from '@jobgraph/core';
import { SshError, SshErrorCode } from '../errors.js';
import type { Formatter } from '../formatters/formatter.js';

/** One option's check, and what the message says the option must be. */
export type OptionRule = readonly [accepts: (value: unknown) => boolean, expected: string];

/** A rule for every option of `Options`: the compiler says which one was forgotten. */
export type OptionRules<Options> = { readonly [K in keyof Options]-?: OptionRule };

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;

const finiteAtLeast =
  (min: number, integer = false) =>
  (value: unknown): boolean =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    (!integer || Number.isInteger(value));

/** Connections a node may open for the overflow, beyond `connections`, unless told (`maxConnections`). */
export const DEFAULT_MAX_CONNECTIONS = 4;

/** How long an overflow connection stays open with no command, unless told (`idleClose`), in ms. */
export const DEFAULT_IDLE_CLOSE = 5_000;

/** The most connections one node may keep to its destination (`connections`, `maxConnections`). */
export const MAX_CONNECTIONS = 64;

/**
 * What each option of SshNode must be, all but `gateway`: its rule ("an SshNode") needs the
 * class, which sits above this module, so ssh-node.ts adds it.
 */
export const SSH_NODE_OPTION_RULES = {
  hostname: [nonEmpty, 'a non-empty host name'],
  username: [nonEmpty, 'a non-empty string'],
  port: [
    (value) => finiteAtLeast(1, true)(value) && (value as number) <= 65535,
    'an integer from 1 to 65535',
  ],
  keys: [Array.isArray, 'an array'],
  agent: [(value) => value === false || nonEmpty(value), 'a non-empty string or false'],
  password: [(value) => typeof value === 'string', 'a string'],
  knownHosts: [nonEmpty, 'a non-empty string'],
  hostKeyAlias: [(value) => typeof value === 'string' && /^\S+$/.test(value), 'a name without spaces'],
  hostKeyPolicy: [
    (value) => value === 'strict' || value === 'accept-new' || value === 'off',
    "'strict', 'accept-new' or 'off'",
  ],
  // more than a timer can wait would fire at once
  connectTimeout: [
    (value) => finiteAtLeast(0)(value) && value !== 0 && (value as number) <= MAX_DURATION,
    `a positive number of milliseconds, at most ${MAX_DURATION}`,
  ],
  keepaliveInterval: [
    (value) => finiteAtLeast(0)(value) && (value as number) <= MAX_DURATION,
    `a number of milliseconds from 0 to ${MAX_DURATION}`,
  ],
  maxSessions: [finiteAtLeast(1, true), 'an integer >= 1'],
  maxHandshakes: [finiteAtLeast(1, true), 'an integer >= 1'],
  connections: [
    (value) => finiteAtLeast(1, true)(value) && (value as number) <= MAX_CONNECTIONS,
    `an integer from 1 to ${MAX_CONNECTIONS}`,
  ],
  maxConnections: [
    (value) => finiteAtLeast(1, true)(value) && (value as number) <= MAX_CONNECTIONS,
    `an integer from 1 to ${MAX_CONNECTIONS}`,
  ],
  idleClose: [
    (value) => finiteAtLeast(0)(value) && (value as number) <= MAX_DURATION,
    `a number of milliseconds from 0 to ${MAX_DURATION}`,
  ],
  tunnelNoDelay: [(value) => typeof value === 'boolean', 'a boolean'],
  shareConnection: [(value) => typeof value === 'boolean', 'a boolean'],
  formatter: [
    (value) => typeof value === 'object' && value !== null && typeof (value as Formatter).line === 'function',
    'a Formatter',
  ],
  verbose: [(value) => typeof value === 'boolean', 'a boolean'],
  transport: [(value) => typeof value === 'object' && value !== null, 'a Transport'],
} satisfies Record<string, OptionRule>;

function invalid(where: string, why: string): SshError {
  return new SshError(SshErrorCode.INVALID_OPTION, `Invalid SshNode option ${where}: ${why}`);
}

/** A value as a message shows it: strings quoted, numbers and booleans as they are, else the type. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/**
 * The options of an SshNode, checked against `rules`: an object with a host name, no option
 * the rules do not know, and every given value accepted by its rule (`undefined` counts as
 * not given). Returns a shallow copy.
 * @throws SshError `ERR_INVALID_OPTION` for the first option that breaks its rule.
 */
export function parseSshNodeOptions<Options extends { hostname: string }>(
  options: unknown,
  rules: OptionRules<Options>,
): Options {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('the options', 'expected an object');
  }
  const given = options as Record<string, unknown>;
  if (given.hostname === undefined) throw invalid('hostname', 'expected a non-empty host name');
  for (const [name, value] of Object.entries(given)) {
    const rule: OptionRule | undefined = Object.hasOwn(rules, name)
      ? rules[name as keyof Options]
      : undefined;
    if (rule === undefined) throw invalid(name, 'unknown option');
    if (value !== undefined && !rule[0](value))
      throw invalid(name, `expected ${rule[1]}, got ${shown(value)}`);
  }
  return { ...given } as Options;
}
