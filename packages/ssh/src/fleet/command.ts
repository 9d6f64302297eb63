/**
 * The command line of each host: a string, a function of the host, or a template filled
 * with the host's `hostArgs` (parallel-ssh's `host_args`, typed).
 */
import { shellQuote } from '../ssh-node/shell.js';
import { type FleetHost, invalid } from './hosts.js';

/** One host's arguments: a word, a list of words (`{0}`, `{1}`…), or named words (`{name}`). */
export type HostArg =
  | string
  | number
  | readonly (string | number)[]
  | Readonly<Record<string, string | number>>;

/** The arguments of every host: a list in host order, or a map keyed by host name. */
export type HostArgs = readonly HostArg[] | Readonly<Record<string, HostArg>>;

/** A fleet command: one line for all, or a function of the host. */
export type FleetCommand = string | ((host: FleetHost) => string);

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z0-9_]+)\}/g;

function fill(template: string, arg: HostArg, host: FleetHost): string {
  const values: Readonly<Record<string, string | number>> =
    typeof arg === 'string' || typeof arg === 'number'
      ? { 0: arg }
      : Array.isArray(arg)
        ? Object.fromEntries(arg.map((value, index) => [String(index), value as string | number]))
        : (arg as Readonly<Record<string, string | number>>);
  return template.replace(PLACEHOLDER, (whole, key: string | undefined) => {
    if (key === undefined) return whole[0] as string;
    const value = values[key];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw invalid(
        `Invalid Fleet option hostArgs for host ${JSON.stringify(host.name)}: the command uses {${key}}, which its arguments do not give (expected ${/^\d+$/.test(key) ? `a list of at least ${Number(key) + 1} words` : `an object with "${key}"`})`,
      );
    }
    return shellQuote(String(value));
  });
}

/**
 * The command line of every host, in host order. With `hostArgs`, the command is a template:
 * `{0}`, `{1}`… take the host's list of words (a single word is `{0}`), `{name}` its named
 * words; each is inserted shell-quoted; `{{` and `}}` are braces.
 * @throws SshError `ERR_INVALID_OPTION` naming the host whose arguments are missing
 */
export function commandLines(
  hosts: readonly FleetHost[],
  command: FleetCommand,
  hostArgs: HostArgs | undefined,
): string[] {
  if (typeof command !== 'string' && typeof command !== 'function') {
    throw invalid(
      `Invalid Fleet command: expected a string or a function of the host, got ${typeof command}`,
    );
  }
  if (hostArgs === undefined) {
    return hosts.map((host) => {
      const line = typeof command === 'string' ? command : command(host);
      if (typeof line !== 'string' || line === '') {
        throw invalid(
          `Invalid Fleet command for host ${JSON.stringify(host.name)}: expected a non-empty command line`,
        );
      }
      return line;
    });
  }
  if (typeof command !== 'string') {
    throw invalid(
      'Invalid Fleet option hostArgs: it fills a template string, not a function (the function gets the host)',
    );
  }
  if (typeof hostArgs !== 'object' || hostArgs === null) {
    throw invalid('Invalid Fleet option hostArgs: expected a list in host order or a map keyed by host name');
  }
  return hosts.map((host, index) => {
    let arg: HostArg | undefined;
    if (Array.isArray(hostArgs)) {
      arg = hostArgs[index];
      if (arg === undefined) {
        throw invalid(
          `Invalid Fleet option hostArgs: no arguments for host ${JSON.stringify(host.name)} (expected a list of ${hosts.length}, got ${hostArgs.length})`,
        );
      }
    } else {
      arg = (hostArgs as Readonly<Record<string, HostArg>>)[host.name];
      if (arg === undefined) {
        throw invalid(
          `Invalid Fleet option hostArgs: no arguments for host ${JSON.stringify(host.name)} (expected a key for every host: ${hosts.map((h) => h.name).join(', ')})`,
        );
      }
    }
    return fill(command, arg, host);
  });
}
