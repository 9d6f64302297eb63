/**
 * The bed's non-root users and their sudo rules (for the tests of `node.run(…, { sudo })`).
 *
 * - `jgtb-sudo`: a login user whose sudo needs its password (set afresh with `chpasswd` at each start),
 *   with bash as login shell (bash runs the last command of `-c` in place of the shell);
 * - `jgtb-nopw`: a login user with a NOPASSWD rule, with /bin/sh (dash) as login shell;
 * - `jgtb-runas`: a login user that may run commands as `nobody` only (NOPASSWD), /bin/sh.
 *
 * Both are made with the comment {@link USER_COMMENT} (a user of that name without it is not ours and is
 * never touched), log in with the bed's client keys (the bed's `authorized_keys`, made readable to them),
 * and get their rules from a sudoers file of the bed's own ({@link SUDOERS_FILE}, checked with `visudo -cf`
 * before it is put in place). The bed's teardown removes that file, ends the users' processes and deletes
 * the users; setup is idempotent (users left by a crashed run are reused, their password reset).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';

/** The sudo users of the bed, in {@link TestbedInfo}. */
export interface TestbedSudoUsers {
  /** A user whose sudo asks for `password` (any command, as any user). */
  withPassword: { username: string; password: string };
  /** A user with a NOPASSWD rule (any command, as any user). */
  noPassword: { username: string };
  /** A user that may run any command as `nobody` only, without a password (not as root). */
  runAsNobody: { username: string };
}

export const SUDOERS_FILE = '/etc/sudoers.d/jobgraph-testbed-users';
export const USER_COMMENT = 'jobgraph-testbed';
const USERS = ['jgtb-sudo', 'jgtb-nopw', 'jgtb-runas'] as const;
/** Each user's login shell: both kinds the sudo script must work under. */
const SHELLS: Record<(typeof USERS)[number], string> = {
  'jgtb-sudo': '/bin/bash',
  'jgtb-nopw': '/bin/sh',
  'jgtb-runas': '/bin/sh',
};

type Runner = (
  step: string,
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; input?: string },
) => Promise<string>;
type Terminator = (pids: readonly number[], what: string) => Promise<void>;

/** The passwd entry of `name`, or null. */
async function passwdEntry(name: string): Promise<{ uid: number; comment: string } | null> {
  const text = await readFile('/etc/passwd', 'utf8');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name) return { uid: Number(fields[2]), comment: fields[4] ?? '' };
  }
  return null;
}

/** Makes (or reuses) the users, their keys and the sudoers file; returns them for the bed's info. */
export async function setupSudoUsers(
  workDir: string,
  authorizedKeys: string,
  run: Runner,
): Promise<TestbedSudoUsers> {
  const password = `jg-${randomBytes(12).toString('hex')}`;
  for (const name of USERS) {
    const entry = await passwdEntry(name);
    if (entry === null) {
      await run(`adding the user ${name}`, 'useradd', ['-m', '-s', SHELLS[name], '-c', USER_COMMENT, name], {
        timeoutMs: 30_000,
      });
    } else if (entry.comment !== USER_COMMENT) {
      throw new Error(`testbed: a user ${name} exists but is not the bed's (comment not ${USER_COMMENT})`);
    }
    // set at each start: a user left by an older bed keeps the shell it had
    await run(`setting the login shell of ${name}`, 'usermod', ['-s', SHELLS[name], name], {
      timeoutMs: 10_000,
    });
    // An unlocked password: sshd (UsePAM no) refuses even key logins to a locked account.
    const own = name === 'jgtb-sudo' ? password : randomBytes(12).toString('hex');
    await run(`setting the password of ${name}`, 'chpasswd', [], {
      timeoutMs: 10_000,
      input: `${name}:${own}\n`,
    });
  }
  // sshd reads AuthorizedKeysFile as the user: the work dir traversable (not listable), the file readable.
  await run('opening the work dir to the sudo users', 'chmod', ['0711', workDir], { timeoutMs: 10_000 });
  await run('opening authorized_keys', 'chmod', ['0644', authorizedKeys], { timeoutMs: 10_000 });

  const rules = [
    '# jobgraph test bed (test/testbed/sudo-users.ts): removed when the bed stops',
    'jgtb-sudo ALL=(ALL:ALL) ALL',
    'jgtb-nopw ALL=(ALL:ALL) NOPASSWD: ALL',
    'jgtb-runas ALL=(nobody) NOPASSWD: ALL',
    '',
  ].join('\n');
  // A name with a dot: sudo's @includedir skips it while it is being checked.
  const temporary = `${SUDOERS_FILE}.new`;
  await writeFile(temporary, rules, { mode: 0o440 });
  try {
    await run('checking the sudoers rules', 'visudo', ['-cf', temporary], { timeoutMs: 10_000 });
    await rename(temporary, SUDOERS_FILE);
  } finally {
    await rm(temporary, { force: true });
  }
  return {
    withPassword: { username: 'jgtb-sudo', password },
    noPassword: { username: 'jgtb-nopw' },
    runAsNobody: { username: 'jgtb-runas' },
  };
}

/** Processes whose real uid is `uid`. */
async function processesOf(uid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const match = /^Uid:\s+(\d+)/m.exec(status);
    if (match && Number(match[1]) === uid) found.push(Number(entry));
  }
  return found;
}

/** Removes the sudoers file and the bed's users (after ending their processes); touches no other user. */
export async function removeSudoUsers(run: Runner, terminate: Terminator): Promise<void> {
  await rm(SUDOERS_FILE, { force: true });
  await rm(`${SUDOERS_FILE}.new`, { force: true });
  for (const name of USERS) {
    const entry = await passwdEntry(name);
    if (entry === null || entry.comment !== USER_COMMENT || entry.uid === 0) continue;
    await terminate(await processesOf(entry.uid), `stopping the processes of ${name}`);
    await run(`deleting the user ${name}`, 'userdel', ['-r', name], { timeoutMs: 30_000 }).catch(
      async (error: unknown) => {
        // userdel -r complains (exit 12) when the mail spool is missing; the user is gone all the same.
        if ((await passwdEntry(name)) !== null) throw error;
      },
    );
  }
}

/** Is sudo (and visudo) missing? */
export function sudoMissing(): boolean {
  return !existsSync('/usr/bin/sudo') || !existsSync('/usr/sbin/visudo');
}
