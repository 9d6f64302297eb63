/**
 * The default Transport: ssh2, imported at the first connect, agent query or key parse,
 * once per process. Loading ssh2 costs ~35 ms (half of what importing @jobgraph/ssh cost
 * before), which a script that never connects (a dry run, a listing, a LocalNode-only
 * graph) should not pay.
 */
import type { Transport } from './transport.js';

let loading: Promise<Transport> | undefined;

/** The ssh2 Transport, imported the first time it is asked for. */
export function loadSsh2Transport(): Promise<Transport> {
  loading ??= import('./ssh2.js').then((module) => module.ssh2Transport);
  return loading;
}

/** ssh2's Transport behind a dynamic import: the same methods, each awaiting the module first. */
export const lazySsh2Transport: Transport = {
  async connect(request) {
    return (await loadSsh2Transport()).connect(request);
  },
  async agentKeys(socket) {
    return (await loadSsh2Transport()).agentKeys(socket);
  },
  async parseKey(data, passphrase, source) {
    return (await loadSsh2Transport()).parseKey(data, passphrase, source);
  },
};
