/**
 * Ctrl-C while jobs run. The first one aborts the run: jobs are cancelled, their remote
 * processes killed, connections closed, exit code 130. A second one, pressed a while later,
 * leaves at once (remote processes may then be left running). A terminal sends SIGINT to the
 * whole process group and the launcher forwards it as well, so one key press may arrive twice
 * within milliseconds: those repeats are ignored.
 */
import { EXIT } from './errors.js';

/** Repeats closer than this are the same key press. */
const SAME_PRESS_MS = 500;

/**
 * How long cancelled jobs may take to settle in a command-line run: killing a remote process
 * waits for its PID (up to 2 s) and then opens a channel (bounded at 10 s). The library's 1 s
 * default would close the connections before some kills are sent.
 */
export const CLI_SHUTDOWN_TIMEOUT_MS = 15_000;

/** What an interrupt handler needs of the process. */
export interface InterruptIo {
  readonly stderr: { write(text: string): unknown };
  readonly process: NodeJS.EventEmitter;
}

/** A Ctrl-C handler, installed until {@link Interrupt.dispose}. */
export interface Interrupt {
  /** Whether Ctrl-C was pressed. */
  readonly interrupted: boolean;
  dispose(): void;
}

/**
 * Aborts `controller` on the first Ctrl-C; leaves with 130 on a second press.
 * @param leave - how to leave at once. @default process.exit
 */
export function onInterrupt(
  controller: AbortController,
  io: InterruptIo,
  leave: (code: number) => void = (code) => process.exit(code),
): Interrupt {
  let first: number | undefined;
  const handler = () => {
    const now = Date.now();
    if (first === undefined) {
      first = now;
      io.stderr.write('jobgraph: interrupted, stopping the jobs… (Ctrl-C again to leave at once)\n');
      controller.abort(new Error('interrupted (Ctrl-C)'));
      return;
    }
    if (now - first < SAME_PRESS_MS) return;
    io.stderr.write('jobgraph: interrupted again, leaving now: remote processes may still run\n');
    leave(EXIT.interrupted);
  };
  io.process.on('SIGINT', handler);
  return {
    get interrupted() {
      return first !== undefined;
    },
    dispose: () => {
      io.process.off('SIGINT', handler);
    },
  };
}
