/**
 * How a destination is written: `user@host:port`, the grammar that targets, Fleet hosts and
 * node names share, so that what jobgraph prints can be given back to it as a target.
 */

/**
 * A host as written in `[user@]host[:port]`: an IPv6 address in brackets, so that its colons
 * are not read as the port's.
 * @example `hostText('::1')   // '[::1]'`
 */
export function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * `user@host`, with `:port` when the port is not `usualPort`; an IPv6 host in brackets.
 * @example `endpointText('root', '::1', 2222)   // 'root@[::1]:2222'`
 */
export function endpointText(username: string, host: string, port: number, usualPort = 22): string {
  return `${username}@${hostText(host)}${port === usualPort ? '' : `:${port}`}`;
}
