/**
 * A Push or a Pull the SFTP server never answers (its sftp-server stuck in an open() of a fifo, as
 * it would be in a hung file system): given up after the node's connectTimeout of silence, the
 * session dropped, and the node's next transfer works. It waited for good before (until a job's or
 * the scheduler's timeout, if there was one).
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from '@jobgraph/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Pull, Push, SshJob, type SshNode } from '../src/index.js';
import { Ssh2Sftp } from '../src/transport/ssh2-sftp.js';
import { loopbackNode } from './bed.js';

let dir: string;
let node: SshNode;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-transfer-stall-'));
  node = loopbackNode({ connectTimeout: 1_500 });
  // the loopback host shares this file system: the fifos are made here, read over SFTP there
  await node.run(`mkfifo ${dir}/pull-fifo ${dir}/push-fifo && echo regular > ${dir}/regular`);
});
afterAll(async () => {
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs one job of `command` (a scheduler timeout far above the bound: a hang fails the test). */
async function attempt(command: Pull | Push): Promise<{ job: SshJob; ms: number; why: string }> {
  const job = new SshJob({ node, commands: [command], critical: false });
  const scheduler = new Scheduler({ critical: false, jobs: [job], timeout: 30_000 });
  const start = Date.now();
  await scheduler.run();
  return { job, ms: Date.now() - start, why: scheduler.why() };
}

describe('a transfer the SFTP server never answers', () => {
  it.each([
    ['Pull from a fifo', () => new Pull(`${dir}/pull-fifo`, join(dir, 'pulled'))],
    ['Push into a fifo', () => new Push(join(dir, 'regular'), `${dir}/push-fifo`)],
  ])(
    '%s: fails with ERR_SFTP after the bound of silence, and the next transfer works',
    async (_name, make) => {
      const { job, ms, why } = await attempt(make());
      // the job failed, not the scheduler's timeout
      expect(why).toBe('FINE');
      expect(job.raisedException()).toMatchObject({
        code: 'ERR_SFTP',
        message: expect.stringContaining('the SFTP server answered nothing for 1500 ms'),
      });
      expect(ms).toBeLessThan(20_000);
      // the stuck session was dropped: the node's file access goes on
      const again = await attempt(new Pull(join(dir, 'regular'), join(dir, `again-${_name.length}`)));
      expect(again.job.raisedException()).toBeUndefined();
      expect(await readFile(join(dir, `again-${_name.length}`), 'utf8')).toBe('regular\n');
    },
  );
});

describe('the stall watch (fake time, a fake ssh2 session)', () => {
  /** What Ssh2Sftp needs of ssh2's session: its packets (push), its table of requests, a realpath. */
  function fakeSession() {
    const requests: Record<string, (error: Error | null, path?: string) => void> = {};
    const fake = Object.assign(new EventEmitter(), {
      _requests: requests,
      push: (_data: Buffer | null) => true,
      realpath: (path: string, callback: (error: Error | null, path?: string) => void) => {
        requests[path] = callback;
      },
      end: () => undefined,
    });
    return { fake, requests };
  }

  it('a server that answers now and then is never given up; one silent for the bound is, its requests failed', async () => {
    vi.useFakeTimers();
    try {
      const { fake, requests } = fakeSession();
      const sftp = new Ssh2Sftp(fake as never);
      let stalled: Error | undefined;
      sftp.watchStalls(1_000, (error) => {
        stalled = error;
      });
      const waiting = sftp.realpath('slow').catch((error: Error) => error);
      // 10 s of a slow server: a packet every 800 ms (of another request, say)
      for (let i = 0; i < 12; i++) {
        vi.advanceTimersByTime(800);
        fake.push(Buffer.alloc(1));
      }
      expect(stalled).toBeUndefined();
      // then nothing: given up within the bound and a quarter
      vi.advanceTimersByTime(1_250);
      expect(stalled?.message).toBe('the SFTP server answered nothing for 1000 ms');
      expect(await waiting).toMatchObject({ status: 'no-answer' });
      expect(Object.keys(requests)).toEqual(['slow']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an idle session (no request waiting) is never given up', () => {
    vi.useFakeTimers();
    try {
      const { fake } = fakeSession();
      const sftp = new Ssh2Sftp(fake as never);
      let stalled = false;
      sftp.watchStalls(1_000, () => {
        stalled = true;
      });
      vi.advanceTimersByTime(60_000);
      expect(stalled).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
