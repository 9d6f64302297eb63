/**
 * A user-space TCP proxy that delays every chunk by a fixed time in each direction, keeping
 * order: a slow link (this kernel has no sch_netem for `tc netem delay`; tbf limits the rate,
 * not the latency).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  readonly port: number;
  /** Sockets open now (both sides counted). */
  open(): number;
  /** Bytes carried, both directions. */
  carried(): number;
  close(): Promise<void>;
}

function delayed(from: Socket, to: Socket, delay: number, count: (n: number) => void): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer | null };
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, (queue[0]?.due ?? now) - now));
  };
  const push = (chunk: Buffer | null): void => {
    queue.push({ due: Date.now() + delay, chunk });
    if (timer === undefined) timer = setTimeout(pump, delay);
  };
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    push(chunk);
  });
  from.on('end', () => push(null));
  from.on('close', () => {
    // a destroyed peer: the other side goes once what was sent has been delivered
    if (!from.readableEnded) {
      if (timer) clearTimeout(timer);
      to.destroy();
    }
  });
}

/** Listens on 127.0.0.1 (any port) and forwards to `host:port`, `delay` ms each way. */
export async function startDelayProxy(host: string, port: number, delay: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  let bytes = 0;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    const upstream = createConnection({ host, port });
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayed(client, upstream, delay, (n) => {
      bytes += n;
    });
    delayed(upstream, client, delay, (n) => {
      bytes += n;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    open: () => sockets.size,
    carried: () => bytes,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
