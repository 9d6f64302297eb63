/**
 * The target grammar of `jobgraph ssh/push/pull -t`, apssh's plus ports and gateway chains:
 *
 *   target   := [hop ARROW]* endpoint | 'None' ARROW endpoint
 *   ARROW    := '->' | '→'
 *   endpoint := [user '@'] host [':' port]        host may be an IPv6 address in brackets
 *
 * `gw->host` names the gateway of that target (it wins over `-g`), `None->host` says "direct,
 * whatever `-g` says", `a->b->host` chains gateways (outermost first).
 */

import { TargetError } from './errors.js';
import { expandRanges } from './ranges.js';

/** One host of a target, as written (what is missing comes from -l, -p, the ssh config, defaults). */
export interface EndpointSpec {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

/** A parsed target. */
export interface TargetSpec {
  /** What was written (after range expansion). */
  readonly text: string;
  /**
   * The gateways written in the target, outermost first: `undefined` when none is written (then
   * `-g` or the ssh config decide), `[]` for `None->host` (direct, whatever `-g` says).
   */
  readonly gateways: readonly EndpointSpec[] | undefined;
  readonly endpoint: EndpointSpec;
}

const ARROW = /->|→/;
/** What a user name may hold (as in targets, so in `-l`). */
export const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._$-]*$/;
const USER = USER_NAME;
/** Host names, IPv4 addresses and ssh_config aliases. */
const HOST = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const DOTTED_QUAD = /^\d+\.\d+\.\d+\.\d+$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%A-Za-z]*$/;

/**
 * Parses `[user@]host[:port]`.
 * @throws TargetError naming what is wrong
 */
export function parseEndpoint(text: string, target: string = text): EndpointSpec {
  if (text === '') throw new TargetError(target, 'a host name is missing');
  const at = text.split('@');
  if (at.length > 2)
    throw new TargetError(target, `"${text}" has more than one @: expected [user@]host[:port]`);
  const user = at.length === 2 ? at[0] : undefined;
  const rest = at.length === 2 ? (at[1] ?? '') : text;
  if (user !== undefined && !USER.test(user)) {
    throw new TargetError(target, `"${user}" is not a user name: expected [user@]host[:port]`);
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    host = close < 0 ? '' : rest.slice(1, close);
    const after = close < 0 ? '' : rest.slice(close + 1);
    if (close < 0 || !IPV6.test(host) || (after !== '' && !after.startsWith(':'))) {
      throw new TargetError(
        target,
        `"${rest}" is not an IPv6 address in brackets: expected [::1] or [::1]:port`,
      );
    }
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0 && rest.indexOf(':', colon + 1) >= 0) {
      throw new TargetError(
        target,
        `"${rest}" has several colons: write an IPv6 address in brackets, [::1]:port`,
      );
    }
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
    if (host === '') throw new TargetError(target, 'a host name is missing');
    if (!HOST.test(host)) {
      const hint = /[[\]{}]/.test(host) ? ' (ranges are written fit[1-3], fit[1,3], fit{1..3}, {a,b})' : '';
      throw new TargetError(
        target,
        `"${host}" is not a host name: expected letters, digits, dots, dashes${hint}`,
      );
    }
    // else looked up as a name (a range such as 10.0.0.[1-300] goes past .255)
    if (DOTTED_QUAD.test(host) && host.split('.').some((part) => Number(part) > 255)) {
      throw new TargetError(target, `"${host}" is not an IPv4 address: expected four numbers from 0 to 255`);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw new TargetError(target, `"${portText}" is not a port: expected a number from 1 to 65535`);
    }
  }
  return { user, host, port };
}

/**
 * Parses one target (no ranges: see {@link parseTargets}).
 * @throws TargetError naming what is wrong
 */
export function parseTarget(text: string): TargetSpec {
  const parts = text.split(ARROW);
  if (parts.some((part) => part === '')) {
    throw new TargetError(text, 'an arrow without a host on one side: expected gateway->host');
  }
  const last = parts.pop() as string;
  const endpoint = parseEndpoint(last, text);
  if (parts.length === 0) return { text, gateways: undefined, endpoint };
  if (parts.length === 1 && /^none$/i.test(parts[0] ?? '')) return { text, gateways: [], endpoint };
  if (parts.some((part) => /^none$/i.test(part))) {
    throw new TargetError(text, 'None-> can only start a target (None->host: direct, ignoring -g)');
  }
  return { text, gateways: parts.map((part) => parseEndpoint(part, text)), endpoint };
}

/**
 * Splits a list of targets on whitespace and commas — except commas inside a range group
 * (`fit[1,3]`, `{amf,upf}`).
 */
export function splitTargets(text: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let word = '';
  for (const char of text) {
    if (char === '[' || char === '{') depth++;
    if (char === ']' || char === '}') depth = Math.max(0, depth - 1);
    if (/\s/.test(char) || (char === ',' && depth === 0)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += char;
    }
  }
  if (word !== '') words.push(word);
  return words;
}

/**
 * Parses a list of targets (whitespace or comma separated), ranges expanded.
 * @example parseTargets('fit[01-02], gw->fit03') → fit01, fit02, and fit03 through gw
 * @throws TargetError for the first malformed target
 */
export function parseTargets(text: string): TargetSpec[] {
  return splitTargets(text).flatMap((word) => expandRanges(word).map(parseTarget));
}
