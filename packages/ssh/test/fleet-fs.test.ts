/**
 * fleet.fs and fleet.each against the real test bed: the loopback sshd, the two targets behind
 * the gateway and the LocalNode. The bed's hosts share this machine's disk: calls that write
 * go to one directory per host (through `each`), or write the same thing on every host
 * (writeFile is atomic, mkdir recursive accepts a directory made meanwhile).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  Fleet,
  FleetError,
  type FleetValue,
  type FsDirEntry,
  type HostSettings,
  LocalNode,
  SshError,
  safeHostName,
} from '../src/index.js';
import { bed, fleetSettings, loopbackSpec, RecordingFormatter } from './bed.js';

const [t1, t2] = bed.targets;
const loopback = loopbackSpec;
const defaults: HostSettings = fleetSettings({ gateway: `root@${bed.gateway.hostname}:${bed.gateway.port}` });

let fleet: Fleet;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jg-fleet-fs-'));
  fleet = new Fleet(
    [new LocalNode({ formatter: new RecordingFormatter() }), loopback, t1.hostname, t2.hostname],
    {
      defaults,
      hosts: { [loopback]: { gateway: null } },
    },
  );
});
afterAll(async () => {
  await fleet?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fleet.fs', () => {
  it('mkdir, writeFile, readText, exists, stat, glob, readdir: one result per host, in host order', async () => {
    const base = `${dir}/shared/a/b`;
    const made = await fleet.fs.mkdir(base, { recursive: true });
    expect(made.map((r) => [r.host, r.ok, r.error])).toEqual(
      fleet.names.map((name) => [name, true, undefined]),
    );
    expect((await fleet.fs.writeFile(`${base}/app.log`, 'hello\n')).every((r) => r.ok)).toBe(true);

    const texts = await fleet.fs.readText(`${base}/app.log`);
    expect(texts.map((r) => r.value)).toEqual(['hello\n', 'hello\n', 'hello\n', 'hello\n']);
    expect(texts.map((r) => r.node)).toEqual([...fleet].map((host) => host.node));
    expect(texts.every((r) => r.durationMs >= 0)).toBe(true);
    expect((await fleet.fs.exists(`${base}/app.log`)).map((r) => r.value)).toEqual([true, true, true, true]);
    expect((await fleet.fs.isDirectory(base)).map((r) => r.value)).toEqual([true, true, true, true]);
    const stats = await fleet.fs.stat(`${base}/app.log`);
    expect(stats.map((r) => [r.value?.type, r.value?.size])).toEqual(Array(4).fill(['file', 6]));
    const globbed = await fleet.fs.glob('**/*.log', { cwd: `${dir}/shared` });
    expect(globbed.map((r) => r.value)).toEqual(Array(4).fill(['a/b/app.log']));
    const entries = await fleet.fs.readdir(base, { withTypes: true });
    expect(entries.map((r) => r.value)).toEqual(Array(4).fill([{ name: 'app.log', type: 'file' }]));
    expectTypeOf(entries).toEqualTypeOf<FleetValue<FsDirEntry[]>[]>();
    expectTypeOf(await fleet.fs.readdir(base)).toEqualTypeOf<FleetValue<string[]>[]>();
    expectTypeOf(fleet.fs.readFile).returns.resolves.toEqualTypeOf<FleetValue<Buffer>[]>();
  });

  it('a missing file: each host’s error, naming the host and the path; the call does not reject', async () => {
    const path = `${dir}/no-such-file`;
    const results = await fleet.fs.readText(path);
    expect(results.map((r) => r.ok)).toEqual([false, false, false, false]);
    for (const [index, host] of [...fleet].entries()) {
      const error = results[index]?.error as SshError;
      expect(error).toBeInstanceOf(SshError);
      expect(error.code).toBe('ERR_REMOTE_NOT_FOUND');
      expect(error.message).toBe(
        `fs.readText on ${host.node.toString()}: ${path}: no such file or directory`,
      );
    }
    expect((await fleet.fs.rm(path, { force: true })).map((r) => r.ok)).toEqual([true, true, true, true]);
  });

  it('a host down: its error names it, the others answer', async () => {
    const withDown = new Fleet([t1.hostname, `${t2.hostname}:1`], { defaults });
    try {
      const results = await withDown.fs.exists('/etc/hostname');
      expect(results[0]).toMatchObject({ host: t1.hostname, ok: true, value: true });
      expect(results[1]).toMatchObject({ host: `${t2.hostname}:1`, ok: false });
      expect(results[1]?.error?.message).toContain(`${t2.hostname}:1`);
    } finally {
      await withDown.close();
    }
  });

  it('bad arguments, refused alike on every host before anything is done, reject the call once', async () => {
    await expect(fleet.fs.rm('/')).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message:
        "fs.rm: path: expected a path other than /, . or .. (it would remove a root or a parent), got '/'",
    });
    await expect(fleet.fs.readText('')).rejects.toThrow(
      "fs.readText: path: expected a non-empty path without NUL, got ''",
    );
    await expect(fleet.fs.chmod(`${dir}/x`, 0o10000)).rejects.toThrow(
      'fs.chmod: mode: expected permission bits',
    );
    await expect(fleet.fs.glob('../*', { cwd: dir })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('follows membership: a host added after the first call is in the next', async () => {
    const small = new Fleet([t1.hostname], { defaults });
    try {
      expect((await small.fs.exists('/')).map((r) => r.host)).toEqual([t1.hostname]);
      small.add(t2.hostname);
      expect((await small.fs.exists('/')).map((r) => r.host)).toEqual([t1.hostname, t2.hostname]);
    } finally {
      await small.close();
    }
  });
});

describe('fleet.each', () => {
  it('per-host arguments through host.node.fs; each host reads back its own file', async () => {
    const own = (name: string) => `${dir}/each/${safeHostName(name)}.txt`;
    await fleet.fs.mkdir(`${dir}/each`, { recursive: true });
    const written = await fleet.each((host, index) =>
      host.node.fs.writeFile(own(host.name), `${index} ${host.name}`),
    );
    expect(written.map((r) => r.ok)).toEqual([true, true, true, true]);
    const read = await fleet.each((host) => host.node.fs.readText(own(host.name)));
    expect(read.map((r) => r.value)).toEqual(fleet.names.map((name, index) => `${index} ${name}`));
  });

  it('a throw (synchronous too) is that host’s error; throwOnError gives a FleetError naming it', async () => {
    const work = (host: { name: string }) => {
      if (host.name === t1.hostname) throw new Error('not this one');
      return Promise.resolve(host.name.length);
    };
    const results = await fleet.each(work);
    expect(results.map((r) => r.error?.message ?? r.value)).toEqual([
      'LOCALNODE'.length,
      loopback.length,
      'not this one',
      t2.hostname.length,
    ]);
    const error = await fleet.each(work, { throwOnError: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).message).toBe(
      `Fleet call failed on 1 of 4 hosts: ${t1.hostname} (not this one)`,
    );
  });
});
