/**
 * SFTP on a shared connection, against the real test bed: each node object using the connection
 * has its own SFTP session, so one node's cancelled transfer (which closes its session: ssh2
 * cannot abort a copy) leaves the other node's file calls alone; and a caller whose signal aborts
 * while the session opens only stops waiting: the opening goes on for the others.
 *
 * The loopback sshd serves this machine's disk: the remote copy's progress is read locally.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../src/index.js';
import { bed, closeAfterEach, loopbackNode, recorder } from './bed.js';
import { loopbackConnections, until } from './probes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(bed.workDir, 'shared-sftp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const track = closeAfterEach();

/** A local file of `mib` MiB. */
async function bigFile(path: string, mib: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('error', reject);
    out.on('finish', resolve);
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < mib; i++) out.write(chunk);
    out.end();
  });
}

/** The size of a file, 0 when missing. */
async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

describe('SFTP sessions on a shared connection: one per node object', () => {
  it("a's cancelled transfer leaves b's file calls alone; a's next transfer works; one connection all along", async () => {
    const big = join(dir, 'big');
    await bigFile(big, 300);
    const small = join(dir, 'small');
    const text = 'read by b, again and again\n'.repeat(2_000);
    await writeFile(small, text);
    const baseline = await loopbackConnections();
    const [a, b] = [
      track(loopbackNode({ keepaliveInterval: 0 })),
      track(loopbackNode({ keepaliveInterval: 0 })),
    ];
    // b opens its session first: a's reset must not close it under b
    expect(await b.fs.readText(small)).toBe(text);

    let copying = true;
    const reads: Array<string | Error> = [];
    const reading = (async () => {
      // b reads all along a's copy, and a few times after it stopped
      for (let after = 0; copying || after < 5; after += copying ? 0 : 1) {
        reads.push(await b.fs.readText(small).catch((error: unknown) => error as Error));
      }
    })();

    const controller = new AbortController();
    const target = join(dir, 'copied-big');
    const copy = new Fleet([a]).copyTo(big, target, { signal: controller.signal });
    // the transfer has started: its temporary (renamed over the target only when complete) grows
    const temporary = async () =>
      (await readdir(dir)).find((name) => name.startsWith('.copied-big.jobgraph-'));
    await until(
      async () => {
        const name = await temporary();
        return name !== undefined && (await sizeOf(join(dir, name))) > 0;
      },
      20_000,
      5,
    );
    controller.abort(new Error('stopped by the test'));
    const [result] = await copy;
    copying = false;
    await reading;

    expect(result?.error?.message).toBe('stopped by the test');
    // the copy stopped before its end: nothing under the final name, no temporary left
    expect(await sizeOf(target)).toBe(0);
    await until(async () => (await temporary()) === undefined);
    expect(reads.length).toBeGreaterThan(5);
    expect(reads.filter((read) => read !== text)).toEqual([]);
    // a's next transfer works, on a session of its own again
    const next = join(dir, 'copied-small');
    const [again] = await new Fleet([a]).copyTo(small, next);
    expect(again?.error).toBeUndefined();
    expect(await readFile(next, 'utf8')).toBe(text);
    expect(await b.fs.readText(small)).toBe(text);
    // one connection all along: both sessions on it, no reconnection
    expect(await loopbackConnections()).toBe(baseline + 1);
    expect([a.connectionCount, b.connectionCount]).toEqual([1, 1]);
    expect(a.sessionsInUse).toBe(2);
    // a's session closes with a's use of the connection: b's stays, with its slot only
    await a.close();
    expect(b.sessionsInUse).toBe(1);
    expect(await b.fs.readText(small)).toBe(text);
    // each node heard of its own session only
    const sftpEvents = (node: typeof a) =>
      recorder(node)
        .events.map((event) => event.kind)
        .filter((kind) => kind.startsWith('sftp-'));
    expect(sftpEvents(b)).toEqual(['sftp-start']);
    expect(sftpEvents(a)).toEqual(['sftp-start', 'sftp-stop', 'sftp-start', 'sftp-stop']);
  });

  it("b's SFTP open, waiting for a channel slot, survives a's signal (and b's own other caller's) aborting", async () => {
    const flag = join(dir, 'flag');
    // one channel per connection: the command holds it, the SFTP opens wait for it
    const [a, b] = [track(loopbackNode({ maxSessions: 1 })), track(loopbackNode({ maxSessions: 1 }))];
    const running = a.run(
      `echo holding; i=0; while [ ! -e ${flag} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`,
    );
    await until(() => recorder(a).stdout() === 'holding\n');
    const [aGives, bGives] = [new AbortController(), new AbortController()];
    const aWait = a.sftp(aGives.signal).catch((error: unknown) => error);
    const bImpatient = b.sftp(bGives.signal).catch((error: unknown) => error);
    const bPatient = b.sftp(AbortSignal.timeout(20_000));
    // the opens reach the channel budget and wait there (the one slot is taken)
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.sessionsInUse).toBe(1);
    aGives.abort(new Error('a gave up'));
    bGives.abort(new Error('b gave up'));
    expect(await aWait).toMatchObject({ message: 'a gave up' });
    expect(await bImpatient).toMatchObject({ message: 'b gave up' });
    await writeFile(flag, '');
    expect(await running).toEqual({ exitCode: 0, signal: null });
    // b's open got the slot the command gave back
    await bPatient;
    expect(b.sessionsInUse).toBe(1);
    expect(await b.fs.exists(flag)).toBe(true);
    // a's abandoned open kept no slot: once b has closed its session, a opens one in the only slot
    await b.close();
    expect(a.sessionsInUse).toBe(0);
    expect(await a.fs.exists(flag)).toBe(true);
    expect(a.sessionsInUse).toBe(1);
    expect(a.connectionCount).toBe(1);
  });
});
