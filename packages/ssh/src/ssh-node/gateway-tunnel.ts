/**
 * Gateways: a node behind a gateway reaches its server through a direct-tcpip channel of the
 * gateway's connection (`forwardOut`), as `ssh -J` does. Chains of any depth follow: the
 * gateway's own connection may run through a tunnel of its gateway.
 */
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import type { ConnectionLifecycle, Dial } from './connection-lifecycle.js';

/**
 * How a node behind `gateway` reaches `host:port`: the gateway connects if it is not
 * connected, and stays open while the tunnel is in use (closing it would cut the node off).
 * @param forWhom - the node behind, as messages name it
 */
export function throughGateway(
  gateway: ConnectionLifecycle,
  host: string,
  port: number,
  forWhom: () => string,
): Dial {
  return async (signal) => {
    const connection = await gateway.ready(signal);
    let stream: Awaited<ReturnType<typeof connection.forwardOut>>;
    try {
      stream = await connection.forwardOut(host, port);
    } catch (error) {
      throw new SshError(
        SshErrorCode.CONNECT,
        `Cannot connect to ${forWhom()}: the gateway ${gateway.name} could not reach ${host}:${port} (${messageOf(error)})`,
        { cause: error, node: forWhom() },
      );
    }
    const release = gateway.hold();
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
