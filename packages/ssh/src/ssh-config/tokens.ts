/**
 * Expansion of `~`, `${VAR}` and `%` tokens (ssh_config(5) TOKENS), with the values ssh
 * gives them: HostName takes `%h` only; paths (IdentityFile, UserKnownHostsFile)
 * take `%C %d %h %i %k %L %l %n %p %r %u`; ProxyJump takes `%h %k %n %p %r` (OpenSSH 9.2
 * refuses the others there); Include takes none (OpenSSH 9.2 globs its argument as
 * written, `~` aside).
 */
import { createRequire } from 'node:module';
import { hostname as localHostName } from 'node:os';
import { ConfigProblem, show, type Where } from './problem.js';
import type { Session, Subject } from './session.js';
import type { Placed, Settings } from './settings.js';

/** A token's value, or a function computing it when it is used (`%C` hashes). */
type Tokens = Record<string, string | (() => string)>;

/** How {@link expandTokens} treats a value beyond its tokens. */
export interface ExpandOptions {
  /** Whether `${VAR}` is expanded (else left as written). @default true */
  readonly variables?: boolean;
  /** The text messages quote after `what` (a ProxyJump item, when its user or host is expanded). @default the value */
  readonly shown?: string;
}

/**
 * Replaces `%x` tokens and (when `what` takes them) `${VAR}` environment variables in one
 * pass: replaced values are not scanned again.
 * @param what - what the value is, for messages (`IdentityFile`), followed there by the value quoted
 * @throws ConfigProblem for a token `what` does not take, or an unset variable
 */
export function expandTokens(
  value: string,
  tokens: Tokens,
  where: Where | undefined,
  what: string,
  options: ExpandOptions = {},
): string {
  const { variables = true, shown = value } = options;
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|%(.?)/gs,
    (whole, variable?: string, token?: string) => {
      if (variable !== undefined) {
        if (!variables) return whole;
        const env = process.env[variable];
        if (env === undefined) {
          throw new ConfigProblem(
            `environment variable ${variable} of ${what} ${show(shown)} is not set`,
            where,
          );
        }
        return env;
      }
      if (token === '%') return '%';
      const replacement = token === undefined ? undefined : tokens[token];
      if (replacement === undefined) {
        throw new ConfigProblem(`unsupported token %${token ?? ''} in ${what} ${show(shown)}`, where);
      }
      return typeof replacement === 'function' ? replacement() : replacement;
    },
  );
}

/** `%h` and `%%` in HostName: the only tokens ssh allows there (and no `${VAR}`). */
export function expandHostName(hostname: Placed<string>, alias: string): string {
  return expandTokens(hostname.value, { h: alias }, hostname.where, 'HostName', { variables: false });
}

/** The host name `Match host` sees: HostName as set so far (`%h` expanded), else the alias. */
export function currentHost(subject: Subject, settings: Settings): string {
  return settings.hostname === undefined ? subject.alias : expandHostName(settings.hostname, subject.alias);
}

/** What the tokens of one host are made of. */
export interface TokenHost {
  readonly alias: string;
  /** Expanded and lower-cased. */
  readonly hostname: string;
  readonly user: string | undefined;
  readonly port: number | undefined;
  readonly hostKeyAlias?: string | undefined;
}

/** `%k`: HostKeyAlias lower-cased, as ssh lower-cases it when it reads it; else the alias as given. */
function keyAlias(host: TokenHost): string {
  return host.hostKeyAlias?.toLowerCase() ?? host.alias;
}

/** SHA-1, loaded only by a config that uses `%C` (node:crypto costs ~14 ms to import). */
function sha1Hex(text: string): string {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha1').update(text).digest('hex');
}

/** The tokens of paths (IdentityFile, UserKnownHostsFile) for a host. */
export function pathTokens(session: Session, host: TokenHost): Tokens {
  const local = localHostName();
  const port = String(host.port ?? 22);
  const user = host.user ?? session.localUser;
  return {
    // OpenSSH 9.2's connection hash: %l%h%p%r
    C: () => sha1Hex(`${local}${host.hostname}${port}${user}`),
    d: session.home,
    h: host.hostname,
    i: String(process.getuid?.() ?? ''),
    k: keyAlias(host),
    L: local.split('.')[0] ?? local,
    l: local,
    n: host.alias,
    p: port,
    r: user,
    u: session.localUser,
  };
}

/**
 * The tokens of ProxyJump items: those of the host being reached through the jump, that
 * OpenSSH 9.2 expands in the command it builds from the items (it refuses the others).
 */
export function jumpTokens(session: Session, host: TokenHost): Tokens {
  return {
    h: host.hostname,
    k: keyAlias(host),
    n: host.alias,
    p: String(host.port ?? 22),
    r: host.user ?? session.localUser,
  };
}

/**
 * `~` and `~/x` (and `~login/x` for the local login), then tokens (none for Include).
 * @throws ConfigProblem for `~other`, a bad token or an unset variable
 */
export function expandPath(
  value: string,
  where: Where | undefined,
  session: Session,
  tokens: Tokens | undefined,
  what: string,
): string {
  let path = value;
  const tilde = /^~([^/]*)(?=\/|$)/.exec(value);
  if (tilde !== null) {
    const login = tilde[1] ?? '';
    if (login !== '' && login !== session.localUser) {
      throw new ConfigProblem(`${what} ${show(value)}: ~${login} is not supported, only ~ and ~/`, where);
    }
    path = session.home + value.slice(tilde[0].length);
  }
  return tokens === undefined ? path : expandTokens(path, tokens, where, what);
}
