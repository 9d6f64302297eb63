/**
 * resolveSshConfig against OpenSSH itself: the same config file given to `ssh -G -F file
 * alias`, and our answer compared with ssh's on every field we expose (HostName, User,
 * Port, IdentityFile, IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking,
 * ConnectTimeout, and the ProxyJump route hop by hop).
 *
 * The first group covers the ground (Host, Match, Include, tokens, ProxyJump); then one
 * test per difference found between the two, each fixed in ssh-config/ and kept fixed here.
 * Skipped, with the reason printed, on a machine without the ssh client.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshError } from '../src/errors.js';
import { type ResolvedHost, resolveSshConfig } from '../src/ssh-config.js';

const run = promisify(execFile);

const sshVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
const hasSsh = sshVersion.error === undefined && sshVersion.status === 0;
if (!hasSsh)
  console.warn('ssh-config-openssh.test.ts skipped: no ssh client here to compare with (ssh -V failed)');

/** ssh takes `~` from the passwd entry, we from $HOME (so that HOME isolates a test): compare only where they agree. */
const sameHome = (() => {
  try {
    return userInfo().homedir === homedir();
  } catch {
    return false;
  }
})();

let dir: string;
let count = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-ssh-openssh-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config file (lines joined) and returns its path. */
async function config(...lines: string[]): Promise<string> {
  const file = join(dir, `config-${++count}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** What ssh's command line fixes for a hop: `-l`, `-p`, `-J`. */
interface Flags {
  user?: string | undefined;
  port?: number | undefined;
  jump?: string | undefined;
}

/** The fields we compare, in the form both sides can give. */
interface View {
  hostname: string;
  user: string;
  port: number;
  identityFiles: string[];
  identitiesOnly: boolean;
  userKnownHostsFile: string;
  strictHostKeyChecking: string;
  connectTimeout: number | undefined;
  jump: View[];
}

/** The options of `ssh -G -F file [-l][-p][-J] alias`, keys lower-cased, repeated keys in a list. */
async function sshG(
  file: string,
  alias: string,
  flags: Flags = {},
  extra: string[] = [],
): Promise<Map<string, string[]>> {
  const args = ['-G', '-F', file, ...extra];
  if (flags.user !== undefined) args.push('-l', flags.user);
  if (flags.port !== undefined) args.push('-p', String(flags.port));
  if (flags.jump !== undefined) args.push('-J', flags.jump);
  // a SHELL that is no shell: should a Match exec be reached, ssh runs nothing
  const { stdout } = await run('ssh', [...args, alias], { env: { ...process.env, SHELL: '/bin/false' } });
  const options = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space);
    options.set(key, [...(options.get(key) ?? []), line.slice(space + 1)]);
  }
  return options;
}

function one(options: Map<string, string[]>, key: string): string {
  const value = options.get(key)?.[0];
  if (value === undefined) throw new Error(`ssh -G printed no ${key}`);
  return value;
}

/**
 * ssh's own expansion of paths (IdentityFile and UserKnownHostsFile take the same tokens):
 * ask it, through -o, one path at a time (it prints a list joined by blanks).
 */
async function sshExpand(file: string, alias: string, flags: Flags, paths: string[]): Promise<string[]> {
  const expanded: string[] = [];
  for (const path of paths) {
    const options = await sshG(file, alias, flags, ['-o', `UserKnownHostsFile="${path}"`]);
    expanded.push(one(options, 'userknownhostsfile'));
  }
  return expanded;
}

/** OpenSSH 9.2's default identity files, printed when the config names none. */
const DEFAULT_IDENTITY = /^~\/\.ssh\/id_(rsa|ecdsa|ecdsa_sk|ed25519|ed25519_sk|xmss|dsa)$/;

/** A ProxyJump item as ssh's parse_jump splits it. */
function jumpItem(text: string): { user: string | undefined; host: string; port: number | undefined } {
  const uri = /^ssh:\/\/(?:([^@]*)@)?(\[[^\]]+\]|[^:/]+?)\.?(?::(\d*))?\/?$/.exec(text);
  const plain = /^(?:(.*)@)?(\[[^\]]+\]|[^:@]+)(?::(\d*))?$/.exec(text);
  const match = text.startsWith('ssh://') ? uri : plain;
  if (match === null) throw new Error(`cannot split ProxyJump item ${text}`);
  const user = match[1];
  return {
    user: user !== undefined && text.startsWith('ssh://') ? decodeURIComponent(user) : user,
    host: (match[2] as string).replace(/^\[|\]$/g, ''),
    port: match[3] === undefined || match[3] === '' ? undefined : Number(match[3]),
  };
}

/**
 * OpenSSH's answer for one host, and its ProxyJump route built as ssh runs it (checked
 * against `ssh -v`'s "Executing proxy command" lines): ssh expands `%h %n %p %r` of the
 * target in `ssh -l user -p port -J first,… -W … last`, and the first hop, run without
 * -J, follows its own ProxyJump.
 */
async function openssh(file: string, alias: string, flags: Flags = {}): Promise<View> {
  const options = await sshG(file, alias, flags);
  const hostname = one(options, 'hostname');
  const user = one(options, 'user');
  const port = Number(one(options, 'port'));
  let identity = options.get('identityfile') ?? [];
  if (identity.every((path) => DEFAULT_IDENTITY.test(path))) identity = [];
  const identityFiles = [...new Set(await sshExpand(file, alias, flags, identity))];
  const timeout = one(options, 'connecttimeout');
  const view: View = {
    hostname,
    user,
    port,
    identityFiles,
    identitiesOnly: one(options, 'identitiesonly') === 'yes',
    userKnownHostsFile: one(options, 'userknownhostsfile').split(' ')[0] as string,
    strictHostKeyChecking: one(options, 'stricthostkeychecking'),
    connectTimeout: timeout === 'none' || timeout === '0' ? undefined : Number(timeout) * 1000,
    jump: [],
  };
  const proxy = options.get('proxyjump')?.[0];
  if (proxy === undefined || flags.jump !== undefined) return view;
  const tokens: Record<string, string> = { h: hostname, n: alias, p: String(port), r: user, '%': '%' };
  const expanded = proxy.replace(/%(.)/g, (whole, token: string) => tokens[token] ?? whole);
  const items = expanded.split(',');
  const last = jumpItem(items.at(-1) as string);
  const earlier = items.slice(0, -1).join(',');
  const hop = await openssh(file, last.host, {
    user: last.user,
    port: last.port,
    jump: earlier === '' ? undefined : earlier,
  });
  const before = earlier === '' ? [] : await routeOf(file, items.slice(0, -1));
  view.jump = [...before, { ...hop, jump: before }];
  return view;
}

/** The route `-J items` gives: the first item with its own route, each later one through those before. */
async function routeOf(file: string, items: string[]): Promise<View[]> {
  const first = jumpItem(items[0] as string);
  const outermost = await openssh(file, first.host, { user: first.user, port: first.port });
  let route = [...outermost.jump, outermost];
  for (const [index, text] of items.slice(1).entries()) {
    const item = jumpItem(text);
    const hop = await openssh(file, item.host, {
      user: item.user,
      port: item.port,
      jump: items.slice(0, index + 1).join(','),
    });
    route = [...route, { ...hop, jump: route }];
  }
  return route;
}

/** Our answer in the same form: the defaults ssh prints where the config says nothing filled in. */
function ours(host: ResolvedHost, login: string): View {
  const home = homedir();
  return {
    hostname: host.hostname,
    user: host.user ?? login,
    port: host.port ?? 22,
    identityFiles: host.identityFiles,
    identitiesOnly: host.identitiesOnly,
    userKnownHostsFile:
      host.userKnownHostsFile === undefined
        ? join(home, '.ssh', 'known_hosts')
        : host.userKnownHostsFile === '/dev/null'
          ? 'none'
          : host.userKnownHostsFile,
    strictHostKeyChecking: { strict: 'true', off: 'false', 'accept-new': 'accept-new', none: 'ask' }[
      host.strictHostKeyChecking ?? 'none'
    ],
    connectTimeout: host.connectTimeout,
    jump: host.jump.map((hop) => ours(hop, login)),
  };
}

/** ssh's `ask` is our strict (nobody to ask), so an explicit ask reads as ssh's true. */
function normalize(view: View, lines: readonly string[]): View {
  const ask = lines.some((line) => /stricthostkeychecking[\s=]+ask/i.test(line));
  return {
    ...view,
    strictHostKeyChecking: ask && view.strictHostKeyChecking === 'ask' ? 'true' : view.strictHostKeyChecking,
    jump: view.jump.map((hop) => normalize(hop, lines)),
  };
}

const login = (() => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
})();

/** Resolves `alias` both ways through a config of these lines and expects the same answer. */
async function agree(alias: string, ...lines: string[]): Promise<View> {
  const file = await config(...lines);
  const theirs = normalize(await openssh(file, alias), lines);
  const mine = ours(await resolveSshConfig(alias, { file }), login);
  expect(mine).toEqual(theirs);
  return mine;
}

/** Both refuse the config: ssh -G exits non-zero, we throw an SshError. */
async function bothRefuse(alias: string, ...lines: string[]): Promise<SshError> {
  const file = await config(...lines);
  await expect(sshG(file, alias)).rejects.toThrow();
  const error = await resolveSshConfig(alias, { file }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SshError);
  return error as SshError;
}

describe.skipIf(!hasSsh)('resolveSshConfig agrees with ssh -G', () => {
  it('on Host patterns, negation and first-value-wins', async () => {
    const lines = [
      'Host web? db-*.lab !db-secret.lab',
      '  User patterned',
      '  Port 2201',
      'Host *.example.org !bad.example.org',
      '  User wild',
      'Host *',
      '  User other',
      '  Port 2299',
      '  ConnectTimeout 1m30s',
    ];
    for (const alias of [
      'web1',
      'web',
      'web12',
      'db-1.lab',
      'db-secret.lab',
      'a.example.org',
      'bad.example.org',
    ]) {
      await agree(alias, ...lines);
    }
  });

  it('on keyword syntax: case, key=value, quotes, escapes and comments', async () => {
    await agree(
      'web',
      '# a comment',
      'HOST=web',
      '  hostname = Web.Example.ORG   # trailing comment',
      '  uSeR="alice"',
      '  PORT\t2222',
      "  IdentityFile '/keys/a b'",
      '  IdentityFile /keys/c\\ d',
      '  IdentityFile /keys/e#f',
      '  StrictHostKeyChecking accept-new',
      '  IdentitiesOnly true',
    );
  });

  it('on Match host, originalhost, user, localuser, all and negation', async () => {
    const lines = [
      'Host short',
      '  HostName %h.Lab.Example.org',
      'Match host *.lab.example.org !host=other',
      '  User by-host',
      'Match originalhost SHORT',
      '  IdentityFile /keys/short',
      `Match localuser ${login}`,
      '  IdentityFile /keys/me',
      `Match !localuser ${login}`,
      '  IdentityFile /keys/not-me',
      'Match user by-host',
      '  Port 2001',
      'Match all',
      '  StrictHostKeyChecking no',
    ];
    await agree('short', ...lines);
    await agree('other', ...lines);
  });

  it('on Include: globs in lexical order, conditional includes, Host blocks ending with the file', async () => {
    const conf = join(dir, 'conf.d');
    await mkdir(conf, { recursive: true });
    await writeFile(join(conf, '20-web.conf'), 'Host web\n  User from-20\n  Port 2020\n');
    await writeFile(join(conf, '10-web.conf'), 'Host web\n  User from-10\n');
    await writeFile(join(conf, 'other.conf'), 'Host other\n  User other\n');
    const lines = [
      'Host cond',
      `  Include ${conf}/other.conf`,
      `Include ${conf}/*.conf`,
      'User after-include',
      'Host *',
      '  Port 22',
    ];
    for (const alias of ['web', 'cond', 'other', 'else']) await agree(alias, ...lines);
  });

  it.skipIf(!sameHome)('on tokens and ~ in IdentityFile and UserKnownHostsFile', async () => {
    await agree(
      'fit01',
      'Host fit*',
      '  HostName %h.lab',
      '  User alice',
      '  Port 2222',
      '  IdentityFile ~/.ssh/id_%h',
      '  IdentityFile %d/keys/%r-%u-%n-%p-%l-%L-%i-100%%',
      '  UserKnownHostsFile ~/kh/%h:%p /tmp/kh2',
      'Host *',
      '  IdentityFile ~/.ssh/id_%h',
      '  IdentityFile /keys/common',
    );
    await agree('h', 'IdentityFile /keys/%r', 'UserKnownHostsFile none');
  });

  it('on ProxyJump chains, hop by hop', async () => {
    const lines = [
      'Host target',
      '  ProxyJump alice@outer:2200,ssh://bob@inner:2300',
      'Host outer',
      '  HostName outer.example.org',
      '  User ignored',
      '  ProxyJump bastion',
      'Host inner',
      '  HostName 10.0.0.%h',
      '  ProxyJump ignored-because-given',
      'Host bastion',
      '  HostName Bastion.Example.org',
      '  User bast',
      'Match user bast',
      '  Port 2022',
      'Host direct',
      '  ProxyJump none',
      'Host *',
      '  ConnectTimeout 7',
    ];
    const target = await agree('target', ...lines);
    expect(target.jump.map((hop) => hop.hostname)).toEqual([
      'bastion.example.org',
      'outer.example.org',
      '10.0.0.inner',
    ]);
    expect((await agree('direct', ...lines)).jump).toEqual([]);
  });

  it('on blanks, \\r line ends, quoted # and patterns, IPv6 and url-encoded jump items', async () => {
    await agree('h', 'Host "h" other\r', '  HostName\t= "a#b.example"\r', '  IdentityFile /k/%%h\r');
    await agree('t', 'Host t', '  ProxyJump ssh://us%40er@gw6:2022/,[::1]', '  ConnectTimeout 0');
  });

  it('on relative Includes, taken in ~/.ssh of $HOME', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    await mkdir(join(home, '.ssh', 'config.d'), { recursive: true });
    await writeFile(join(home, '.ssh', 'config.d', 'lab'), 'Host lab\n  HostName lab.example.org\n');
    const file = await config('Include config.d/* missing-file', 'Include ~/.ssh/nothing/*');
    const savedHome = process.env.HOME;
    process.env.HOME = home; // ssh globs Include with GLOB_TILDE, which reads $HOME; so do we
    try {
      const theirs = await sshG(file, 'lab');
      const mine = await resolveSshConfig('lab', { file });
      expect(mine.hostname).toBe(one(theirs, 'hostname'));
      expect(mine.hostname).toBe('lab.example.org');
    } finally {
      process.env.HOME = savedHome;
    }
  });

  it('on ProxyCommand none against a later ProxyJump', async () => {
    await agree('h', 'Host h', '  ProxyCommand none', 'Host *', '  ProxyJump gw');
    await agree('h', 'Host h', '  ProxyJump gw', 'Host h', '  ProxyCommand nc %h %p');
  });
});

describe.skipIf(!hasSsh)('differences found with ssh -G, fixed', () => {
  it('Port takes a service name, and a leading +, as a2port does', async () => {
    expect((await agree('h', 'Host h', '  Port ssh', '  ProxyJump gw:ssh')).port).toBe(22);
    expect((await agree('h', 'Host h', '  Port +2022')).port).toBe(2022);
  });

  it('a Host pattern of ! alone matches nothing, and is no error (but "" is)', async () => {
    expect((await agree('h', 'Host h !', '  User x')).user).toBe('x');
    expect((await bothRefuse('h', 'Host "" h', '  User y')).message).toMatch(/line 1: empty Host pattern/);
  });

  it('a ProxyJump item host: with an empty port has no port', async () => {
    expect((await agree('h', 'Host h', '  ProxyJump gw:')).jump.map((hop) => hop.port)).toEqual([22]);
  });

  it('a ProxyJump URI needs a valid domain name', async () => {
    for (const item of ['ssh://-gw', 'ssh://gw..lab']) {
      const error = await bothRefuse('h', 'Host h', `  ProxyJump ${item}`);
      expect(error.message).toMatch(/line 2: bad ProxyJump item/);
    }
    const jump = (await agree('h', 'Host h', '  ProxyJump ssh://gw_1.Lab.:,ssh://gw2:')).jump;
    expect(jump.map((hop) => `${hop.hostname}:${hop.port}`)).toEqual(['gw_1.lab:22', 'gw2:22']);
  });

  it('%C is the hash of %l%h%p%r', async () => {
    await agree('h', 'Host h', '  User bob', '  Port 2200', '  HostName H.Example', '  IdentityFile /k/%C');
  });

  it('%k is HostKeyAlias, else the alias', async () => {
    await agree('h', 'Host h', '  HostKeyAlias kalias', '  UserKnownHostsFile /k/%k');
    await agree('h', 'Host h', '  UserKnownHostsFile /k/%k');
  });

  it('ProxyJump items take %h %n %p %r of the host they reach', async () => {
    const view = await agree(
      'h',
      'Host h',
      '  User a',
      '  Port 2200',
      '  HostName H.lab',
      '  ProxyJump %r@gw-%n:2,jump-%h-%p',
    );
    expect(view.jump.map((hop) => `${hop.user}@${hop.hostname}`)).toEqual([
      'a@gw-h',
      `${login}@jump-h.lab-2200`,
    ]);
  });

  it('Match final makes a final pass, where Host lines match the host name', async () => {
    const lines = [
      'Host h',
      '  HostName Real.Lab',
      'Match final',
      '  User fin',
      '  HostName ignored-in-the-final-pass',
      'Host real.lab',
      '  Port 2001',
      'Host h',
      '  IdentityFile /k/h',
    ];
    expect(await agree('h', ...lines)).toMatchObject({ hostname: 'real.lab', user: 'fin', port: 2001 });
    // asked for from a block that does not match, as ssh does
    await agree(
      'h',
      'Match host other final',
      '  User x',
      'Host real.lab',
      '  Port 2002',
      'Host h',
      '  HostName real.lab',
    );
    await agree('h', 'Match !final', '  User not-final');
  });

  it('Match canonical matches in the final pass, which CanonicalizeHostName also asks for', async () => {
    await agree('h', 'Match canonical', '  User canon', 'Match final', '  Port 2003');
    await agree('h', 'CanonicalizeHostName yes', 'Match canonical', '  User canon');
    await agree('h', 'CanonicalizeHostName no', 'Match canonical host h', '  User canon');
  });

  it('CanonicalizeHostName tries CanonicalDomains, and refuses a name none resolves without fallback', async () => {
    // .invalid never resolves (RFC 2606): no network needed for either answer
    const lines = ['CanonicalizeHostName yes', 'CanonicalDomains example.invalid'];
    expect((await agree('nohost', ...lines, 'Match canonical', '  User canon')).user).toBe('canon');
    await agree('a.b.c', ...lines, 'CanonicalizeFallbackLocal no'); // more dots than CanonicalizeMaxDots: left alone
    await agree('a.b', ...lines, 'CanonicalizeMaxDots 0', 'CanonicalizeFallbackLocal no');
    const error = await bothRefuse('nohost', ...lines, 'CanonicalizeFallbackLocal no');
    expect(error.message).toMatch(/cannot canonicalize host "nohost" .*CanonicalizeFallbackLocal is no/);
    // a ProxyJump keeps the name for the jump host to resolve, unless always
    const proxied = ['Host nohost', '  ProxyJump gw', 'Host gw', '  CanonicalizeHostName no', 'Host *'];
    await agree('nohost', ...proxied, ...lines, 'CanonicalizeFallbackLocal no');
    await bothRefuse('nohost', ...proxied, 'CanonicalizeHostName always', 'CanonicalizeFallbackLocal no');
  });

  it('Include expands no % token nor environment variable', async () => {
    const inc = join(dir, 'inc');
    await mkdir(inc, { recursive: true });
    await writeFile(join(inc, '%h.conf'), 'User literal\n');
    await writeFile(join(inc, 'h.conf'), 'User expanded\n');
    await writeFile(join(inc, `\${HOME}.conf`), 'User dollar\n');
    expect((await agree('h', `Include ${inc}/%h.conf`)).user).toBe('literal');
    expect((await agree('h', `Include ${inc}/\${HOME}.conf`)).user).toBe('dollar');
  });

  it('an empty argument is refused', async () => {
    const error = await bothRefuse('h', 'Host h', '  HostName ""');
    expect(error.message).toMatch(/line 2: empty argument after keyword "hostname"/);
  });
});
