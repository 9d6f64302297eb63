/**
 * OpenSSH client config: resolveSshConfig (ssh_config(5) as `ssh -G` reads it) and
 * SshNode.fromSshConfig. Pure unit tests: config files in a temp dir, no connection.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SshError, SshErrorCode } from '../src/errors.js';
import { type ResolvedHost, resolveSshConfig } from '../src/ssh-config.js';
import { SshNode } from '../src/ssh-node.js';
import type { Transport } from '../src/transport/transport.js';
import { configFiles } from './config-files.js';

const files = configFiles('jobgraph-ssh-config-');
const config = files.config;

/** Resolves an alias through a config of these lines, as local user `me`. */
async function resolve(alias: string, ...lines: string[]): Promise<ResolvedHost> {
  return resolveSshConfig(alias, { file: await config(...lines), user: 'me' });
}

/** The SshError that resolving rejects with. */
async function failure(alias: string, ...lines: string[]): Promise<SshError> {
  const file = await config(...lines);
  const error = await resolveSshConfig(alias, { file, user: 'me' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SshError);
  const sshError = error as SshError;
  expect(sshError.code).toBe(SshErrorCode.SSH_CONFIG);
  expect(sshError.message).not.toContain('\n');
  // names a file of the config (the one given, or one it includes) and a line
  expect(sshError.message).toMatch(new RegExp(`${files.dir}/\\S+ line \\d+: `));
  return sshError;
}

/** A host as a missing config gives it. */
function bare(alias: string): ResolvedHost {
  return {
    alias,
    hostname: alias,
    user: undefined,
    port: undefined,
    identityFiles: [],
    identitiesOnly: false,
    userKnownHostsFile: undefined,
    strictHostKeyChecking: undefined,
    connectTimeout: undefined,
    jump: [],
  };
}

describe('resolveSshConfig: syntax and precedence', () => {
  it('gives just the alias as host name when the file is missing', async () => {
    const host = await resolveSshConfig('fit01', { file: join(files.dir, 'no-such-config') });
    expect(host).toEqual(bare('fit01'));
  });

  it('keeps the first value of each keyword', async () => {
    const host = await resolve(
      'fit01',
      'Host fit01',
      '  User first',
      '  User second',
      '  Port 2201',
      'Host *',
      '  User fallback',
      '  Port 2299',
      '  ConnectTimeout 5',
    );
    expect(host).toMatchObject({ user: 'first', port: 2201, connectTimeout: 5000 });
  });

  it('applies lines before any Host to every host', async () => {
    const host = await resolve('anything', 'User everyone', 'Host anything', '  User late');
    expect(host.user).toBe('everyone');
  });

  it('reads keywords in any case, key=value forms, quotes and comments', async () => {
    const host = await resolve(
      'web',
      '# a comment',
      '   ',
      'HOST=web',
      '  hostname = web.example.org   # trailing comment',
      '  uSeR="alice"',
      '  PORT\t2222',
      '  IdentityFile "~/.ssh/my key"',
      "  IdentityFile '/keys/a b'",
      '  IdentityFile /keys/c\\ d',
      '  ConnectTimeout 1m30s',
    );
    expect(host).toMatchObject({ hostname: 'web.example.org', user: 'alice', port: 2222 });
    expect(host.identityFiles.slice(1)).toEqual(['/keys/a b', '/keys/c d']);
    expect(host.identityFiles[0]).toMatch(/\/\.ssh\/my key$/);
    expect(host.connectTimeout).toBe(90_000);
  });

  it('refuses a keyword ssh does not know, as ssh does, unless IgnoreUnknown lists it', async () => {
    // known keywords that mean nothing to a node are read and ignored
    const host = await resolve('h', 'Host h', '  ForwardAgent yes', '  RSAAuthentication no', '  User u');
    expect(host.user).toBe('u');
    // skipped, a misspelt Host line would have put `User bob` into the block above
    let error = await failure('web', 'Host x', '  Port 2', 'Hots web', '  User bob');
    expect(error.message).toMatch(/line 3: unknown keyword "hots" \(did you mean Host\?\).*IgnoreUnknown/);
    expect(error.message).not.toContain('\n');
    error = await failure('h', 'Host h', '  NoSuchKeyword whatever');
    expect(error.message).toMatch(/line 2: unknown keyword "nosuchkeyword": ssh refuses it too/);
    // checked in blocks that do not apply too, as ssh does
    error = await failure('h', 'Host other', '  Usr u');
    expect(error.message).toMatch(/line 2: unknown keyword "usr" \(did you mean User\?\)/);
    // IgnoreUnknown: patterns, case-insensitive, the first one that applies, only for the lines after it
    const ignored = await resolve(
      'h',
      'IgnoreUnknown usekey*,Foo',
      'IgnoreUnknown bar',
      'Host h',
      '  UseKeychainX yes',
      '  foo 1',
      '  User u',
    );
    expect(ignored.user).toBe('u');
    error = await failure('h', 'IgnoreUnknown usekey*,Foo', 'IgnoreUnknown bar', 'Host h', '  Bar 1');
    expect(error.message).toMatch(/line 4: unknown keyword "bar"/);
    error = await failure('h', '  Foo 1', 'IgnoreUnknown foo');
    expect(error.message).toMatch(/line 1: unknown keyword "foo"/);
    error = await failure('h', 'Host other', '  IgnoreUnknown foo', 'Host h', '  Foo 1');
    expect(error.message).toMatch(/line 4: unknown keyword "foo"/);
  });

  it('rejects syntax errors with the file and line', async () => {
    let error = await failure('h', 'Host h', '  User "unterminated');
    expect(error.message).toMatch(/line 2: unterminated " quote/);
    error = await failure('h', 'Host h', '  Port 99999');
    expect(error.message).toMatch(/line 2: bad port "99999"/);
    error = await failure('h', 'Host h', '  User');
    expect(error.message).toMatch(/line 2: no argument after keyword "user"/);
    error = await failure('h', 'Host h', '  HostName a b');
    expect(error.message).toMatch(/line 2: hostname takes one argument/);
  });
});

describe('resolveSshConfig: Host patterns', () => {
  const lines = [
    'Host web? db-*.lab !db-secret.lab',
    '  User patterned',
    'Host *.example.org !bad.example.org',
    '  User wild',
    'Host *',
    '  User other',
  ];

  it('matches *, ? and several patterns per line', async () => {
    expect((await resolve('web1', ...lines)).user).toBe('patterned');
    expect((await resolve('web12', ...lines)).user).toBe('other');
    expect((await resolve('db-1.lab', ...lines)).user).toBe('patterned');
    expect((await resolve('a.b.example.org', ...lines)).user).toBe('wild');
  });

  it('skips a block when a negated pattern matches', async () => {
    expect((await resolve('db-secret.lab', ...lines)).user).toBe('other');
    expect((await resolve('bad.example.org', ...lines)).user).toBe('other');
  });

  it('never matches with negated patterns only', async () => {
    expect((await resolve('x', 'Host !y', '  User neg', 'Host *', '  User any')).user).toBe('any');
  });
});

describe('resolveSshConfig: Match', () => {
  it('matches host against the HostName set so far and originalhost against the alias', async () => {
    const lines = [
      'Host short',
      '  HostName %h.lab.example.org',
      'Match host *.lab.example.org',
      '  User by-host',
      '  Port 2202',
      'Match originalhost short',
      '  User by-alias',
      '  IdentityFile /keys/short',
    ];
    const host = await resolve('short', ...lines);
    expect(host).toMatchObject({ hostname: 'short.lab.example.org', user: 'by-host', port: 2202 });
    expect(host.identityFiles).toEqual(['/keys/short']);
  });

  it('matches all, user, localuser, negations and the host= form', async () => {
    const lines = [
      'Host h',
      '  User alice',
      'Match user alice,bob !host=other',
      '  Port 2001',
      'Match localuser me',
      '  IdentityFile /keys/me',
      'Match !localuser me',
      '  IdentityFile /keys/not-me',
      'Match all',
      '  StrictHostKeyChecking no',
    ];
    const host = await resolve('h', ...lines);
    expect(host).toMatchObject({ user: 'alice', port: 2001, strictHostKeyChecking: 'off' });
    expect(host.identityFiles).toEqual(['/keys/me']);
  });

  it('matches user against the login when no User is set', async () => {
    expect((await resolve('h', 'Match user me', '  Port 2002')).port).toBe(2002);
  });

  it('rejects Match exec without running it', async () => {
    const marker = join(files.dir, 'exec-ran');
    const error = await failure('h', `Match exec "touch ${marker}"`, '  User x');
    expect(error.message).toMatch(/line 1: Match exec "touch .*" is not supported/);
    expect(error.message).toContain('never runs commands');
    expect(existsSync(marker)).toBe(false);
  });

  it('does not reach a Match exec when an earlier criterion fails', async () => {
    const host = await resolve('h', 'Match host other exec "false"', '  User x', 'Host h', '  User y');
    expect(host.user).toBe('y');
  });

  it('rejects other criteria that need more than names, and unknown ones', async () => {
    expect((await failure('h', 'Match localnetwork 10.0.0.0/8', '  User x')).message).toMatch(
      /Match localnetwork is not supported/,
    );
    expect((await failure('h', 'Match colour blue', '  User x')).message).toMatch(
      /unknown Match criterion "colour"/,
    );
    expect((await failure('h', 'Match all host h', '  User x')).message).toMatch(/cannot be combined/);
    expect((await failure('h', 'Match host', '  User x')).message).toMatch(/needs an argument/);
  });
});

describe('resolveSshConfig: Include', () => {
  it('includes glob matches in lexical order, where the Include line is', async () => {
    const conf = join(files.dir, 'conf.d');
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, '20-web.conf'), 'Host web\n  User from-20\n  Port 2020\n');
    await writeFile(join(conf, '10-web.conf'), 'Host web\n  User from-10\n');
    await writeFile(join(conf, 'ignored.txt'), 'Host web\n  User from-txt\n');
    await mkdir(join(conf, 'sub.conf'), { recursive: true }); // a directory is not a config file
    const host = await resolve('web', `Include ${conf}/*.conf`, 'Host *', '  User last', '  Port 22');
    expect(host).toMatchObject({ user: 'from-10', port: 2020 });
  });

  it('ends a Host block of an included file with the file', async () => {
    const inc = join(files.dir, 'inc-block.conf');
    await writeFile(inc, 'Host other\n  User other\n');
    const host = await resolve('web', `Include ${inc}`, 'User after-include');
    expect(host.user).toBe('after-include');
  });

  it('does not apply a file included from a block that does not match', async () => {
    const inc = join(files.dir, 'inc-cond.conf');
    await writeFile(inc, 'User conditional\nHost *\n  Port 2999\n');
    const host = await resolve('web', 'Host other', `  Include ${inc}`, 'Host *', '  User plain');
    expect(host).toMatchObject({ user: 'plain', port: undefined });
  });

  it('resolves relative paths in ~/.ssh and ignores files that do not exist', async () => {
    const home = await mkdtemp(join(files.dir, 'home-'));
    await mkdir(join(home, '.ssh', 'config.d'), { recursive: true });
    await writeFile(join(home, '.ssh', 'config.d', 'lab'), 'Host lab\n  HostName lab.example.org\n');
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const host = await resolve('lab', 'Include config.d/* missing-file', 'Include ~/.ssh/nothing/*');
      expect(host.hostname).toBe('lab.example.org');
    } finally {
      process.env.HOME = savedHome;
    }
  });

  it('rejects includes nested too deep (an include loop)', async () => {
    const loop = join(files.dir, 'loop.conf');
    await writeFile(loop, `Include ${loop}\n`);
    const error = await failure('h', `Include ${loop}`);
    expect(error.message).toMatch(/loop\.conf line 1: Include nested more than 16 deep/);
  });
});

