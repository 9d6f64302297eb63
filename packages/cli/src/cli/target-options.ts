/**
 * The options `jobgraph ssh`, `push` and `pull` share, validated once with zod (they are declared
 * for commander by fanout-commands.ts, which does not load zod: `jobgraph --help` need not pay
 * for it).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostKeyPolicy } from '@jobgraph/ssh';
import { z } from 'zod';
import { LONGEST_MS, parseDuration } from '../scenario/durations.js';
import { USER_NAME } from '../targets/grammar.js';
import { UsageError } from './errors.js';

const duration = (option: string) =>
  z
    .string()
    .transform((text, context) => {
      try {
        // a bare number is seconds, as apssh's -c
        const ms = /^\d+(\.\d+)?$/.test(text.trim()) ? Math.round(Number(text) * 1000) : parseDuration(text);
        if (!(ms > 0 && ms <= LONGEST_MS)) throw new RangeError('out of range');
        return ms;
      } catch {
        context.addIssue({
          code: 'custom',
          message: `${option} expects a positive duration (at most 596h) in seconds or like 30s, 500ms, 2m; got ${JSON.stringify(text)}`,
        });
        return z.NEVER;
      }
    })
    .optional();

const integer = (option: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${option} expects an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `${option} expects an integer from ${min} to ${max}`)
    .optional();

/** The options that fanout-commands.ts's `addTargetOptions` declares, validated. */
export const targetOptionsSchema = z.object({
  target: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  login: z.string().regex(USER_NAME, '-l expects a user name (letters, digits, and . _ - $)').optional(),
  gateway: z.string().min(1, '-g expects [user@]host').optional(),
  port: integer('-p', 1, 65535),
  sshConfig: z.string().min(1, '-F expects a file name or none').optional(),
  key: z.array(z.string().min(1, '-k expects a key file')).default([]),
  okIfNoKey: z.boolean().default(false),
  knownHosts: z.string().min(1, '--known-hosts expects a file name').optional(),
  hostKeyPolicy: z.enum(['strict', 'accept-new', 'off']).optional(),
  connectTimeout: duration('-c'),
  timeout: duration('--timeout'),
  window: integer('-w', 0, 1_000_000),
  listTargets: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  verbose: z.boolean().default(false),
  debug: z.boolean().default(false),
});

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

/** Validates `raw` with `schema`: the first problem becomes a one-line UsageError. */
export function validate<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(issue === undefined ? 'invalid options' : issue.message);
  }
  return parsed.data;
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
export function targetOptions(raw: z.output<typeof targetOptionsSchema>): TargetOptions {
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
