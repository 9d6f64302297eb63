/**
 * The shared SFTP session of a node against a fake transport whose SFTP channels open when
 * the test says so: a session reset (or the node closed) while it is opening gives its slot of
 * the channel budget back and is closed once it opens, so later commands are not left waiting.
 */
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SshErrorCode } from '../src/errors.js';
import { SshNode } from '../src/ssh-node.js';
import type { Connection, SftpSession, Transport } from '../src/transport/transport.js';

/** A promise with its resolve function. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A fake SFTP session: only close and onClose matter here. */
interface FakeSession extends SftpSession {
  readonly closed: boolean;
}

function fakeSession(): FakeSession {
  const listeners: Array<() => void> = [];
  let closed = false;
  const session = {
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const listener of listeners) listener();
    },
    onClose(listener: () => void) {
      listeners.push(listener);
    },
  };
  return session as unknown as FakeSession;
}

/** A transport whose connections open SFTP channels one by one, when `open()` is called. */
function fakeTransport() {
  const requests: Array<{ resolve: (session: SftpSession) => void }> = [];
  let notify: (() => void) | undefined;
  const connection: Connection = {
    closed: false,
    exec: () => Promise.reject(new Error('no exec here')),
    sftp: () => {
      const request = deferred<SftpSession>();
      requests.push(request);
      notify?.();
      return request.promise;
    },
    forwardOut: () => Promise.reject(new Error('no tunnel here')) as Promise<Duplex>,
    close: async () => undefined,
    onClose: () => undefined,
    onX11: () => undefined,
  };
  const transport: Transport = {
    connect: async () => connection,
    agentKeys: async () => [],
    parseKey: (_data, _passphrase, source) => ({ source, key: {} }),
  };
  /** Resolves once the node has asked for `count` SFTP channels in all. */
  const asked = (count: number) =>
    new Promise<void>((resolve) => {
      notify = () => {
        if (requests.length >= count) resolve();
      };
      notify();
    });
  /** Opens the `index`th channel asked for, with a new session. */
  const open = (index: number): FakeSession => {
    const session = fakeSession();
    requests[index]?.resolve(session);
    return session;
  };
  return { transport, asked, open };
}

function node(transport: Transport): SshNode {
  return new SshNode({
    hostname: 'h',
    keys: [{ source: 'a loaded key', key: {} }],
    agent: false,
    transport,
    maxSessions: 1,
    formatter: { line: () => undefined, event: () => undefined },
  });
}

describe('the shared SFTP session, reset while it is opening', () => {
  it('gives its slot back and closes it once open; the next file command gets a session', async () => {
    const fake = fakeTransport();
    const target = node(fake.transport);
    await target.connect();
    const first = target.sftp().then(
      () => 'opened',
      (error: unknown) => error,
    );
    await fake.asked(1);
    target.resetSftp();
    const superseded = fake.open(0);
    const outcome = await first;
    expect(target.sessionsInUse).toBe(0);
    expect(superseded.closed).toBe(true);
    // whoever waited for it is told, rather than handed a session being closed
    expect(outcome).toMatchObject({
      code: SshErrorCode.SFTP,
      message: expect.stringMatching(
        /^Cannot start SFTP on root@h: the session was closed while it was opening/,
      ),
    });
    // with maxSessions 1, a leaked slot would leave this one waiting (until the signal aborts)
    const second = target.sftp(AbortSignal.timeout(5_000));
    await fake.asked(2);
    const current = fake.open(1);
    expect(await second).toBe(current);
    expect(target.sessionsInUse).toBe(1);
    target.resetSftp();
    expect(target.sessionsInUse).toBe(0);
    await new Promise((resolve) => setImmediate(resolve)); // reset closes an open session at the next turn
    expect(current.closed).toBe(true);
    await target.close();
  });

  it('gives its slot back when a new session was asked for after the reset, before the old one opened', async () => {
    const fake = fakeTransport();
    const target = new SshNode({
      hostname: 'h',
      keys: [{ source: 'a loaded key', key: {} }],
      agent: false,
      transport: fake.transport,
      maxSessions: 2,
      formatter: { line: () => undefined, event: () => undefined },
    });
    await target.connect();
    const first = target.sftp().then(
      () => 'opened',
      (error: unknown) => error,
    );
    await fake.asked(1);
    target.resetSftp();
    const second = target.sftp();
    await fake.asked(2);
    const current = fake.open(1);
    expect(await second).toBe(current);
    const superseded = fake.open(0);
    const outcome = await first;
    expect(target.sessionsInUse).toBe(1);
    expect(superseded.closed).toBe(true);
    expect(current.closed).toBe(false);
    expect(outcome).toMatchObject({ code: SshErrorCode.SFTP });
    await target.close();
    expect(current.closed).toBe(true);
  });
});
