/**
 * Killing a remote command on cancellation, for root too.
 *
 * sshd ignores SSH `signal` requests for root ("session signalling requires privilege
 * separation"), and closing a channel without a pty leaves the process running. But
 * sshd starts each session's shell in a session of its own (setsid), so the shell's
 * PID is also the process group of everything the command starts. We make the shell
 * print its PID on stderr, framed by ASCII record separators, before the command;
 * the client strips that frame from the output; on cancellation it closes the channel
 * and kills the process group over a second channel: TERM, then KILL after 2 s (under
 * sudo for a command run with sudo: sudo.ts).
 *
 * A dropped connection (a gateway or sshd killed, a link cut, the controller gone) is the
 * other way a command is left running: sshd does not signal a session's processes when
 * there is no pty, and jobgraph cannot reach them any more. {@link withHangUpGuard} makes
 * the command end itself then, as a terminal's hang-up would.
 */

import { randomBytes } from 'node:crypto';

const SEPARATOR = 0x1e;
/** The tag of the PID frame. */
export const PID_TAG = 'JGPID';

/**
 * The command as sent: the PID frame first, then the user's command, unchanged. What jobgraph
 * puts in front is one line (`;`, not newlines: the shell's line numbers were the command's plus
 * 4); the command starts on the next (remote-command.ts), so that a syntax error there shows the
 * user's line alone.
 */
export function withPidReport(command: string): string {
  return `printf '\\036${PID_TAG}%s\\036' "$$" >&2; ${command}`;
}

/**
 * The command with a hang-up guard in front: a background shell that reads the channel's
 * input, which the client keeps open and never writes, and when it meets its end while the
 * command still runs, sends SIGHUP to the command's process group (`kill 0`: its own group,
 * which sshd made for the session) — what a terminal's hang-up does to a pty session. The
 * input ends when sshd closes the session: the connection dropped, sshd was killed, or the
 * client closed the channel; after a normal exit the command's shell is gone first (sshd
 * reaps it before it reports the exit), so the guard just ends. The command itself reads
 * /dev/null, as it would without the guard; `nohup` keeps a process alive on purpose. The
 * guard is no job of the command's shell (`wait`, `jobs` and `%1` see only the command's own).
 * It costs two forks of the shell per command, and no CPU while it waits.
 *
 * Only for a command whose input jobgraph does not use (no `stdin`, no pty: a pty session
 * gets its hang-up from sshd). `tag` ({@link runTag}) goes in the guard's command line, for
 * {@link orphanKillScript} to recognise the command later.
 */
export function withHangUpGuard(command: string, tag: string): string {
  if (!/^jgrun-[0-9a-f]+$/.test(tag)) throw new Error(`not a run tag: ${tag}`);
  // one line (see withPidReport): the tag is a word of `:`, not a comment, which would hide what follows
  return [
    // the channel's input kept on fd 3 for the guard, the command's own is /dev/null
    'exec 3<&0 </dev/null',
    // stdout and stderr closed in the guard: sshd waits for their end before closing the channel;
    // started from a subshell that leaves at once, so that it is no job of the command's shell
    // (a bare `wait` in the command waited for it, for good; `%1` named it)
    '( { while read -r _; do :; done; kill -s 0 $$ 2>/dev/null && kill -s HUP 0; } <&3 3<&- >/dev/null 2>&1 & )',
    'exec 3<&-',
    `: ${tag}`,
    command,
  ].join('; ');
}

/** A tag of one command's run, unique enough to tell its processes from any other's. */
export function runTag(): string {
  return `jgrun-${randomBytes(8).toString('hex')}`;
}

/**
 * The kill script for a guarded command whose connection dropped while the remote end may not
 * know yet (a cut link: sshd learns only from its own keepalive, which is off by default), run
 * on the next connection to that host: it kills the process group only if a process still
 * carries the command's tag (its guard, alive while the old session is), so that a process
 * group id used again since is never touched. Needs Linux's /proc; elsewhere it does nothing.
 */
export function orphanKillScript(pid: number, tag: string): string {
  if (!/^jgrun-[0-9a-f]+$/.test(tag)) throw new Error(`not a run tag: ${tag}`);
  // `[j]grun-…` matches the tag but not this script's own command line, nor grep's
  return `grep -qs '[j]${tag.slice(1)}' /proc/[0-9]*/cmdline || exit 0\n${killScript(pid)}`;
}

/**
 * The shell script that kills a process group: TERM, up to 2 s of grace, then KILL. The
 * `kill -s SIG -- -PGID` form is POSIX: dash (the login shell of most non-root users on
 * Debian) refuses `kill -TERM -- -PGID`.
 */
