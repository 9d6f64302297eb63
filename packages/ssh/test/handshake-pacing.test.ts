/**
 * Handshakes paced per destination and per gateway, and handshakes dropped by sshd (MaxStartups)
 * retried (issue 12). Against an sshd of this file's own, with `MaxStartups 3:100:3`: beyond 3
 * connections in their handshake, sshd drops every new one. Never the bed's sshds (shared).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshNode, type SshNodeOptions } from '../src/index.js';
import { handshakeTuning } from '../src/ssh-node/handshake-retry.js';
import { lazySsh2Transport } from '../src/transport/lazy-ssh2.js';
import type { ConnectRequest, Transport } from '../src/transport/transport.js';
import { bed, common } from './bed.js';
import { until } from './probes.js';

const execFileAsync = promisify(execFile);

/** A port free now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

let dir = '';
let port = 0;
let sshd: ChildProcess | undefined;
let sshdExited: Promise<void> = Promise.resolve();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-handshakes-'));
  port = await freePort();
  const base = await readFile(bed.loopback.sshdConfig, 'utf8');
  const config = base
    .split('\n')
    .filter((line) => !/^(Port|PidFile|MaxStartups|LogLevel)\b/.test(line))
    .concat([`Port ${port}`, `PidFile ${join(dir, 'sshd.pid')}`, 'MaxStartups 3:100:3', 'LogLevel ERROR'])
    .join('\n');
  await writeFile(join(dir, 'sshd_config'), config);
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${bed.loopback.hostKey}\n`);
  // the bed's loopback host key under another host key's name: a "changed" host key
  await writeFile(join(dir, 'known_hosts_forged'), `[127.0.0.1]:${port} ${bed.gateway.hostKey}\n`);
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
  const child = spawn('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-D', '-e'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  sshd = child;
  sshdExited = new Promise((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await until(() => listening(port), 10_000, 50).catch(() => {
    throw new Error(`our sshd did not start: ${stderr}`);
  });
});

afterAll(async () => {
  // only the sshd this file started, by its own child handle
  sshd?.kill('SIGTERM');
  await sshdExited;
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  handshakeTuning.retry = true;
  handshakeTuning.onRetry = undefined;
});

/** The ssh2 transport, counting connect attempts and the most in progress at once (per `sock`: through a gateway). */
function countingTransport() {
  const counts = { attempts: 0, active: 0, peak: 0 };
  const transport: Transport = {
    async connect(request: ConnectRequest) {
      counts.attempts++;
      counts.active++;
      counts.peak = Math.max(counts.peak, counts.active);
      try {
        return await lazySsh2Transport.connect(request);
      } finally {
        counts.active--;
      }
    },
    agentKeys: (socket) => lazySsh2Transport.agentKeys(socket),
    parseKey: (data, passphrase, source) => lazySsh2Transport.parseKey(data, passphrase, source),
  };
  return { transport, counts };
}

function ourNode(extra: Omit<SshNodeOptions, 'hostname'> = {}): SshNode {
  return new SshNode({
    hostname: '127.0.0.1',
    port,
    ...common({ knownHosts: join(dir, 'known_hosts'), shareConnection: false, connectTimeout: 20_000 }),
    ...extra,
  });
}

