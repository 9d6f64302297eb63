/**
 * What is given outside an ssh config (a user, a port, a gateway) as ssh's -l, -p and -J: the
 * config's Match user, %r and %p see them (checked against what `ssh -G` prints); and the inputs
 * that made the resolver hang or misread a file.
 */
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fleet } from '../src/fleet/fleet.js';
import { configNodeOptions, resolveSshConfig } from '../src/ssh-config.js';
import { SshNode } from '../src/ssh-node.js';
import { bed } from './bed.js';
import { configFiles } from './config-files.js';

const files = configFiles('jobgraph-ssh-config-given-');

/** `ssh -G -F mu bob@web`: port 2222, identityfile /keys/bob_bob and /keys/id_bob_2222, proxyjump bob@gw. */
const MATCH_USER = [
  'Match user bob',
  '  Port 2222',
  '  IdentityFile /keys/bob_%r',
  'Host web',
  '  HostName web.example',
  '  IdentityFile /keys/id_%r_%p',
  '  ProxyJump %r@gw',
];

describe('a user or a port given outside the config', () => {
  it('are seen by Match user, %r and %p, as ssh -l and -p are (they were read as root and 22)', async () => {
    const file = await files.config(...MATCH_USER);
    const host = await resolveSshConfig('web', { file, login: 'bob' });
    expect(host).toMatchObject({
      user: 'bob',
      port: 2222,
      identityFiles: ['/keys/bob_bob', '/keys/id_bob_2222'],
    });
    expect(host.jump.map((hop) => `${hop.user}@${hop.hostname}`)).toEqual(['bob@gw']);
    // a port given wins over the config's, and %p sees it
    const ported = await resolveSshConfig('web', { file, login: 'alice', port: 2200 });
    expect(ported).toMatchObject({ user: 'alice', port: 2200, identityFiles: ['/keys/id_alice_2200'] });
  });

  it('SshNode.fromSshConfig and Fleet.fromHosts pass them in', async () => {
    const file = await files.config(...MATCH_USER);
    const node = await SshNode.fromSshConfig('web', { file, username: 'bob', verbose: false });
    expect(node.toString()).toBe('bob@gw:2222->bob@web.example:2222');
    await node.close();
    const fleet = await Fleet.fromHosts(['bob@web'], { sshConfig: file });
    expect([...fleet][0]?.node.toString()).toBe('bob@gw:2222->bob@web.example:2222');
    await fleet.close();
  });

  it("a gateway of null (no gateway) keeps the config's route; the defaults' user is what Match user sees where the config gives none", async () => {
    const file = await files.config(
      'Match user alice',
      '  Port 2200',
      'Host fit*',
      '  ProxyJump gwuser@gw.example',
    );
    const fleet = await Fleet.fromHosts(['fit01'], {
      sshConfig: file,
      hosts: { fit01: { gateway: null } },
      defaults: { username: 'alice' },
    });
    expect([...fleet][0]?.node.toString()).toBe('gwuser@gw.example->alice@fit01:2200');
    await fleet.close();
  });

  it('login and port of the wrong kind are refused', async () => {
    const file = await files.config('Host web');
    await expect(resolveSshConfig('web', { file, port: 'x' as never })).rejects.toThrow(
      'option port must be an integer from 1 to 65535',
    );
    await expect(resolveSshConfig('web', { file, port: -3 })).rejects.toThrow(
      'option port must be an integer from 1 to 65535',
    );
    await expect(resolveSshConfig('web', { file, login: 5 as never })).rejects.toThrow(
      'option login must be a user name',
    );
  });

  it("a gateway given to Fleet for a host replaces the config's route: its ProxyCommand is not refused (as with fromSshConfig)", async () => {
    const file = await files.config('Host web', '  HostName 10.1.1.1', '  ProxyCommand nc %h %p');
    const fleet = await Fleet.fromHosts(['web'], { sshConfig: file, hosts: { web: { gateway: 'root@gw' } } });
    expect([...fleet][0]?.node.toString()).toBe('root@gw->root@10.1.1.1');
    await fleet.close();
  });
});

