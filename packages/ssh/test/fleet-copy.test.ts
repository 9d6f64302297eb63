/**
 * fleet.copyTo / fleet.copyFrom against the real test bed: the loopback sshd and the two targets
 * behind the gateway (and the LocalNode). The bed's hosts share this machine's disk, so each
 * test gives every host a directory of its own (`<dir>/<host>/`): with separate disks the
 * same paths would work alike.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Fleet,
  FleetError,
  type FleetHost,
  type HostSettings,
  LocalNode,
  SshError,
  SshNode,
  safeHostName,
} from '../src/index.js';
import { bed, fleetSettings, gatewaySpec, loopbackSpec, RecordingFormatter } from './bed.js';

const [t1, t2] = bed.targets;
const loopback = loopbackSpec;
const defaults: HostSettings = fleetSettings({ gateway: gatewaySpec });

let fleet: Fleet;
/** Local scratch directory: sources for copyTo, destinations of copyFrom, and the hosts' own directories. */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'jg-fleet-copy-'));
  fleet = new Fleet([loopback, t1.hostname, t2.hostname], {
    defaults,
    hosts: { [loopback]: { gateway: null } },
  });
});
afterAll(async () => {
  await fleet?.close();
  await rm(work, { recursive: true, force: true });
});

/** The nodename `hostname` prints on each member, in fleet order. */
const nodenames = [bed.loopback.nodename, t1.nodename, t2.nodename];
/** A remote directory of the host's own, under `base`. */
const own = (base: string) => (host: FleetHost) => `${base}/${safeHostName(host.name)}`;

describe('fleet.copyTo', () => {
  it('a file to three hosts, remote parents made; a directory recursively into a path ending with /', async () => {
    const base = join(work, 'to');
    const source = join(work, 'app.conf');
    await writeFile(source, 'port = 8080\n');
    const results = await fleet.copyTo(source, (host) => `${own(base)(host)}/etc/app/app.conf`);
    expect(results.map((r) => [r.host, r.ok, r.error])).toEqual(fleet.names.map((n) => [n, true, undefined]));
    expect(results.map((r) => r.source)).toEqual([source, source, source]);
    for (const [index, host] of [...fleet].entries()) {
      expect(results[index]?.destination).toBe(`${own(base)(host)}/etc/app/app.conf`);
      // read back through the host itself
      expect(await host.node.fs.readText(`${own(base)(host)}/etc/app/app.conf`)).toBe('port = 8080\n');
    }

    const tree = join(work, 'tree');
    await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(tree, 'top.txt'), 'top');
    await writeFile(join(tree, 'sub', 'deeper', 'leaf.txt'), 'leaf');
    const copied = await fleet.copyTo(`${tree}/`, (host) => `${own(base)(host)}/deploy/`, {
      throwOnError: true,
    });
    expect(copied.map((r) => r.ok)).toEqual([true, true, true]);
    for (const host of fleet) {
      const globbed = await host.node.fs.glob('**', { cwd: `${own(base)(host)}/deploy` });
      expect(globbed).toEqual([
        'tree',
        'tree/sub',
        'tree/sub/deeper',
        'tree/sub/deeper/leaf.txt',
        'tree/top.txt',
      ]);
    }
    // again: merged into the directory copied before, not nested inside it
    await fleet.copyTo(tree, (host) => `${own(base)(host)}/deploy/tree`, { throwOnError: true });
    const [first] = fleet;
    expect(await first?.node.fs.readdir(`${own(base)(first as FleetHost)}/deploy/tree`)).toEqual([
      'sub',
      'top.txt',
    ]);
  });

  it('a per-host local file; a LocalNode member copies on the local disk', async () => {
    const base = join(work, 'per-host');
    const local = new LocalNode({ formatter: new RecordingFormatter() });
    const mixed = new Fleet([local, loopback], { defaults, hosts: { [loopback]: { gateway: null } } });
    try {
      for (const host of mixed)
        await writeFile(join(work, `${safeHostName(host.name)}.conf`), `for ${host.name}`);
      const results = await mixed.copyTo(
        (host) => join(work, `${safeHostName(host.name)}.conf`),
        (host) => `${own(base)(host)}/app.conf`,
      );
      expect(results.map((r) => r.error?.message)).toEqual([undefined, undefined]);
      expect(await readFile(join(base, 'LOCALNODE', 'app.conf'), 'utf8')).toBe('for LOCALNODE');
      expect(await readFile(join(base, safeHostName(loopback), 'app.conf'), 'utf8')).toBe(`for ${loopback}`);
    } finally {
      await mixed.close();
    }
  });

  it('one host down: the others are copied, its error names it; throwOnError gives a FleetError', async () => {
    const base = join(work, 'down');
    const source = join(work, 'small.txt');
    await writeFile(source, 'x');
    const withDown = new Fleet([t1.hostname, `${t2.hostname}:1`], { defaults });
    try {
      const results = await withDown.copyTo(source, (host) => `${own(base)(host)}/small.txt`);
      expect(results[0]).toMatchObject({ host: t1.hostname, ok: true });
      expect(results[1]).toMatchObject({ host: `${t2.hostname}:1`, ok: false });
      expect(results[1]?.error).toBeInstanceOf(SshError);
      expect(results[1]?.error?.message).toContain(`${t2.hostname}:1`);
      const error = await withDown
        .copyTo(source, (host) => `${own(base)(host)}/small.txt`, { throwOnError: true })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FleetError);
      expect((error as FleetError).message).toMatch(
        new RegExp(`^Fleet copyTo failed on 1 of 2 hosts: ${t2.hostname}:1 \\(`),
      );
      expect((error as FleetError).results).toHaveLength(2);
    } finally {
      await withDown.close();
    }
  });

  it('bad input: a missing local file, an unknown option, an empty path — refused before anything is copied', async () => {
    const missing = join(work, 'no-such-file');
    await expect(fleet.copyTo(missing, '/tmp/x')).rejects.toMatchObject({
      code: 'ERR_LOCAL_FILE',
      message: `Fleet copyTo: no local file or directory ${missing}`,
    });
    await expect(fleet.copyTo(join(work, 'app.conf'), '/tmp/x', { recurse: true } as never)).rejects.toThrow(
      'Invalid Fleet copyTo option "recurse": expected one of preserve, signal, throwOnError',
    );
    await expect(
      fleet.copyTo(join(work, 'app.conf'), (host) => (host.name === t1.hostname ? '' : '/tmp/x')),
    ).rejects.toThrow(
      `Invalid Fleet copyTo remote path for host "${t1.hostname}": expected a non-empty path, got ''`,
    );
  });

  it('an aborted signal: every host fails with its reason, nothing hangs', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    const results = await fleet.copyTo(join(work, 'app.conf'), '/tmp/never', { signal: controller.signal });
    expect(results.map((r) => r.error?.message)).toEqual(['stop now', 'stop now', 'stop now']);
  });
});

