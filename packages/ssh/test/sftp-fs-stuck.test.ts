/**
 * node.fs over a session whose server does not answer a request (SftpFsBackend, with a fake
 * session on fake timers): a silent server's session is dropped; a busy one's (it answers other
 * requests meanwhile: a large Push's writes) is kept, so that the transfers sharing it go on.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SftpFsBackend } from '../src/fs/sftp-fs.js';
import type { SftpSession } from '../src/transport/transport.js';

/** A session whose `open` never answers; `lastAnswer` as the test sets it. */
function stuckSession(): SftpSession & { lastAnswer: number } {
  return {
    lastAnswer: Date.now(),
    open: () => new Promise(() => undefined),
    realpath: () => new Promise(() => undefined),
  } as unknown as SftpSession & { lastAnswer: number };
}

describe('SftpFsBackend: a request the server does not answer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function backend(session: SftpSession) {
    const dropped: SftpSession[] = [];
    const fs = new SftpFsBackend({
      name: 'root@h',
      timeout: 1_000,
      session: async () => session,
      drop: (which) => dropped.push(which),
      using: (work) => work(),
    });
    return { fs, dropped };
  }

  it('a session silent for the whole wait is dropped', async () => {
    const session = stuckSession();
    const { fs, dropped } = backend(session);
    const read = fs
      .readFile({ call: 'readFile', signal: undefined }, '/fifo', 1024)
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await read).toMatchObject({
      message: expect.stringMatching(/no answer from the SFTP server within 1000 ms$/),
    });
    expect(dropped).toEqual([session]);
  });

  it('a session that answered other requests meanwhile is kept (busy, not stuck)', async () => {
    const session = stuckSession();
    const { fs, dropped } = backend(session);
    const read = fs
      .readFile({ call: 'readFile', signal: undefined }, '/big', 1024)
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(600);
    session.lastAnswer = Date.now(); // a write of a Push answered
    await vi.advanceTimersByTimeAsync(400);
    expect(await read).toMatchObject({ message: expect.stringMatching(/no answer from the SFTP server/) });
    expect(dropped).toEqual([]);
  });

  it('given up on by its signal: dropped once a check goes unanswered by a silent server, kept if the server answers others', async () => {
    for (const busy of [false, true]) {
      const session = stuckSession();
      const { fs, dropped } = backend(session);
      const controller = new AbortController();
      const read = fs
        .readFile({ call: 'readFile', signal: controller.signal }, '/fifo', 1024)
        .catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(100);
      controller.abort(new Error('given up'));
      expect(await read).toMatchObject({ message: 'given up' });
      await vi.advanceTimersByTimeAsync(500);
      if (busy) session.lastAnswer = Date.now();
      await vi.advanceTimersByTimeAsync(600);
      expect(dropped, `busy: ${busy}`).toEqual(busy ? [] : [session]);
    }
  });
});