describe('resolveSshConfig: HostName, IdentityFile and other values', () => {
  it('defaults HostName to the alias and expands %h and %%', async () => {
    expect((await resolve('plain', 'Host other', '  HostName x')).hostname).toBe('plain');
    expect((await resolve('n1', 'Host n*', '  HostName %h.100%%.lab')).hostname).toBe('n1.100%.lab');
  });

  it('lower-cases the host name as ssh does', async () => {
    expect((await resolve('Box', 'Host Box', '  HostName Box.Example.ORG')).hostname).toBe('box.example.org');
  });

  it('rejects tokens other than %h in HostName', async () => {
    expect((await failure('h', 'Host h', '  HostName %r.lab')).message).toMatch(
      /line 2: unsupported token %r in HostName/,
    );
  });

  it('accumulates IdentityFiles and expands ~, %d, %h, %r, %u, %n, %p and %%', async () => {
    const home = process.env.HOME ?? '';
    const host = await resolve(
      'fit01',
      'Host fit*',
      '  HostName %h.lab',
      '  User alice',
      '  Port 2222',
      '  IdentityFile ~/.ssh/id_%h',
      '  IdentityFile %d/keys/%r-%u-%n-%p-100%%',
      'Host *',
      '  IdentityFile ~/.ssh/id_%h',
      '  IdentityFile /keys/common',
    );
    expect(host.identityFiles).toEqual([
      `${home}/.ssh/id_fit01.lab`,
      `${home}/keys/alice-me-fit01-2222-100%`,
      '/keys/common',
    ]);
  });

  it('uses the login for %r when no User is set', async () => {
    expect((await resolve('h', 'IdentityFile /keys/%r')).identityFiles).toEqual(['/keys/me']);
  });

  it('rejects unknown tokens with the line', async () => {
    expect((await failure('h', 'Host h', '  IdentityFile /keys/%Z')).message).toMatch(
      /line 2: unsupported token %Z in IdentityFile/,
    );
  });

  it('reads IdentitiesOnly and UserKnownHostsFile (first file)', async () => {
    const home = process.env.HOME ?? '';
    const host = await resolve('h', 'Host h', '  IdentitiesOnly yes', '  UserKnownHostsFile ~/kh1 /tmp/kh2');
    expect(host).toMatchObject({ identitiesOnly: true, userKnownHostsFile: `${home}/kh1` });
    expect((await resolve('h', 'UserKnownHostsFile none')).userKnownHostsFile).toBe('/dev/null');
  });

  it('maps StrictHostKeyChecking to a host-key policy', async () => {
    const cases = {
      yes: 'strict',
      ask: 'strict',
      no: 'off',
      off: 'off',
      'accept-new': 'accept-new',
    } as const;
    for (const [value, policy] of Object.entries(cases)) {
      expect((await resolve('h', `StrictHostKeyChecking ${value}`)).strictHostKeyChecking).toBe(policy);
    }
    expect((await failure('h', 'Host h', '  StrictHostKeyChecking maybe')).message).toMatch(
      /line 2: StrictHostKeyChecking must be/,
    );
  });
});