describe('fleet.copyFrom', () => {
  /** Each host writes, itself, `<dir>/<host>/report.txt` (its nodename) and a tree `<dir>/<host>/logs/`. */
  async function seed(dir: string): Promise<void> {
    const made = await fleet.run(
      (host) =>
        `d=${dir}/${safeHostName(host.name)} && mkdir -p $d/logs/old && hostname > $d/report.txt && ` +
        `echo new > $d/logs/app.log && echo old > $d/logs/old/app.log.1`,
      { throwOnError: true },
    );
    expect(made).toHaveLength(3);
  }

  it('from three hosts into one directory: <name>_<host>, no clash, each host its own content', async () => {
    const dir = join(work, 'from-remote');
    await seed(dir);
    const out = join(work, 'out');
    const results = await fleet.copyFrom((host) => `${own(dir)(host)}/report.txt`, out);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    const names = fleet.names.map((name) => `report.txt_${safeHostName(name)}`);
    expect(results.map((r) => r.destination)).toEqual(names.map((name) => join(out, name)));
    expect((await readdir(out)).sort()).toEqual([...names].sort());
    for (const [index, name] of names.entries()) {
      expect(await readFile(join(out, name), 'utf8')).toBe(`${nodenames[index]}\n`);
    }
    expect(safeHostName(loopback)).toBe(`${bed.loopback.hostname}_${bed.loopback.port}`);
    expect(safeHostName('[fe80::1%eth0]:2222')).toBe('fe80__1_eth0_2222');
  });

  it('a directory recursively; a name function; a missing remote file is that host’s error naming host and path', async () => {
    const dir = join(work, 'from-tree');
    await seed(dir);
    const out = join(work, 'trees');
    const results = await fleet.copyFrom((host) => `${own(dir)(host)}/logs`, out, {
      name: (host, remotePath) => `${safeHostName(host.name)}/${remotePath.split('/').pop()}`,
      throwOnError: true,
    });
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    for (const name of fleet.names) {
      const root = join(out, safeHostName(name), 'logs');
      expect(await readFile(join(root, 'app.log'), 'utf8')).toBe('new\n');
      expect(await readFile(join(root, 'old', 'app.log.1'), 'utf8')).toBe('old\n');
    }

    const missing = await fleet.copyFrom(
      (host) => (host.name === t2.hostname ? `${dir}/nowhere/report.txt` : `${own(dir)(host)}/report.txt`),
      join(work, 'partial'),
    );
    expect(missing.map((r) => r.ok)).toEqual([true, true, false]);
    const error = missing[2]?.error as SshError;
    expect(error.code).toBe('ERR_REMOTE_NOT_FOUND');
    expect(error.message).toContain(t2.hostname);
    expect(error.message).toContain(`${dir}/nowhere/report.txt`);
    expect(missing[2]?.host).toBe(t2.hostname);
    await expect(stat(missing[2]?.destination as string)).rejects.toThrow('ENOENT');
  });

  it('a LocalNode member copies from the local disk; two hosts into one path are refused before anything is copied', async () => {
    const mixed = new Fleet([new LocalNode({ formatter: new RecordingFormatter() }), t1.hostname], {
      defaults,
    });
    try {
      const source = join(work, 'local-source.txt');
      await writeFile(source, 'local');
      const out = join(work, 'from-local');
      const results = await mixed.copyFrom(
        (host) => (host.name === 'LOCALNODE' ? source : '/etc/hostname'),
        out,
      );
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(await readFile(join(out, 'local-source.txt_LOCALNODE'), 'utf8')).toBe('local');
      expect((await readFile(join(out, `hostname_${t1.hostname}`), 'utf8')).length).toBeGreaterThan(0);
      await expect(mixed.copyFrom('/etc/hostname', out, { name: () => 'same' })).rejects.toThrow(
        `Invalid Fleet copyFrom: hosts "LOCALNODE" and "${t1.hostname}" would both copy into ${join(out, 'same')}`,
      );
      await expect(mixed.copyFrom('/etc/hostname', out, { name: 'x' } as never)).rejects.toThrow(
        'Invalid Fleet copyFrom option name: expected a function (host, remotePath) => localPath',
      );
    } finally {
      await mixed.close();
    }
  });
});

