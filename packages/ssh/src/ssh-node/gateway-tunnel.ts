/**
 * Gateways: a node behind a gateway reaches its server through a direct-tcpip channel of the
 * gateway's connection (`forwardOut`), as `ssh -J` does. Chains of any depth follow: the
 * gateway's own connection may run through a tunnel of its gateway.
 */
import type { Duplex } from 'node:stream';
import { hostText } from '../endpoint-text.js';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import type { Connection } from '../transport/transport.js';
import type { Dial } from './connection-lifecycle.js';
import type { TunnelEnd } from './connection-registry.js';

/**
 * How a node behind a gateway reaches `host:port`: the gateway connects if it is not
 * connected, and stays open while the tunnel is in use (closing it would cut the node off).
 * @param gateway - the gateway's connection, looked up at each dial (it may have been closed and made anew since)
 * @param forWhom - the node behind, as messages name it
 */
export function throughGateway(
  gateway: () => TunnelEnd,
  host: string,
  port: number,
  forWhom: () => string,
  noDelay = true,
): Dial {
  return async (signal) => {
    const end = gateway();
    // held from the start: a failed dial lets go, and a gateway nobody else uses then closes
    const release = end.hold();
    let stream: Duplex;
    try {
      const connection = await end.ready(signal).catch((error: unknown) => {
        // the target's job must say which target could not be reached, and why: its gateway's
        // error, with its code (an unreachable gateway makes an unreachable target)
        if (!(error instanceof SshError) || signal.aborted) throw error;
        throw new SshError(
          error.code as SshErrorCode,
          `Cannot connect to ${forWhom()} through its gateway: ${error.message}`,
          { cause: error, node: forWhom() },
        );
      });
      if (noDelay) await noDelayOn(connection, signal);
      try {
        stream = await connection.forwardOut(host, port);
      } catch (error) {
        throw new SshError(
          SshErrorCode.CONNECT,
          `Cannot connect to ${forWhom()}: the gateway ${end.name} could not reach ${hostText(host)}:${port} (${messageOf(error)})`,
          { cause: error, node: forWhom() },
        );
      }
    } catch (error) {
      release();
      throw error;
    }
    // When the target's end of the tunnel goes away, the gateway sends EOF but keeps the
    // channel open: ssh2 then neither closes the connection nor can destroy it (the
    // stream is no longer writable). Destroying the tunnel closes everything on it.
    stream.once('end', () => stream.destroy());
    return {
      stream,
      close() {
        stream.destroy();
        release();
      },
    };
  };
}

/** The gateway connections whose sshd has been made to turn Nagle's algorithm off. */
const noDelayDone = new WeakMap<Connection, Promise<void>>();

/** How long the command that does it may take before the tunnel goes ahead anyway, in ms. */
const NO_DELAY_LIMIT = 2_000;

/**
 * Makes the gateway's sshd send without delay: OpenSSH sets TCP_NODELAY on a connection's socket
 * only when a session first runs a command there (`ssh_packet_set_interactive`). A connection that
 * carries only tunnels never does, so sshd holds each small write back until the previous one is
 * acknowledged — and Linux delays ACKs up to 40 ms: commands through the gateway, when several ran
 * at once, took ~44 ms each instead of ~3 (bench/README.md). One `true` on the gateway connection,
 * once, before its first tunnel, turns it on. Best effort: a gateway that refuses sessions or
 * whose shell is `nologin` is used as before. (A forced command — `ForceCommand`, `command=` in
 * authorized_keys — runs instead of `true`: the gateway node's `tunnelNoDelay: false` skips it.)
 * `signal` stops this caller's wait, not the command.
 */
function noDelayOn(connection: Connection, signal: AbortSignal): Promise<void> {
  let done = noDelayDone.get(connection);
  if (done === undefined) {
    done = runTrue(connection);
    noDelayDone.set(connection, done);
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void done.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

async function runTrue(connection: Connection): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  let channel: Awaited<ReturnType<Connection['exec']>> | undefined;
  const exited = (async () => {
    channel = await connection.exec('true', {});
    // opened after we stopped waiting: nobody will close it but us
    if (late) channel.close();
    channel.stdout.resume();
    channel.stderr.resume();
    await channel.exit;
  })();
  // the channel's opening and the command are bounded by the connection, not by us: we wait
  // NO_DELAY_LIMIT at most, then close the channel (now, or as soon as it opens)
  const tooLong = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, NO_DELAY_LIMIT);
  });
  try {
    await Promise.race([exited, tooLong]);
  } catch {
    // refused, or the connection went: the tunnel's own opening will say what is wrong
  } finally {
    clearTimeout(timer);
    late = true;
    channel?.close();
  }
  exited.catch(() => undefined);
}
