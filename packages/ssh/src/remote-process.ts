/**
 * Killing a remote command on cancellation, for root too.
 *
 * sshd ignores SSH `signal` requests for root ("session signalling requires privilege
 * separation"), and closing a channel without a pty leaves the process running. But
 * sshd starts each session's shell in a session of its own (setsid), so the shell's
 * PID is also the process group of everything the command starts. We make the shell
 * print its PID on stderr, framed by ASCII record separators, before the command;
 * the client strips that frame from the output; on cancellation it closes the channel
 * and kills the process group over a second channel: TERM, then KILL after 2 s.
 */

const SEPARATOR = 0x1e;
const TAG = Buffer.from('\u001eJGPID');

/** The command as sent: the PID frame first, then the user's command, unchanged. */
export function withPidReport(command: string): string {
  return `printf '\\036JGPID%s\\036' "$$" >&2\n${command}`;
}

/** The shell script that kills a process group: TERM, up to 2 s of grace, then KILL. */
export function killScript(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a process id: ${pid}`);
  const group = `-${pid}`;
  return [
    `kill -TERM -- ${group} 2>/dev/null || exit 0`,
    'i=0',
    `while kill -0 -- ${group} 2>/dev/null; do`,
    '  i=$((i+1))',
    `  if [ $i -ge 20 ]; then kill -KILL -- ${group} 2>/dev/null; exit 0; fi`,
    '  sleep 0.1',
    'done',
    'exit 0',
  ].join('\n');
}

/**
 * Takes the PID frame off the start of a stream (if it is there) and passes the rest
 * through. `onPid` is called once with the PID.
 */
export class PidFrameReader {
  readonly #onPid: (pid: number) => void;
  readonly #pass: (chunk: Buffer) => void;
  #buffer: Buffer | undefined = Buffer.alloc(0);

  constructor(onPid: (pid: number) => void, pass: (chunk: Buffer) => void) {
    this.#onPid = onPid;
    this.#pass = pass;
  }

  push(chunk: Buffer): void {
    if (this.#buffer === undefined) {
      this.#pass(chunk);
      return;
    }
    const data = Buffer.concat([this.#buffer, chunk]);
    const prefix = data.subarray(0, Math.min(data.length, TAG.length));
    if (!TAG.subarray(0, prefix.length).equals(prefix)) {
      this.#giveUp(data);
      return;
    }
    const end = data.indexOf(SEPARATOR, TAG.length);
    if (end < 0) {
      if (data.length > 32) this.#giveUp(data);
      else this.#buffer = data;
      return;
    }
    const pid = Number(data.subarray(TAG.length, end).toString('latin1'));
    this.#buffer = undefined;
    if (Number.isInteger(pid) && pid > 1) this.#onPid(pid);
    const rest = data.subarray(end + 1);
    if (rest.length > 0) this.#pass(rest);
  }

  /** End of stream: whatever was held back is output after all. */
  end(): void {
    if (this.#buffer !== undefined && this.#buffer.length > 0) this.#pass(this.#buffer);
    this.#buffer = undefined;
  }

  #giveUp(data: Buffer): void {
    this.#buffer = undefined;
    this.#pass(data);
  }
}