describe('fleet.copyFrom: every host in a path of its own, under localDir', () => {
  const quiet = () => new LocalNode({ formatter: new RecordingFormatter() });

  it('a host name cannot steer the copy outside localDir; safeHostName turns / and \\ to _', async () => {
    expect(() => new Fleet([{ node: quiet(), name: 'a/../../../../tmp/evil' }])).toThrow(
      /^Invalid Fleet host .*: option name: expected a non-empty name without spaces, slashes, backslashes or control characters, other than \. and \.\. \(it names the host's files\), got "a\/\.\.\/\.\.\/\.\.\/\.\.\/tmp\/evil"$/,
    );
    expect(safeHostName('a/../../b')).toBe('a_.._.._b');
    expect(safeHostName('a\\..\\b')).toBe('a_.._b');
    // a host name (here an SshNode's host name) that is `..`: no file name, and the remote path has none
    const out = join(work, 'steered', 'out');
    const dotted = new Fleet([{ hostname: '..' }, new SshNode('a/../../b')]);
    await expect(dotted.copyFrom('/', out)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: `Invalid Fleet copyFrom: host ".." would copy into ${join(out, '..')}, outside ${out} (expected a host name that is a file name; give a name function to choose the paths)`,
    });
    // the other one stays inside: its name made a file name
    const plan = await dotted
      .filter((host) => host.name !== '..')
      .copyFrom('/etc/hostname', out, { signal: AbortSignal.abort(new Error('planned only')) });
    expect(plan.map((r) => r.destination)).toEqual([join(out, 'hostname_a_.._.._b')]);
    await expect(stat(join(work, 'steered'))).rejects.toThrow('ENOENT');
  });

  it('a copy inside another host’s copy, or two paths that differ only in case, are refused before anything is copied', async () => {
    const out = join(work, 'clashes');
    const two = new Fleet([
      { node: quiet(), name: 'a' },
      { node: quiet(), name: 'b' },
    ]);
    await expect(
      two.copyFrom(work, out, { name: (host) => (host.name === 'a' ? 'logs' : 'logs/b') }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: `Invalid Fleet copyFrom: host "b" would copy into ${join(out, 'logs', 'b')}, inside host "a"'s copy ${join(out, 'logs')} (expected a name function giving each host a path of its own, outside the others')`,
    });
    // whatever the order, and through `..`
    await expect(
      two.copyFrom(work, out, { name: (host) => (host.name === 'a' ? 'x/../logs/a' : 'logs') }),
    ).rejects.toThrow(`host "a" would copy into ${join(out, 'logs', 'a')}, inside host "b"'s copy`);
    // a path that only starts like another's is apart
    await expect(
      two.copyFrom(work, out, {
        name: (host) => (host.name === 'a' ? 'logs' : 'logs-b'),
        signal: AbortSignal.abort(new Error('planned only')),
      }),
    ).resolves.toHaveLength(2);
    // case: one file on macOS and Windows
    const cased = new Fleet([
      { node: quiet(), name: 'Web1' },
      { node: quiet(), name: 'web1' },
    ]);
    await expect(cased.copyFrom('/etc/hostname', out)).rejects.toThrow(
      `Invalid Fleet copyFrom: hosts "Web1" and "web1" would copy into ${join(out, 'hostname_Web1')} and ${join(out, 'hostname_web1')}, one path on a case-insensitive file system (macOS, Windows)`,
    );
    await expect(
      cased.copyFrom('/etc/hostname', out, { name: (host) => (host.name === 'Web1' ? 'LOGS' : 'logs/web1') }),
    ).rejects.toThrow(`host "web1" would copy into ${join(out, 'logs', 'web1')}, inside host "Web1"'s copy`);
    await expect(stat(out)).rejects.toThrow('ENOENT');
    // a name function is free to leave localDir, but not to give nothing
    await expect(
      two.copyFrom(work, out, { name: (host) => (host.name === 'a' ? '../elsewhere' : '') }),
    ).rejects.toThrow(`Invalid Fleet copyFrom option name for host "b": expected a non-empty path, got ''`);
  });
});