export function killScript(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a process id: ${pid}`);
  const group = `-- -${pid}`;
  return [
    `kill -s TERM ${group} 2>/dev/null || exit 0`,
    'i=0',
    `while kill -s 0 ${group} 2>/dev/null; do`,
    '  i=$((i+1))',
    `  if [ $i -ge 20 ]; then kill -s KILL ${group} 2>/dev/null; exit 0; fi`,
    '  sleep 0.1',
    'done',
    'exit 0',
  ].join('\n');
}

/**
 * Takes the frames that a command's script prints first (`\x1e<TAG><payload>\x1e`, the tags
 * in the order given: the PID frame, then the sudo verdict of sudo.ts) off the start of a
 * stream, and passes the rest through. `onFrame` is called once per frame found. Output that
 * does not begin with the expected frame is passed through whole.
 */
/** The most text the login may print before the first frame: past it, the frames are given up. */
const MAX_PRELUDE = 64 * 1024;

export class LeadingFrames {
  readonly #tags: Buffer[];
  readonly #onFrame: (tag: string, payload: string) => void;
  readonly #pass: (chunk: Buffer) => void;
  #buffer: Buffer | undefined = Buffer.alloc(0);
  /** Whether a frame came: text before the first one is the login's, after it the command's. */
  #framed = false;
  /** The login's text passed on before the first frame: past {@link MAX_PRELUDE}, no frame is looked for. */
  #prelude = 0;

  constructor(
    tags: readonly string[],
    onFrame: (tag: string, payload: string) => void,
    pass: (chunk: Buffer) => void,
  ) {
    this.#tags = tags.map((tag) => Buffer.from(`\u001e${tag}`));
    this.#onFrame = onFrame;
    this.#pass = pass;
  }

  push(chunk: Buffer): void {
    if (this.#buffer === undefined) {
      this.#pass(chunk);
      return;
    }
    let data = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const tag = this.#tags[0];
      if (tag === undefined || data.length === 0) break;
      const prefix = data.subarray(0, Math.min(data.length, tag.length));
      if (!tag.subarray(0, prefix.length).equals(prefix)) {
        // Before the first frame, the login may print (sshd's xauth, a .bashrc, "Could not chdir
        // to home directory"): that text is passed on, and the frame looked for after it. Given up
        // at once, the frame was shown as text and the PID never learned (no cancel could kill).
        if (!this.#framed) {
          const at = data.indexOf(tag);
          if (at > 0) {
            this.#pass(data.subarray(0, at));
            data = data.subarray(at);
            continue;
          }
          // not there (yet): what cannot be the frame's start goes on at once (a shell that never
          // prints the frame, a fish, must not have its output held), a partial tag waits
          this.#prelude += data.length;
          if (this.#prelude <= MAX_PRELUDE) {
            const keep = partialTagAtEnd(data, tag);
            if (data.length > keep) this.#pass(data.subarray(0, data.length - keep));
            this.#prelude -= keep;
            this.#buffer = data.subarray(data.length - keep);
            return;
          }
        }
        this.#giveUp(data);
        return;
      }
      const end = data.indexOf(SEPARATOR, tag.length);
      if (end < 0) {
        if (data.length > 64) this.#giveUp(data);
        else this.#buffer = data;
        return;
      }
      this.#tags.shift();
      this.#framed = true;
      this.#onFrame(tag.subarray(1).toString('latin1'), data.subarray(tag.length, end).toString('latin1'));
      data = data.subarray(end + 1);
    }
    if (this.#tags.length === 0) this.#buffer = undefined;
    else {
      this.#buffer = data;
      return;
    }
    if (data.length > 0) this.#pass(data);
  }

  /** End of stream: whatever was held back is output after all. */
  end(): void {
    if (this.#buffer !== undefined && this.#buffer.length > 0) this.#pass(this.#buffer);
    this.#buffer = undefined;
  }

  #giveUp(data: Buffer): void {
    this.#buffer = undefined;
    this.#tags.length = 0;
    this.#pass(data);
  }
}

/** How many bytes at the end of `data` are the start of `tag` (a tag cut between two chunks). */
function partialTagAtEnd(data: Buffer, tag: Buffer): number {
  for (let length = Math.min(tag.length - 1, data.length); length > 0; length--) {
    if (data.subarray(data.length - length).equals(tag.subarray(0, length))) return length;
  }
  return 0;
}

/** The PID in a PID frame's payload, or undefined. */
export function pidOf(payload: string): number | undefined {
  const pid = Number(payload);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}
