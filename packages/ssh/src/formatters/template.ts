/**
 * apssh's line formats: `{user}{host}:{linenl}`, `{time}:{host}:{linenl}`,
 * `[%Y] {fqdn} {line}{nl}`… expanded for one line of output.
 */
import { isIP } from 'node:net';
import type { NodeIdentity } from './formatter.js';
import { strftime } from './strftime.js';

/**
 * What `{time}` stands for: apssh's `Formatter.time_format`.
 * @default '%H-%M-%S'
 * @example
 * ```ts
 * strftime(TIME_FORMAT, new Date(2026, 10, 25, 1, 36, 42)) // '01-36-42'
 * ```
 */
export const TIME_FORMAT = '%H-%M-%S';

/** The placeholders, matched in a single pass so that substituted text is never scanned again. */
const PLACEHOLDER = /\{(linenl|line|nl|host|fqdn|user)\}/g;

/**
 * The short name of a host: the part before the first `.`, so `fit01.inria.fr` shows
 * as `fit01`. An IPv4 or IPv6 address is kept whole (`10.0.0.5`, not `10`).
 *
 * apssh keeps the name whole when its first label parses as an integer; we ask
 * `net.isIP` instead, so `10.example.org` shortens to `10` and `::ffff:1.2.3.4` stays whole.
 *
 * @param hostname - the name or address as given to the node.
 * @returns the short name; `''` for an empty name.
 *
 * @example
 * ```ts
 * shortenHostname('fit01.inria.fr') // 'fit01'
 * shortenHostname('192.168.3.1')    // '192.168.3.1'
 * ```
 */
export function shortenHostname(hostname: string): string {
  if (isIP(hostname) !== 0) return hostname;
  const dot = hostname.indexOf('.');
  return dot < 0 ? hostname : hostname.slice(0, dot);
}

/** The widths the `{fqdn}`, `{host}` and `{user}` columns are padded to. */
export interface ColumnWidths {
  /** The longest full host name. @default 0 */
  fqdn: number;
  /** The longest short host name. @default 0 */
  host: number;
  /** The longest `user@`. @default 0 */
  user: number;
}

/** What one expansion of a format needs. */
export interface TemplateValues {
  /** The line with its newline, if it had one. */
  readonly linenl: string;
  /** When the line arrived: the `%` codes and `{time}` are taken from it. */
  readonly time: Date;
  /** The host name as given; missing means empty columns. */
  readonly hostname?: string | undefined;
  /** The login; missing means an empty `{user}`. */
  readonly username?: string | undefined;
  /** Column widths; missing means no padding. */
  readonly widths?: Readonly<ColumnWidths> | undefined;
}

/**
 * Expands an apssh format for one line, in apssh's order: `{time}` becomes `%H-%M-%S`,
 * then the `%` codes are applied to the **format** (see {@link strftime}), then the
 * placeholders are replaced in one pass:
 *
 * - `{line}`: the line without its final newline; `{linenl}`: the line as it came;
 *   `{nl}`: a newline;
 * - `{fqdn}`: the host name as given; `{host}`: its short form ({@link shortenHostname});
 * - `{user}`: `user@`, or `''` when there is no login (not padded then).
 *
 * Since the remote text is substituted last and never rescanned, a `%` or a `{line}`
 * printed by the remote command shows as is.
 *
 * The host, fqdn and user columns are padded on the right to `widths`. apssh centres
 * them (`' fit01  :'`); left alignment keeps the text after the column in a straight
 * line and the names themselves readable (`'fit01   :'`).
 *
 * @param format - the apssh format.
 * @param values - the line, its time and its node.
 * @returns the text to print, with a newline only where the format puts one.
 *
 * @example
 * ```ts
 * expandTemplate('{time}:{host}:{linenl}', {
 *   linenl: 'up 3 days\n', time: new Date(2026, 10, 25, 1, 36, 42), hostname: 'fit01.inria.fr',
 * }) // '01-36-42:fit01:up 3 days\n'
 * ```
 */
export function expandTemplate(format: string, values: TemplateValues): string {
  const { linenl, hostname = '', username, widths } = values;
  const stamped = strftime(format.replaceAll('{time}', TIME_FORMAT), values.time);
  return stamped.replace(PLACEHOLDER, (_match, name: string) => {
    switch (name) {
      case 'line':
        return linenl.endsWith('\n') ? linenl.slice(0, -1) : linenl;
      case 'linenl':
        return linenl;
      case 'nl':
        return '\n';
      case 'fqdn':
        return hostname.padEnd(widths?.fqdn ?? 0);
      case 'host':
        return shortenHostname(hostname).padEnd(widths?.host ?? 0);
      default:
        // {user}: nodes without a login (the local node) get no column at all, as in apssh.
        return username ? `${username}@`.padEnd(widths?.user ?? 0) : '';
    }
  });
}

/**
 * A format bound to the nodes that use it: it remembers the widest names seen, so that
 * the output of several nodes lines up. A node widens the columns when it is attached
 * (`Formatter.attach`) or, failing that, with its first line or event.
 *
 * @example
 * ```ts
 * const template = new LineTemplate('{host}:{linenl}')
 * template.attach(fit01)          // fit01.inria.fr
 * template.attach(gateway)        // faraday.inria.fr
 * template.render('ok\n', fit01, new Date()) // 'fit01  :ok\n'
 * ```
 */
export class LineTemplate {
  /** The format as given (`{time}` not yet expanded). */
  readonly format: string;
  readonly #widths: ColumnWidths = { fqdn: 0, host: 0, user: 0 };

  /**
   * @param format - an apssh format, e.g. `'{user}{host}:{linenl}'`.
   */
  constructor(format: string) {
    this.format = format;
  }

  /** The current column widths. */
  get widths(): Readonly<ColumnWidths> {
    return { ...this.#widths };
  }

  /**
   * Widens the columns to fit `node`'s names.
   * @param node - a node that will print through this template.
   */
  attach(node: NodeIdentity): void {
    const widths = this.#widths;
    widths.fqdn = Math.max(widths.fqdn, node.hostname.length);
    widths.host = Math.max(widths.host, shortenHostname(node.hostname).length);
    if (node.username) widths.user = Math.max(widths.user, node.username.length + 1);
  }

  /**
   * Expands the format for one line of `node` (see {@link expandTemplate}).
   * @param linenl - the line, with its newline if it had one.
   * @param node - who printed it; attached first if it was not.
   * @param time - when it arrived.
   * @returns the formatted text.
   */
  render(linenl: string, node: NodeIdentity, time: Date): string {
    this.attach(node);
    return expandTemplate(this.format, {
      linenl,
      time,
      hostname: node.hostname,
      username: node.username,
      widths: this.#widths,
    });
  }
}
