/**
 * OpenSSH's own answer for a host of a config file, from `ssh -G`, in the form our
 * resolveSshConfig's answer is compared with (ssh-config-openssh.test.ts).
 */
import { execFile, spawnSync } from 'node:child_process';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ResolvedHost } from '../src/ssh-config.js';

const run = promisify(execFile);

const sshVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
export const hasSsh = sshVersion.error === undefined && sshVersion.status === 0;
if (!hasSsh)
  console.warn('ssh-config-openssh.test.ts skipped: no ssh client here to compare with (ssh -V failed)');

/** ssh takes `~` from the passwd entry, we from $HOME (so that HOME isolates a test): compare only where they agree. */
export const sameHome = (() => {
  try {
    return userInfo().homedir === homedir();
  } catch {
    return false;
  }
})();

/** What ssh's command line fixes for a hop: `-l`, `-p`, `-J`. */
export interface Flags {
  user?: string | undefined;
  port?: number | undefined;
  jump?: string | undefined;
}

/** The fields we compare, in the form both sides can give. */
export interface View {
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
export async function sshG(
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

export function one(options: Map<string, string[]>, key: string): string {
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
 * against `ssh -v`'s "Executing proxy command" lines): ssh expands `%h %k %n %p %r` of the
 * target in `ssh -l user -p port -J first,… -W … last`, and the first hop, run without
 * -J, follows its own ProxyJump.
 */
export async function openssh(file: string, alias: string, flags: Flags = {}): Promise<View> {
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
  // %k: HostKeyAlias (which ssh -G prints lower-cased, as ssh uses it), else the alias as given
  const keyAlias = options.get('hostkeyalias')?.[0] ?? alias;
  const tokens: Record<string, string> = {
    h: hostname,
    k: keyAlias,
    n: alias,
    p: String(port),
    r: user,
    '%': '%',
  };
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
export function ours(host: ResolvedHost, login: string): View {
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
export function normalize(view: View, lines: readonly string[]): View {
  const ask = lines.some((line) => /stricthostkeychecking[\s=]+ask/i.test(line));
  return {
    ...view,
    strictHostKeyChecking: ask && view.strictHostKeyChecking === 'ask' ? 'true' : view.strictHostKeyChecking,
    jump: view.jump.map((hop) => normalize(hop, lines)),
  };
}

export const login = (() => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
})();
