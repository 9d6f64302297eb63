/**
 * Commands and SFTP sessions sharing a node's channel budget, against a fake transport: an SFTP
 * session keeps its channel while it is open, so a command must never wait behind channels that
 * SFTP sessions hold (it would wait for good). It goes to another connection, or fails at once
 * saying what to change; a session that ended or failed holds no channel.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SshError } from '../src/errors.js';
import { SshNode, type SshNodeOptions } from '../src/ssh-node.js';
import type { Connection, ExecChannel, SftpSession, Transport } from '../src/transport/transport.js';

/** A fake SFTP session that the test can end as a server would. */
interface FakeSession extends SftpSession {
  end(): void;
}

function fakeSession(): FakeSession {
  const listeners: Array<() => void> = [];
  let closed = false;
  const session = {
    close() {
      if (closed) return;
      closed = true;
      for (const listener of listeners) listener();
    },
    end() {
      session.close();
    },
    onClose(listener: () => void) {
      listeners.push(listener);
    },
  };
  return session as unknown as FakeSession;
}

/** An exec channel whose command prints nothing and exits with 0 at once. */
function exited(): ExecChannel {
  const ended = () => {
    const stream = new PassThrough();
    stream.end();
    return stream;
  };
  return {
    stdout: ended(),
    stderr: ended(),
    stdin: new PassThrough(),
    exit: Promise.resolve({ code: 0, signal: null }),
    close: () => undefined,
  };
}

/**
 * A transport that counts connections and commands; `sftp: 'fail'` makes SFTP refused by the
 * server; `connections` how many connections the server takes (then it refuses).
 */
function fakeTransport(options: { sftp?: 'fail'; connections?: number } = {}) {
  const sessions: FakeSession[] = [];
  const counts = { connects: 0, commands: 0 };
  const connection = (): Connection => ({
    closed: false,
    exec: () => {
      counts.commands++;
      return Promise.resolve(exited());
    },
    sftp: () => {
      if (options.sftp === 'fail') return Promise.reject(new Error('subsystem request failed'));
      const session = fakeSession();
      sessions.push(session);
      return Promise.resolve(session);
    },
    forwardOut: () => Promise.reject(new Error('no tunnel here')),
    close: async () => undefined,
    onClose: () => undefined,
    onX11: () => undefined,
  });
  const transport: Transport = {
    connect: async () => {
      counts.connects++;
      if (counts.connects > (options.connections ?? Number.POSITIVE_INFINITY))
        throw new Error('Connection refused: one connection per user');
      return connection();
    },
    agentKeys: async () => [],
    parseKey: (_data, _passphrase, source) => ({ source, key: {} }),
  };
  return { transport, sessions, counts };
}

const KEY = { source: 'a loaded key', key: {} };
const SILENT = { line: () => undefined, event: () => undefined };

function node(transport: Transport, extra: Partial<SshNodeOptions> = {}): SshNode {
  return new SshNode({
    hostname: 'h',
    keys: [KEY],
    agent: false,
    transport,
    maxSessions: 1,
    maxConnections: 1,
    formatter: SILENT,
    ...extra,
  });
}

/** The outcome of a promise within a bound: its value, its error's message, or 'still waiting'. */
async function within(promise: Promise<unknown>, ms = 2_000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => value,
        (error: unknown) => (error as Error).message,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const ran = { exitCode: 0, signal: null };

describe('commands beside SFTP sessions', () => {
  it('an SFTP session that ended by itself, or failed to open, holds no channel: the command runs', async () => {
    const ended = fakeTransport();
    // maxConnections 2: a session counted still would send the command to a second connection
    const a = node(ended.transport, { maxConnections: 2 });
    await a.sftp();
    ended.sessions[0]?.end();
    expect(a.sessionsInUse).toBe(0);
    expect(await within(a.run('true'))).toMatchObject(ran);
    expect(a.connectionCount).toBe(1);
    await a.close();

    const failing = fakeTransport({ sftp: 'fail' });
    const b = node(failing.transport, { maxConnections: 2 });
    await expect(b.sftp()).rejects.toThrow(/subsystem request failed/);
    expect(await within(b.run('true'))).toMatchObject(ran);
    expect(b.connectionCount).toBe(1);
    await b.close();
  });

  it('maxSessions 1, maxConnections 2: a command asked for with a file command in the same turn goes to the second connection', async () => {
    for (const order of ['sftp first', 'command first']) {
      const fake = fakeTransport();
      const target = node(fake.transport, { maxConnections: 2 });
      await target.connect();
      let command: Promise<unknown>;
      if (order === 'sftp first') {
        void target.sftp();
        command = target.run('true');
      } else {
        command = target.run('true');
        void target.sftp();
      }
      // the command chose the first connection before the SFTP session took its only channel
      expect(await within(command), order).toMatchObject(ran);
      expect(target.connectionCount, order).toBe(2);
      await target.close();
    }
  });

  it('no other connection allowed: the command fails at once, saying what to change; after resetSftp() it runs', async () => {
    const fake = fakeTransport();
    const target = node(fake.transport);
    await target.sftp();
    const error = (await target.run('true').catch((caught: unknown) => caught)) as SshError;
    expect(error.code).toBe('ERR_SSH_CHANNEL');
    expect(error.message).toBe(
      'Cannot run a command on root@h: SFTP sessions hold every channel of its connection (maxSessions 1), and maxConnections is 1; raise maxSessions or maxConnections, or call resetSftp() on the node whose file commands are done',
    );
    target.resetSftp();
    expect(await within(target.run('true'))).toMatchObject(ran);
    expect(fake.counts.commands).toBe(1);
    await target.close();
  });

  it('the SFTP session of another node object sharing the connection: the message says whose', async () => {
    const fake = fakeTransport();
    const a = node(fake.transport);
    const b = node(fake.transport);
    await a.sftp();
    await expect(b.run('true')).rejects.toThrow(
      /^Cannot run a command on root@h: the SFTP sessions of other node objects sharing its connection hold all its channels \(maxSessions 1\)/,
    );
    a.resetSftp();
    expect(await within(b.run('true'))).toMatchObject(ran);
    await a.close();
    await b.close();
  });

  it('a server that refuses the overflow connection: one try, then the command fails with the refusal as its cause; no dial within the pause', async () => {
    const fake = fakeTransport({ connections: 1 });
    const target = node(fake.transport, { maxConnections: 2 });
    await target.sftp();
    const error = (await target.run('true').catch((caught: unknown) => caught)) as SshError;
    expect(error.message).toMatch(
      /SFTP sessions hold every channel of its connection \(maxSessions 1\), and the server refused another connection \(none is tried for a minute\); raise maxSessions, or call resetSftp\(\)/,
    );
    expect((error.cause as Error).message).toMatch(/one connection per user/);
    expect(fake.counts.connects).toBe(2);
    await expect(target.run('true')).rejects.toThrow(/refused another connection/);
    expect(fake.counts.connects).toBe(2);
    await target.close();
  });
});
