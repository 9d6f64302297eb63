/**
 * Commands run under `sudo`, on either kind of node, without ever showing the password.
 *
 * The command line sent is a small POSIX sh script. With a password, its first line of stdin
 * is the password: the shell reads it with `read` (a builtin: it is never in a process's
 * arguments or environment), hands it to `sudo -S -p '' true` through `printf` (a builtin
 * too), and forgets it; the rest of stdin is the command's. That first sudo checks
 * the password and the user's right to run as the target user, and leaves a ticket that
 * the second, `sudo -n … -- sh -c COMMAND`, uses without asking (sudo keys its tickets by
 * the parent process when there is no terminal, and both have the same parent shell).
 * Without a password, `sudo -n true` checks that none is needed. Either way `-n`: sudo never
 * waits on a prompt, so a wrong or missing password fails at once rather than hanging.
 *
 * The script reports how the check went on stderr in a frame the client takes off the output
 * (`\x1eJGSUDO<verdict>\x1e`, after the PID frame of remote-process.ts): `ok`, `missing` (no
 * sudo on the host), `password` (a password is needed), `refused` (wrong password, or not
 * allowed), `ticket` (the password was taken but no ticket kept: `timestamp_timeout=0`). The
 * command's processes then belong to root (or the target user), which the login user cannot signal: killing a sudo command runs the kill script under sudo too, as the
 * same target user (a rule may allow only that one).
 *
 * sudo runs `sh -c COMMAND`: a rule that allows only some commands (`/usr/bin/psql`) does not
 * fit, and is reported as `password` (not allowed without a password).
 */
import { Readable } from 'node:stream';
import { commandInMessage, SshError, SshErrorCode } from './errors.js';
import { shellQuote } from './ssh-node/shell.js';

/** `sudo` of a command: `true` for root without a password, or who to run as and the password. */
export type SudoRequest = true | SudoOptions;

/** How to run a command under sudo. */
export interface SudoOptions {
  /** Run as this user (`sudo -u`). @default 'root' */
  readonly user?: string;
  /** The login user's sudo password, fed through stdin (never in a command line, log, event or error). @default none: sudo must not ask for one (NOPASSWD) */
  readonly password?: string;
}

/** The frame tag of the sudo verdict. */
export const SUDO_TAG = 'JGSUDO';

/** Turns off a trace (`set -x`) the login shell's startup files may have turned on, silently. */
const NO_TRACE = '{ set +x; } 2>/dev/null';

/** The verdicts the script reports. */
export type SudoVerdict = 'ok' | 'missing' | 'password' | 'refused' | 'ticket';

const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$|^#\d+$/;

/**
 * The sudo options of a request, checked; undefined when the command does not use sudo.
 * @throws SshError `ERR_INVALID_OPTION`: a value that is not `true` or `{ user?, password? }`, a bad user
 * name, a password with a newline, a password together with a pty (the terminal would echo it)
 */
export function checkSudo(sudo: unknown, pty: boolean | undefined): SudoOptions | undefined {
  if (sudo === undefined || sudo === false) return undefined;
  if (sudo === true) return {};
  const fail = (expected: string) =>
    new SshError(SshErrorCode.INVALID_OPTION, `Invalid run option sudo: expected ${expected}`);
  if (typeof sudo !== 'object' || sudo === null || Array.isArray(sudo)) {
    throw fail(`true or { user?, password? }, got ${typeof sudo}`);
  }
  for (const key of Object.keys(sudo)) {
    if (key !== 'user' && key !== 'password')
      throw fail(`only user and password, got ${JSON.stringify(key)}`);
  }
  const { user, password } = sudo as SudoOptions;
  if (user !== undefined && (typeof user !== 'string' || !USER_NAME.test(user))) {
    throw fail(
      `a user name or #uid as sudo.user, got ${typeof user === 'string' ? JSON.stringify(user) : typeof user}`,
    );
  }
  if (password !== undefined) {
    // the password itself is never shown, not even in this message
    if (typeof password !== 'string' || password === '' || /[\r\n]/.test(password)) {
      throw fail('a non-empty one-line string as sudo.password');
    }
    if (pty === true) {
      throw fail(
        'no password together with pty: true (the terminal would echo it); use a NOPASSWD rule or no pty',
      );
    }
  }
  return sudo as SudoOptions;
}

function verdict(value: SudoVerdict): string {
  return `printf '\\036${SUDO_TAG}${value}\\036' >&2`;
}