describe('resolveSshConfig: ProxyJump', () => {
  it('resolves a one-hop chain through the hop’s own Host block', async () => {
    const host = await resolve(
      'fit01',
      'Host gw',
      '  HostName faraday.example.org',
      '  User gwuser',
      '  Port 2222',
      '  IdentityFile /keys/gw',
      'Host fit*',
      '  User root',
      '  ProxyJump gw',
    );
    expect(host).toMatchObject({ hostname: 'fit01', user: 'root' });
    expect(host.jump).toHaveLength(1);
    expect(host.jump[0]).toMatchObject({
      alias: 'gw',
      hostname: 'faraday.example.org',
      user: 'gwuser',
      port: 2222,
      identityFiles: ['/keys/gw'],
      jump: [],
    });
  });

  it('resolves a two-hop chain of aliases, user@host:port and ssh:// items', async () => {
    const lines = [
      'Host target',
      '  ProxyJump alice@outer:2200,ssh://bob@inner:2300',
      'Host outer',
      '  HostName outer.example.org',
      '  User ignored',
      '  Port 22',
      'Host inner',
      '  HostName 10.0.0.%h',
      '  ProxyJump ignored-because-given',
    ];
    const host = await resolve('target', ...lines);
    const [outer, inner] = host.jump;
    expect(host.jump).toHaveLength(2);
    expect(outer).toMatchObject({ alias: 'outer', hostname: 'outer.example.org', user: 'alice', port: 2200 });
    expect(inner).toMatchObject({ alias: 'inner', hostname: '10.0.0.inner', user: 'bob', port: 2300 });
    // each hop carries the route to it
    expect(outer?.jump).toEqual([]);
    expect(inner?.jump).toEqual([outer]);
  });

  it('follows the first hop’s own ProxyJump, before it', async () => {
    const host = await resolve(
      'target',
      'Host target',
      '  ProxyJump gw',
      'Host gw',
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName bastion.example.org',
    );
    expect(host.jump.map((h) => h.hostname)).toEqual(['bastion.example.org', 'gw']);
    expect(host.jump[1]?.jump.map((h) => h.alias)).toEqual(['bastion']);
  });

  it('parses IPv6 items and plain host:port', async () => {
    const host = await resolve('t', 'Host t', '  ProxyJump [::1]:2022,ssh://[fe80::2],gw:23');
    expect(host.jump.map((h) => [h.hostname, h.port])).toEqual([
      ['::1', 2022],
      ['fe80::2', undefined],
      ['gw', 23],
    ]);
  });

  it('treats ProxyJump none as no jump, also against a later ProxyJump', async () => {
    const host = await resolve('direct', 'Host direct', '  ProxyJump none', 'Host *', '  ProxyJump gw');
    expect(host.jump).toEqual([]);
    expect((await resolve('x', 'Host *', '  ProxyJump NONE')).jump).toEqual([]);
  });

  it('rejects bad items', async () => {
    expect((await failure('t', 'Host t', '  ProxyJump gw:port')).message).toMatch(/line 2: bad port "port"/);
    expect((await failure('t', 'Host t', '  ProxyJump a,,b')).message).toMatch(/empty item/);
    expect((await failure('t', 'Host t', '  ProxyJump ssh://gw/path')).message).toMatch(/bad ProxyJump item/);
  });

  it('rejects a token ProxyJump does not take, quoting the item once', async () => {
    for (const item of ['gw-%C', '%u@gw']) {
      const error = await failure('h', 'Host h', `  ProxyJump a,${item}`);
      expect(error.message).toMatch(/line 2: unsupported token %[Cu] in ProxyJump item "[^"]*"$/);
      expect(error.message.split(JSON.stringify(item))).toHaveLength(2);
    }
  });

  it('rejects a jump loop, naming the chain', async () => {
    let error = await failure('a', 'Host a', '  ProxyJump b', 'Host b', '  ProxyJump a');
    expect(error.message).toMatch(/line 4: ProxyJump loop: a -> b -> a/);
    error = await failure('self', 'Host self', '  ProxyJump self');
    expect(error.message).toMatch(/ProxyJump loop: self -> self/);
    // the classic mistake: the gateway itself matches Host *
    error = await failure('target', 'Host *', '  ProxyJump gw');
    expect(error.message).toMatch(/ProxyJump loop: target -> gw -> gw/);
    expect(error.message).toContain('(jump host "gw")');
  });

  it('accepts the same classic config once the gateway is excluded', async () => {
    const host = await resolve('target', 'Host * !gw', '  ProxyJump gw');
    expect(host.jump.map((h) => h.alias)).toEqual(['gw']);
  });
});

