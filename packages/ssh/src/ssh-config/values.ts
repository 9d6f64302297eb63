/**
 * The values of the keywords we use: one argument, flags, ports, times and the host-key
 * policy, each checked as ssh checks it, with a one-line message naming what was expected.
 */
import type { ConfigLine } from './lexer.js';
import { ConfigProblem, show, type Where } from './problem.js';
import { servicePort } from './services.js';
import type { ResolvedHost } from './types.js';

/**
 * The argument of a keyword that takes exactly one, which may not be empty (ssh: "Missing
 * argument" for `HostName ""`).
 */
export function single(line: ConfigLine): string {
  if (line.args.length !== 1) {
    throw new ConfigProblem(`${line.keyword} takes one argument, got ${line.args.length}`, line);
  }
  const value = line.args[0] as string;
  if (value === '') throw new ConfigProblem(`empty argument after keyword ${show(line.keyword)}`, line);
  return value;
}

/** yes/no/true/false, as ssh's flags. */
export function parseFlag(line: ConfigLine): boolean {
  const value = single(line).toLowerCase();
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new ConfigProblem(`${line.keyword} must be yes or no, not ${show(value)}`, line);
}

/**
 * A TCP port, 1 to 65535, or a service name of /etc/services (`ssh` is 22), as OpenSSH's
 * a2port reads one.
 */
export function parsePort(text: string, where: Where, what: string): number {
  // strtonum's digits (strtoll skips leading blanks), a leading + allowed; then getservbyname
  const port = /^\s*\+?\d+$/.test(text) ? Number(text) : (servicePort(text) ?? Number.NaN);
  if (!(port >= 1 && port <= 65535)) {
    throw new ConfigProblem(
      `bad port ${show(text)} in ${what}: expected 1 to 65535 or a service name`,
      where,
    );
  }
  return port;
}

/** OpenSSH's time format: `30`, `30s`, `2m`, `1h30m` (s, m, h, d, w), in seconds. */
export function parseSeconds(line: ConfigLine): number {
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
export function parseStrictHostKeyChecking(
  line: ConfigLine,
): NonNullable<ResolvedHost['strictHostKeyChecking']> {
  const value = single(line).toLowerCase();
  if (value === 'yes' || value === 'true' || value === 'ask') return 'strict';
  if (value === 'no' || value === 'false' || value === 'off') return 'off';
  if (value === 'accept-new') return 'accept-new';
  throw new ConfigProblem(
    `StrictHostKeyChecking must be yes, no, accept-new, off or ask, not ${show(value)}`,
    line,
  );
}