describe('inputs that made the resolver hang or misread a file', () => {
  it('a chain of 16 hops resolves; 17 are refused', async () => {
    const hops = (n: number) =>
      Array.from({ length: n }, (_, i) => [`Host h${i}`, `  ProxyJump h${i + 1}`]).flat();
    const sixteen = await resolveSshConfig('h0', { file: await files.config(...hops(16)) });
    expect(sixteen.jump).toHaveLength(16);
    await expect(resolveSshConfig('h0', { file: await files.config(...hops(17)) })).rejects.toThrow(
      'ProxyJump chain deeper than 16 hops',
    );
  });

  it('a ProxyJump that makes a new name at each hop is refused past 16 hops (it recursed until memory ran out)', async () => {
    const file = await files.config('Host h*', '  ProxyJump %h-x');
    await expect(resolveSshConfig('h1', { file })).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_SSH_CONFIG',
        message: expect.stringContaining('ProxyJump chain deeper than 16 hops'),
      }),
    );
  });

  it('a file that starts with a byte order mark is refused, as ssh refuses it (its first block applied to every host)', async () => {
    const file = join(files.dir, 'bom');
    await writeFile(file, '\ufeffHost a\n  User bob\n');
    await expect(resolveSshConfig('zzz', { file })).rejects.toThrow(
      `${file} line 1: the file starts with a byte order mark (U+FEFF), which ssh refuses too: save it without one`,
    );
  });

  it('a ConnectTimeout longer than a timer holds is the longest one (ssh takes 4w; the node refused it)', async () => {
    const file = await files.config('Host vm', '  ConnectTimeout 4w');
    const host = await resolveSshConfig('vm', { file });
    expect((await configNodeOptions(host, undefined)).connectTimeout).toBe(2_147_483_647);
  });
});

describe('HostKeyAlias', () => {
  it("is the host key's name in known_hosts, as ssh reads it (it was used only for %k: a strict check refused the host)", async () => {
    const knownHosts = join(files.dir, 'known_alias');
    // the loopback host's key under the alias alone, nothing under its address and port
    const [type, key] = bed.loopback.hostKey.split(' ');
    await writeFile(knownHosts, `myvm ${type} ${key}\n`);
    const file = await files.config(
      'Host vm',
      `  HostName ${bed.loopback.hostname}`,
      `  Port ${bed.loopback.port}`,
      '  User root',
      `  IdentityFile ${bed.keys.ed25519}`,
      '  HostKeyAlias myvm',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking yes',
    );
    const node = await SshNode.fromSshConfig('vm', { file });
    try {
      expect(node.hostKeyAlias).toBe('myvm');
      expect(await node.run('true', { printStdout: false })).toMatchObject({ exitCode: 0 });
    } finally {
      await node.close();
    }
    // without the alias, the same known_hosts has no key for the host
    const plain = await SshNode.fromSshConfig('vm', {
      file: await files.config(
        'Host vm',
        `  HostName ${bed.loopback.hostname}`,
        `  Port ${bed.loopback.port}`,
        '  User root',
        `  IdentityFile ${bed.keys.ed25519}`,
        `  UserKnownHostsFile ${knownHosts}`,
        '  StrictHostKeyChecking yes',
      ),
    });
    try {
      await expect(plain.run('true')).rejects.toMatchObject({ code: 'ERR_HOST_KEY' });
    } finally {
      await plain.close();
    }
  });
});

describe('as ssh reads them', () => {
  it('an Include of a directory reads nothing there; a Port with blanks before it is that port', async () => {
    const file = await files.config(`Include ${files.dir}`, 'Host web', '  Port " 2222"');
    expect((await resolveSshConfig('web', { file })).port).toBe(2222);
  });
});

describe('parsed config files are kept between resolutions', () => {
  it('while they are unchanged: a file rewritten (another size, or the same size later) is read again', async () => {
    const file = join(files.dir, 'edited');
    await writeFile(file, 'Host web\n  User alice\n');
    expect((await resolveSshConfig('web', { file })).user).toBe('alice');
    await writeFile(file, 'Host web\n  User bobby\n  Port 2222\n');
    expect(await resolveSshConfig('web', { file })).toMatchObject({ user: 'bobby', port: 2222 });
    // the same size, written later
    await writeFile(file, 'Host web\n  User carol\n  Port 2222\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    expect((await resolveSshConfig('web', { file })).user).toBe('carol');
  });
});
