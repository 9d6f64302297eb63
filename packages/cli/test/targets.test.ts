/**
 * The target grammar of `jobgraph ssh/push/pull`, in-process: parsing, ranges, files and
 * directories of targets, resolution (-l, -g, -p, ssh config aliases) and exclusions.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localUsername } from '@jobgraph/ssh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../src/targets/errors.js';
import { parseTarget, parseTargets, splitTargets } from '../src/targets/grammar.js';
import { expandRanges, MAX_EXPANSION } from '../src/targets/ranges.js';
import { type ResolveOptions, resolveTargets, targetText } from '../src/targets/resolve.js';
import { readTargetArgument } from '../src/targets/sources.js';

const me = localUsername();

async function resolved(text: string, options: ResolveOptions = {}, exclude = ''): Promise<string[]> {
  const { selected } = await resolveTargets(parseTargets(text), parseTargets(exclude), options);
  return selected.map(targetText);
}

describe('parseTarget', () => {
  it('reads host, user@host, host:port, user@host:port and IPv6 in brackets', () => {
    expect(parseTarget('fit01').endpoint).toEqual({ user: undefined, host: 'fit01', port: undefined });
    expect(parseTarget('root@fit01').endpoint).toEqual({ user: 'root', host: 'fit01', port: undefined });
    expect(parseTarget('fit01:2222').endpoint).toEqual({ user: undefined, host: 'fit01', port: 2222 });
    expect(parseTarget('bob@10.0.0.1:22').endpoint).toEqual({ user: 'bob', host: '10.0.0.1', port: 22 });
    expect(parseTarget('[::1]:2222').endpoint).toEqual({ user: undefined, host: '::1', port: 2222 });
    expect(parseTarget('u@[fe80::1]').endpoint).toEqual({ user: 'u', host: 'fe80::1', port: undefined });
  });

  it('reads gateways with -> and →, chains, and None-> for direct', () => {
    expect(parseTarget('fit01').gateways).toBeUndefined();
    expect(parseTarget('gw->fit01').gateways).toEqual([{ user: undefined, host: 'gw', port: undefined }]);
    expect(parseTarget('u@gw:2200→fit01').gateways).toEqual([{ user: 'u', host: 'gw', port: 2200 }]);
    expect(parseTarget('a->b->fit01').gateways?.map((hop) => hop.host)).toEqual(['a', 'b']);
    expect(parseTarget('None->fit01').gateways).toEqual([]);
    expect(parseTarget('None→fit01').gateways).toEqual([]);
  });

  it.each([
    ['a@b@c', /more than one @/],
    ['fit01:0', /not a port: expected a number from 1 to 65535/],
    ['fit01:99999', /not a port/],
    ['fit01:ssh', /not a port/],
    ['@fit01', /not a user name/],
    ['root@', /host name is missing/],
    ['->fit01', /arrow without a host/],
    ['gw->', /arrow without a host/],
    ['gw->None->fit01', /None-> can only start a target/],
    ['fe80::1', /several colons: write an IPv6 address in brackets/],
    ['[::1', /not an IPv6 address in brackets/],
    ['fit/01', /not a host name/],
    ['10.0.0.256', /not an IPv4 address: expected four numbers from 0 to 255/],
  ])('refuses %s with a message that says why', (text, why) => {
    expect(() => parseTarget(text)).toThrow(TargetError);
    expect(() => parseTarget(text)).toThrow(why);
    expect(() => parseTarget(text)).toThrow(`bad target ${JSON.stringify(text)}`);
  });
});

describe('lists and ranges', () => {
  it('splits on whitespace (tabs, newlines) and commas, but not inside range groups', () => {
    expect(splitTargets(' a,b\tc\nd ,, e ')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitTargets('fit[1,3] {amf,upf},x')).toEqual(['fit[1,3]', '{amf,upf}', 'x']);
  });

  it('expands pdsh-style ranges with their zero padding', () => {
    expect(expandRanges('fit[01-03]')).toEqual(['fit01', 'fit02', 'fit03']);
    expect(expandRanges('fit[1,3,5-7]')).toEqual(['fit1', 'fit3', 'fit5', 'fit6', 'fit7']);
    expect(expandRanges('fit[8-10]')).toEqual(['fit8', 'fit9', 'fit10']);
    expect(expandRanges('fit[01-37]')).toHaveLength(37);
  });

  it('refuses a range of IPv4 addresses that goes past 255, naming the first address that is none', () => {
    expect(parseTargets('10.0.0.[254-255]').map((target) => target.endpoint.host)).toEqual([
      '10.0.0.254',
      '10.0.0.255',
    ]);
    expect(() => parseTargets('10.0.0.[250-300]')).toThrow('"10.0.0.256" is not an IPv4 address');
  });

  it('expands shell-style sequences and lists, and combines several groups in reading order', () => {
    expect(expandRanges('node{1..3}')).toEqual(['node1', 'node2', 'node3']);
    expect(expandRanges('node{01..03}')).toEqual(['node01', 'node02', 'node03']);
    expect(expandRanges('{amf,upf}.lab')).toEqual(['amf.lab', 'upf.lab']);
    expect(expandRanges('r[1-2]n{a,b}')).toEqual(['r1na', 'r1nb', 'r2na', 'r2nb']);
  });

  it('applies ranges to gateways and users too, and leaves IPv6 brackets alone', () => {
    expect(parseTargets('gw[1-2]->fit01').map((spec) => spec.gateways?.[0]?.host)).toEqual(['gw1', 'gw2']);
    expect(parseTargets('[::1]:22')[0]?.endpoint.host).toBe('::1');
  });

  it.each([
    ['fit[3-1]', /goes down: expected low-high/],
    ['fit[1-a]', /not a number or low-high/],
    ['fit[]', /not a number or low-high/],
    ['fit{1..}', /neither a sequence \{1\.\.4\} nor a list/],
    ['fit{a,}', /empty item/],
    [`fit[1-${MAX_EXPANSION + 1}]`, /more than 10000 hosts/],
    ['a[1-200]b[1-200]', /more than 10000 hosts/],
  ])('refuses the range %s', (text, why) => {
    expect(() => expandRanges(text)).toThrow(why);
  });

  it('says how ranges are written when a bracket is not one', () => {
    expect(() => parseTargets('fit{1')).toThrow(/not a host name.*ranges are written fit\[1-3\]/);
  });
});

describe('targets from files and directories', () => {
  let dir: string;
  let home: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jobgraph-targets-'));
    home = join(dir, 'home');
    await mkdir(join(home, '.jobgraph', 'lab'), { recursive: true });
    await writeFile(
      join(dir, 'nodes.txt'),
      '# the nodes of the experiment\nfit01 fit02, fit03\n\n  # indented comment\nroot@fit[10-11]  # two more\ngw->fit20\n',
    );
    await writeFile(join(dir, 'bad.txt'), 'fit01\nfit02\nfit:x\n');
    await writeFile(join(home, '.jobgraph', 'mine'), 'a1 a2\n');
    await writeFile(join(home, '.jobgraph', 'lab', 'fit2'), '');
    await writeFile(join(home, '.jobgraph', 'lab', 'fit10'), '');
    await writeFile(join(home, '.jobgraph', 'lab', '.hidden'), '');
    await mkdir(join(home, '.jobgraph', 'lab', '0ok'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a file: several per line, spaces or commas, # comments anywhere, ranges', async () => {
    const specs = await readTargetArgument('nodes.txt', { cwd: dir, home });
    expect(specs.map((spec) => spec.text)).toEqual([
      'fit01',
      'fit02',
      'fit03',
      'root@fit10',
      'root@fit11',
      'gw->fit20',
    ]);
  });

  it('locates a bad target in its file and line', async () => {
    await expect(readTargetArgument('bad.txt', { cwd: dir, home })).rejects.toThrow(
      `${join(dir, 'bad.txt')}:3: bad target "fit:x": "x" is not a port`,
    );
  });

  it('looks files and directories up in ~/.jobgraph/ when they are not in the working directory', async () => {
    expect((await readTargetArgument('mine', { cwd: dir, home })).map((spec) => spec.text)).toEqual([
      'a1',
      'a2',
    ]);
  });

  it('reads a directory: its file names, hidden files and subdirectories aside, in natural order', async () => {
    const specs = await readTargetArgument('lab', { cwd: dir, home });
    expect(specs.map((spec) => spec.text)).toEqual(['fit2', 'fit10']);
  });

  it('takes an argument that names nothing as the targets themselves', async () => {
    const specs = await readTargetArgument('nothere1,nothere2', { cwd: dir, home });
    expect(specs.map((spec) => spec.text)).toEqual(['nothere1', 'nothere2']);
  });
});

describe('resolveTargets', () => {
  it('fills in the local user and port 22, or -l and -p', async () => {
    expect(await resolved('fit01')).toEqual([`${me}@fit01`]);
    expect(await resolved('fit01 bob@fit02 fit03:2200', { login: 'alice', port: 2222 })).toEqual([
      'alice@fit01:2222',
      'bob@fit02:2222',
      'alice@fit03:2200',
    ]);
  });

  it('writes IPv6 hosts in brackets, so that what it prints reads back as the same target', async () => {
    const printed = await resolved('[::1]:2222 bob@[fe80::1%eth0] [::1]->[fd00::5]:2200');
    expect(printed).toEqual([`${me}@[::1]:2222`, 'bob@[fe80::1%eth0]', `${me}@[::1]->${me}@[fd00::5]:2200`]);
    expect(await resolved(printed.join(' '))).toEqual(printed);
  });

  it('puts -g in front of targets that name no gateway; -l applies to it', async () => {
    expect(await resolved('fit01 gw2->fit02 None->fit03', { gateway: 'faraday', login: 'u' })).toEqual([
      'u@faraday->u@fit01',
      'u@gw2->u@fit02',
      'u@fit03',
    ]);
    expect(await resolved('fit01', { gateway: 'a@gw1->b@gw2:2200' })).toEqual([
      `a@gw1->b@gw2:2200->${me}@fit01`,
    ]);
  });

  it('refuses a -g that is not one gateway', async () => {
    await expect(resolved('fit01', { gateway: 'a b' })).rejects.toThrow('-g expects one gateway');
    await expect(resolved('fit01', { gateway: 'None->gw' })).rejects.toThrow('-g does not take None->');
  });

  it('drops duplicates, keeping the first', async () => {
    expect(await resolved('fit01 fit02 fit01 root@fit01', { login: 'root' })).toEqual([
      'root@fit01',
      'root@fit02',
    ]);
  });

  it('excludes on what the exclusion names: the host, and the user or port only when written', async () => {
    const all = 'fit01 bob@fit02 fit03:2200 gw->fit04';
    expect(await resolved(all, { login: 'root' }, 'fit02 fit04')).toEqual(['root@fit01', 'root@fit03:2200']);
    expect(await resolved(all, { login: 'root' }, 'alice@fit02 fit03:22')).toEqual([
      'root@fit01',
      'bob@fit02',
      'root@fit03:2200',
      'root@gw->root@fit04',
    ]);
    const { excluded } = await resolveTargets(parseTargets(all), parseTargets('bob@fit02'), {
      login: 'root',
    });
    expect(excluded.map(targetText)).toEqual(['bob@fit02']);
  });

  describe('with an ssh config', () => {
    let dir: string;
    let config: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jobgraph-sshconfig-'));
      config = join(dir, 'config');
      await writeFile(
        config,
        [
          'Host lab',
          '  HostName faraday.example.org',
          '  User inria_r2lab',
          'Host fit*',
          '  User root',
          '  ProxyJump lab',
          'Host web',
          '  HostName 192.0.2.7',
          '  Port 2200',
          '',
        ].join('\n'),
      );
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('takes aliases, users, ports and ProxyJump chains from it', async () => {
      expect(await resolved('fit01 web lab', { sshConfig: config })).toEqual([
        'inria_r2lab@faraday.example.org->root@fit01',
        `${me}@192.0.2.7:2200`,
        'inria_r2lab@faraday.example.org',
      ]);
    });

    it('lets the command line win: user@, -l, :port, -p, gw->, None->, -g', async () => {
      expect(await resolved('bob@web:22 None->fit01 gw->fit02', { sshConfig: config })).toEqual([
        'bob@192.0.2.7',
        'root@fit01',
        `${me}@gw->root@fit02`,
      ]);
      expect(await resolved('fit01 web', { sshConfig: config, login: 'alice', port: 23 })).toEqual([
        'inria_r2lab@faraday.example.org->alice@fit01:23',
        'alice@192.0.2.7:23',
      ]);
      expect(await resolved('fit01', { sshConfig: config, gateway: 'lab' })).toEqual([
        'inria_r2lab@faraday.example.org->root@fit01',
      ]);
    });

    it('does not canonicalize a host behind -g or a written gateway, as ssh -J', async () => {
      const canonical = join(dir, 'canonical');
      await writeFile(
        canonical,
        [
          'Host gw a',
          '  CanonicalizeHostName no',
          'Host *',
          '  CanonicalizeHostName yes',
          '  CanonicalDomains example.invalid',
          '  CanonicalizeFallbackLocal no',
          '',
        ].join('\n'),
      );
      expect(
        await resolved('nohost gw->nohost2 a->b->nohost3', { sshConfig: canonical, gateway: 'gw' }),
      ).toEqual([`${me}@gw->${me}@nohost`, `${me}@gw->${me}@nohost2`, `${me}@a->${me}@b->${me}@nohost3`]);
      // reached directly, they are canonicalized (and refused: nothing resolves in .invalid)
      for (const direct of ['nohost', 'None->nohost', 'b->nohost']) {
        await expect(resolved(direct, { sshConfig: canonical })).rejects.toThrow(
          /cannot canonicalize host "(nohost|b)"/,
        );
      }
    });

    it('excludes by alias or by the host name it stands for', async () => {
      expect(await resolved('fit01 web', { sshConfig: config }, '192.0.2.7')).toEqual([
        'inria_r2lab@faraday.example.org->root@fit01',
      ]);
      expect(await resolved('fit01 web', { sshConfig: config }, 'fit01')).toEqual([`${me}@192.0.2.7:2200`]);
    });
  });
});