describe('resolveSshConfig: ProxyCommand', () => {
  it('rejects ProxyCommand, suggesting ProxyJump', async () => {
    const error = await failure('h', 'Host h', '  ProxyCommand ssh -W %h:%p gw');
    expect(error.message).toMatch(/line 2: ProxyCommand is not supported \("ssh -W %h:%p gw"\)/);
    expect(error.message).toContain('use ProxyJump');
  });

  it('rejects ProxyCommand in a jump host’s block, naming the hop', async () => {
    const error = await failure('t', 'Host t', '  ProxyJump gw', 'Host gw', '  ProxyCommand nc %h %p');
    expect(error.message).toMatch(/\(jump host "gw"\).*line 4: ProxyCommand is not supported/);
  });

  it('accepts ProxyCommand none, and ignores a ProxyCommand after a ProxyJump (first one wins)', async () => {
    expect((await resolve('h', 'Host h', '  ProxyCommand none', 'Host *', '  ProxyJump gw')).jump).toEqual(
      [],
    );
    const host = await resolve('h', 'Host h', '  ProxyJump gw', 'Host h', '  ProxyCommand nc %h %p');
    expect(host.jump.map((h) => h.alias)).toEqual(['gw']);
  });

  it('ignores a ProxyCommand of a block that does not apply', async () => {
    expect((await resolve('h', 'Host other', '  ProxyCommand nc %h %p')).jump).toEqual([]);
  });
});