/**
 * The script that checks sudo, reports its verdict, then runs `script` (the command with its
 * environment: sudo's env_reset would drop variables exported before it) under sudo through
 * `sh -c`. With a password, the script's stdin must begin with {@link passwordLine}; the rest
 * of stdin is the command's.
 */
export function sudoCommandLine(script: string, sudo: SudoOptions): string {
  const asUser = sudo.user === undefined ? '' : ` -u ${shellQuote(sudo.user)}`;
  const check =
    sudo.password === undefined
      ? [`if ! sudo -n${asUser} true 2>/dev/null; then ${verdict('password')}; exit 1; fi`]
      : [
          'IFS= read -r jgpw || jgpw=',
          `if ! printf '%s\\n' "$jgpw" | sudo -S -p ''${asUser} true 2>/dev/null; then unset jgpw; ${verdict('refused')}; exit 1; fi`,
          'unset jgpw',
          // the command's sudo relies on the ticket the check leaves (none with timestamp_timeout=0)
          `if ! sudo -n${asUser} true 2>/dev/null; then ${verdict('ticket')}; exit 1; fi`,
        ];
  return [
    // a shell tracing commands (set -x in a startup file) would print the password's line
    NO_TRACE,
    `if ! command -v sudo >/dev/null 2>&1; then ${verdict('missing')}; exit 127; fi`,
    ...check,
    verdict('ok'),
    // Not the last command of the script: bash would run it in place of the shell (exec), and sudo, its
    // parent then sshd, would not find the ticket that the check left for this shell's children.
    `sudo -n${asUser} -- sh -c ${shellQuote(script)}`,
    'exit $?',
  ].join('\n');
}

/** The first line of stdin for a command run with a sudo password. */
export function passwordLine(sudo: SudoOptions): Buffer | undefined {
  return sudo.password === undefined ? undefined : Buffer.from(`${sudo.password}\n`);
}

/** The command's stdin with the password line first (a stream is read after it, as it comes). */
export function stdinWithPassword(
  sudo: SudoOptions,
  stdin: string | Buffer | Readable | undefined,
): string | Buffer | Readable | undefined {
  const first = passwordLine(sudo);
  if (first === undefined) return stdin;
  if (stdin === undefined) return first;
  if (!(stdin instanceof Readable)) return Buffer.concat([first, Buffer.from(stdin)]);
  return Readable.from(
    (async function* () {
      yield first;
      for await (const chunk of stdin) yield chunk as Buffer;
    })(),
    { objectMode: false },
  );
}

/**
 * `script` (a kill script) run under sudo, so that it may signal the command's processes; with
 * a password, its stdin must be {@link passwordLine}.
 */
export function underSudo(script: string, sudo: SudoOptions): string {
  // as the user the command runs as: a rule may allow that user only, not root
  const asUser = sudo.user === undefined ? '' : ` -u ${shellQuote(sudo.user)}`;
  if (sudo.password === undefined) return `${NO_TRACE}\nsudo -n${asUser} -- sh -c ${shellQuote(script)}`;
  return [
    NO_TRACE,
    'IFS= read -r jgpw || jgpw=',
    `printf '%s\\n' "$jgpw" | sudo -S -p ''${asUser} -- sh -c ${shellQuote(script)}`,
  ].join('\n');
}

/**
 * The error of a command whose sudo check failed (`ERR_SUDO`); never holds the password.
 */
export function sudoError(value: SudoVerdict, node: string, label: string, sudo: SudoOptions): SshError {
  const as = sudo.user === undefined ? 'root' : sudo.user;
  const why: Record<Exclude<SudoVerdict, 'ok'>, string> = {
    missing: 'sudo is not installed there (expected a sudo command on the PATH)',
    password:
      'sudo needs a password there, or the user may not run commands as ' +
      `${as} (expected a NOPASSWD rule, or give sudo: { password })`,
    refused: `sudo refused the password, or the user may not run commands as ${as}`,
    ticket:
      'sudo took the password but keeps no ticket for the command that follows ' +
      '(timestamp_timeout=0?: expected sudo to remember a password for a moment, or a NOPASSWD rule)',
  };
  return new SshError(
    SshErrorCode.SUDO,
    `Cannot run under sudo on ${node}: ${why[value as Exclude<SudoVerdict, 'ok'>]}: ${commandInMessage(label)}`,
    { node },
  );
}
