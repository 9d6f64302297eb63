/**
 * The default Transport: ssh2, imported at the first connect, agent query or key parse,
 * once per process. Loading ssh2 costs ~35 ms (half of what importing @jobgraph/ssh cost
 * before), which a script that never connects (a dry run, a listing, a LocalNode-only
 * graph) should not pay.
 */
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import type { Transport } from './transport.js';

let loading: Promise<Transport> | undefined;

/**
 * The ssh2 Transport, imported the first time it is asked for. A failed import is not kept:
 * the next call tries again (the module may have been installed meanwhile).
 * @throws SshError `ERR_SSH2_LOAD` naming the module and the cause, in one line
 */
export function loadSsh2Transport(): Promise<Transport> {
  if (loading === undefined) {
    const attempt: Promise<Transport> = import('./ssh2.js').then(
      (module) => module.ssh2Transport,
      (error: unknown) => {
        if (loading === attempt) loading = undefined;
        // the first line: a module-not-found error goes on with its require stack
        const cause = messageOf(error).split('\n')[0]?.trim() || 'unknown error';
        throw new SshError(
          SshErrorCode.SSH2_LOAD,
          `Cannot load the ssh2 module (the SSH implementation): ${cause}`,
          { cause: error },
        );
      },
    );
    loading = attempt;
  }
  return loading;
}

/** Whether `error` is the failure of {@link loadSsh2Transport}, which no key or agent loader may swallow. */
export function isSsh2LoadFailure(error: unknown): boolean {
  return error instanceof SshError && error.code === SshErrorCode.SSH2_LOAD;
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
