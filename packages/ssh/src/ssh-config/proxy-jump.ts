/**
 * The syntax of ProxyJump: `none`, or a comma-separated chain of `[user@]host[:port]` and
 * `ssh://[user@]host[:port]` items, checked when the line is read as ssh's parse_jump does.
 * (How a chain becomes a route of resolved hosts is in route.ts.)
 */
import type { ConfigLine } from './lexer.js';
import { ConfigProblem, show, type Where } from './problem.js';
import { parsePort, single } from './values.js';

/** A ProxyJump item: `[user@]host[:port]` or `ssh://[user@]host[:port]`, as written (tokens unexpanded). */
export interface JumpItem {
  readonly text: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
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

/**
 * OpenSSH's valid_domain, which a URI's host must pass: a letter or digit first, then
 * letters, digits, `-`, `_` and single dots.
 */
function validDomain(host: string): boolean {
  return /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*\.?$/i.test(host);
}

/**
 * `host`, `host:port`, `[v6]`, `[v6]:port`, as ssh's hpdelim splits them: an empty port
 * (`gw:`) is no port. In a URI the host must be a domain name (its trailing dot dropped)
 * or an address (ssh 9.2 refuses `[v6]` there too; we take it, as we always did) and a
 * trailing `/` is allowed, but no path.
 */
function splitHostPort(
  text: string,
  item: string,
  where: Where,
  uri: boolean,
): { host: string; port: number | undefined } {
  const match = /^(?:\[([^\]]+)\]|([^:/[\]]+))(?::([^/]*))?(\/.*)?$/.exec(text);
  let host = match?.[1] ?? match?.[2];
  const path = match?.[4];
  if (
    match === null ||
    host === undefined ||
    (path !== undefined && (!uri || path !== '/')) ||
    (uri && match[2] !== undefined && !validDomain(host))
  ) {
    throw new ConfigProblem(
      `bad ProxyJump item ${show(item)}: expected [user@]host[:port] or ssh://[user@]host[:port]`,
      where,
    );
  }
  if (uri && match[2] !== undefined) host = host.replace(/\.$/, '');
  const portText = match[3];
  const port =
    portText === undefined || portText === ''
      ? undefined
      : parsePort(portText, where, `ProxyJump item ${show(item)}`);
  return { host, port };
}

/**
 * A ProxyJump value: `none`, or a comma-separated chain, first hop first.
 * @throws ConfigProblem for an empty or malformed item
 */
export function parseProxyJump(line: ConfigLine): readonly JumpItem[] | 'none' {
  const value = single(line);
  if (value.toLowerCase() === 'none') return 'none';
  return value.split(',').map((item) => {
    if (item === '') throw new ConfigProblem(`empty item in ProxyJump ${show(value)}`, line);
    return item.startsWith('ssh://') ? parseSshUri(item, line) : parseUserHostPort(item, line);
  });
}