describe('SshNode.fromSshConfig', () => {
  const lines = [
    'Host target',
    '  Port 2022',
    '  ProxyJump gw,ssh://relay:2300',
    '  ConnectTimeout 7',
    'Host gw',
    '  HostName gw.example.org',
    '  User gwuser',
    '  Port 2222',
    '  StrictHostKeyChecking yes',
    '  UserKnownHostsFile /tmp/known_gw',
    'Host relay',
    '  HostName relay.example.org',
    '  IdentityFile /no/such/key', // skipped, as ssh skips a missing identity
    '  IdentitiesOnly yes',
  ];

  it('builds the gateway chain as nodes, without connecting', async () => {
    const node = await SshNode.fromSshConfig('target', { file: await config(...lines) });
    expect(node.toString()).toBe('gwuser@gw.example.org:2222->root@relay.example.org:2300->root@target:2022');
    expect(node.distance()).toBe(3);
    expect(node.isConnected()).toBe(false);
    expect(node).toMatchObject({ hostname: 'target', username: 'root', port: 2022, connectTimeout: 7000 });
    const relay = node.gateway;
    expect(relay).toMatchObject({ hostname: 'relay.example.org', username: 'root', port: 2300 });
    const gw = relay?.gateway;
    expect(gw).toMatchObject({
      hostname: 'gw.example.org',
      username: 'gwuser',
      port: 2222,
      hostKeyPolicy: 'strict',
      knownHosts: '/tmp/known_gw',
      connectTimeout: 30_000,
    });
    expect(gw?.gateway).toBeUndefined();
  });

  it('lets the caller’s options win for the target, and share formatter, verbose and tunnelNoDelay with the hops', async () => {
    const formatter = { line: () => undefined, event: () => undefined };
    const node = await SshNode.fromSshConfig('target', {
      file: await config(...lines),
      username: 'alice',
      port: 2023,
      verbose: true,
      formatter,
      hostKeyPolicy: 'off',
      tunnelNoDelay: false,
      maxSessions: 3,
    });
    // tunnelNoDelay is about the jump hosts; maxSessions is the target's alone
    expect([node.gateway?.tunnelNoDelay, node.gateway?.gateway?.tunnelNoDelay]).toEqual([false, false]);
    expect([node.maxSessions, node.gateway?.maxSessions]).toEqual([3, 8]);
    expect(node.toString()).toBe(
      'gwuser@gw.example.org:2222->alice@relay.example.org:2300->alice@target:2023',
    );
    expect(node).toMatchObject({ hostKeyPolicy: 'off', verbose: true });
    expect(node.gateway?.formatter).toBe(formatter);
    expect(node.gateway?.gateway?.verbose).toBe(true);
    expect(node.gateway?.gateway?.hostKeyPolicy).toBe('strict');
  });

  it('loads the IdentityFiles that exist with the given transport, skipping unusable ones', async () => {
    const good = join(files.dir, 'id_good');
    const encrypted = join(files.dir, 'id_encrypted');
    await writeFile(good, 'GOOD KEY');
    await writeFile(encrypted, 'ENCRYPTED KEY');
    const parsed: string[] = [];
    const transport: Transport = {
      connect: () => Promise.reject(new Error('no connection in unit tests')),
      agentKeys: () => Promise.resolve([]),
      parseKey: (data, _passphrase, source) => {
        parsed.push(source);
        if (String(data).startsWith('ENCRYPTED')) throw new Error('encrypted');
        return { source, key: String(data) };
      },
    };
    const file = await config(
      'Host t',
      `  IdentityFile ${join(files.dir, 'id_missing')}`,
      `  IdentityFile ${encrypted}`,
      `  IdentityFile ${good}`,
      '  ProxyJump gw',
      'Host gw',
      `  IdentityFile ${good}`,
    );
    const node = await SshNode.fromSshConfig('t', { file, transport });
    expect(node.toString()).toBe('root@gw->root@t');
    expect(parsed).toEqual([good, encrypted, good]);
  });

  it('uses a given gateway instead of the config’s ProxyJump', async () => {
    const gateway = new SshNode('bastion');
    const node = await SshNode.fromSshConfig('target', { file: await config(...lines), gateway });
    expect(node.toString()).toBe('root@bastion->root@target:2022');
  });

  it('does not canonicalize a host reached through a given gateway, as ssh -J', async () => {
    const file = await config(
      'Host bastion',
      '  CanonicalizeHostName no',
      'Host *',
      '  CanonicalizeHostName yes',
      '  CanonicalDomains example.invalid',
      '  CanonicalizeFallbackLocal no',
      'Host nohost',
      '  ProxyCommand nc %h %p',
    );
    const gateway = new SshNode('bastion');
    const node = await SshNode.fromSshConfig('nohost', { file, gateway });
    expect(node.toString()).toBe('root@bastion->root@nohost');
    await expect(SshNode.fromSshConfig('nohost', { file })).rejects.toMatchObject({
      code: SshErrorCode.SSH_CONFIG,
    });
  });

  it('refuses a proxied option that is not a boolean, in one line', async () => {
    const error = await resolveSshConfig('h', { proxied: 'yes' as unknown as boolean }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: SshErrorCode.INVALID_OPTION });
    expect((error as Error).message).toBe(
      'Cannot resolve the ssh config host "h": option proxied must be true or false, not "yes"',
    );
  });

  it('gives a direct node for an alias the config does not know', async () => {
    const node = await SshNode.fromSshConfig('fit01', { file: join(files.dir, 'no-such-config') });
    expect(node.toString()).toBe('root@fit01');
    expect(node.distance()).toBe(1);
  });

  it('rejects what resolveSshConfig rejects', async () => {
    const file = await config('Host h', '  ProxyCommand nc %h %p');
    await expect(SshNode.fromSshConfig('h', { file })).rejects.toMatchObject({
      code: SshErrorCode.SSH_CONFIG,
    });
  });
});