/** Runs `true` on every node at once; the failures' messages. */
async function fanOut(nodes: SshNode[]): Promise<string[]> {
  try {
    const results = await Promise.allSettled(nodes.map((node) => node.run('true')));
    for (const result of results) if (result.status === 'fulfilled') expect(result.value.exitCode).toBe(0);
    return results.flatMap((result) =>
      result.status === 'rejected' ? [`${result.reason.code}: ${result.reason.message}`] : [],
    );
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
}

describe('handshakes to one sshd with MaxStartups 3:100:3', () => {
  it('50 nodes at once (own connections): no failure; at most 8 handshakes at once; the dropped ones retried', async () => {
    const { transport, counts } = countingTransport();
    let retries = 0;
    handshakeTuning.onRetry = () => {
      retries++;
    };
    const nodes = Array.from({ length: 50 }, () => ourNode({ transport }));
    expect(await fanOut(nodes)).toEqual([]);
    expect(counts.peak).toBeLessThanOrEqual(8);
    // 8 at once against sshd's 3: some were dropped, and retried
    expect(retries).toBeGreaterThan(0);
    expect(counts.attempts).toBe(50 + retries);
  });

  it('without the pacing and the retries, the same fan-out fails (what this feature prevents)', async () => {
    handshakeTuning.retry = false;
    const nodes = Array.from({ length: 50 }, () => ourNode({ maxHandshakes: 1000 }));
    const failures = await fanOut(nodes);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(
      /^ERR_SSH_CONNECT: Cannot connect to root@127\.0\.0\.1:\d+: (Connection lost before handshake|read ECONNRESET)/,
    );
  });

  it('maxHandshakes: 1 paces the handshakes one at a time: no failure even without retries', async () => {
    handshakeTuning.retry = false;
    const { transport, counts } = countingTransport();
    const nodes = Array.from({ length: 12 }, () => ourNode({ transport, maxHandshakes: 1 }));
    expect(await fanOut(nodes)).toEqual([]);
    expect(counts.peak).toBe(1);
    expect(counts.attempts).toBe(12);
  });

  it('an invalid maxHandshakes is refused', () => {
    expect(() => ourNode({ maxHandshakes: 0 })).toThrow(
      'Invalid SshNode option maxHandshakes: expected an integer >= 1, got 0',
    );
  });
});

describe('what is not retried', () => {
  it('an authentication refusal: one attempt', async () => {
    const { transport, counts } = countingTransport();
    const [failure] = await fanOut([ourNode({ transport, keys: [join(dir, 'stranger')] })]);
    expect(failure).toMatch(/^ERR_SSH_AUTH: .*authentication refused/);
    expect(counts.attempts).toBe(1);
  });

  it('a changed host key: one attempt', async () => {
    const { transport, counts } = countingTransport();
    const node = ourNode({ transport, knownHosts: join(dir, 'known_hosts_forged') });
    const [failure] = await fanOut([node]);
    expect(failure).toMatch(/^ERR_HOST_KEY: /);
    expect(counts.attempts).toBe(1);
  });

  it('a refused port: one attempt', async () => {
    const { transport, counts } = countingTransport();
    const [failure] = await fanOut([ourNode({ transport, port: await freePort() })]);
    expect(failure).toMatch(/^ERR_SSH_CONNECT: .*connection refused/);
    expect(counts.attempts).toBe(1);
  });

  it('a server that never answers (connect timeout): one attempt', async () => {
    const sockets: Socket[] = [];
    const silent = await tcpServer((socket) => sockets.push(socket));
    try {
      const { transport, counts } = countingTransport();
      const [failure] = await fanOut([ourNode({ transport, port: silent.port, connectTimeout: 300 })]);
      expect(failure).toMatch(/^ERR_SSH_CONNECT: .*no answer within 300 ms/);
      expect(counts.attempts).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await silent.close();
    }
  });
});

describe('waiting for a turn', () => {
  it('a node closed while it waits for a turn stops waiting at once (not after connectTimeout)', async () => {
    const sockets: Socket[] = [];
    const silent = await tcpServer((socket) => sockets.push(socket));
    const first = ourNode({ port: silent.port, maxHandshakes: 1, connectTimeout: 20_000 });
    const second = ourNode({ port: silent.port, maxHandshakes: 1, connectTimeout: 20_000 });
    try {
      const holding = first.run('true').catch((error: unknown) => error);
      await until(() => sockets.length === 1, 5_000);
      const waiting = second.run('true').catch((error: unknown) => error);
      // the second is held by the gate: it never reaches the server
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sockets.length).toBe(1);
      const started = Date.now();
      await second.close();
      expect(await waiting).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(2_000);
      await first.close();
      expect(await holding).toBeInstanceOf(Error);
      expect(sockets.length).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await silent.close();
    }
  });
});

describe('a server that always drops', () => {
  it('is retried within connectTimeout, then fails with a message saying so', async () => {
    const dropping = await tcpServer((socket) => socket.destroy());
    try {
      const { transport, counts } = countingTransport();
      const started = Date.now();
      const [failure] = await fanOut([ourNode({ transport, port: dropping.port, connectTimeout: 1_500 })]);
      const elapsed = Date.now() - started;
      expect(failure).toMatch(
        /^ERR_SSH_CONNECT: Cannot connect to root@127\.0\.0\.1:\d+: .* \(dropped by the server before the handshake \d+ times within connectTimeout \(its MaxStartups\?\)\)$/,
      );
      expect(counts.attempts).toBeGreaterThan(1);
      // the budget bounds the whole: attempts and pauses (+ the transport's own second of slack)
      expect(elapsed).toBeLessThan(1_500 + 1_000);
    } finally {
      await dropping.close();
    }
  });
});

describe('through a gateway', () => {
  it('handshakes through one gateway connection are paced per gateway (2 targets, 12 nodes, maxHandshakes 2)', async () => {
    const gateway = new SshNode({ hostname: bed.gateway.hostname, port: bed.gateway.port, ...common() });
    const { transport, counts } = countingTransport();
    const nodes = Array.from(
      { length: 12 },
      (_, index) =>
        new SshNode({
          hostname: bed.targets[index % 2]?.hostname ?? '',
          port: bed.targets[index % 2]?.port ?? 22,
          gateway,
          ...common({ shareConnection: false, transport, maxHandshakes: 2 }),
        }),
    );
    try {
      expect(await fanOut(nodes)).toEqual([]);
      // per destination alone, 2 + 2 could be in progress: the gateway's gate keeps it at 2
      expect(counts.peak).toBeLessThanOrEqual(2);
      expect(counts.attempts).toBe(12);
    } finally {
      await gateway.close();
    }
  });
});

describe('dropped handshakes through a gateway', () => {
  it('20 nodes behind a gateway, to the sshd with MaxStartups 3: the drops come through the tunnel, are retried, no failure', async () => {
    // the bed's loopback sshd as the gateway (only used), our sshd as the target behind it
    const gateway = new SshNode({ hostname: bed.loopback.hostname, port: bed.loopback.port, ...common() });
    const { transport, counts } = countingTransport();
    let retries = 0;
    handshakeTuning.onRetry = () => {
      retries++;
    };
    const nodes = Array.from({ length: 20 }, () => ourNode({ transport, gateway }));
    try {
      expect(await fanOut(nodes)).toEqual([]);
      expect(counts.peak).toBeLessThanOrEqual(8);
      expect(retries).toBeGreaterThan(0);
      expect(counts.attempts).toBe(20 + retries);
    } finally {
      await gateway.close();
    }
  });
});

/** A TCP server on 127.0.0.1 handing each socket to `onSocket`. */
async function tcpServer(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
