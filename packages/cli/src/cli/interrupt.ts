/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP while jobs run. The first one aborts the run: jobs are
 * cancelled, their remote processes killed, connections closed; the exit code is then 128 + the
 * signal's number (130, 143, 129), as a shell reports a command killed by it. A second one,
 * a while later, leaves at once (remote processes may then be left running). A terminal sends
 * SIGINT to the whole process group and the launcher forwards it as well, so one key press may
 * arrive twice within milliseconds: those repeats are ignored. Once the jobs are done
 * ({@link Interrupt.jobsDone}), a first signal stops nothing: the log and the report of the run
 * are finished, and the exit code stays the run's, as report.json records it.
 */
import { constants } from 'node:os';

/** Repeats closer than this are the same key press. */
const SAME_PRESS_MS = 500;

/**
 * How long cancelled jobs may take to settle in a command-line run: killing a remote process
 * waits for its PID (up to 2 s) and then opens a channel (bounded at 10 s). The library's 1 s
 * default would close the connections before some kills are sent.
 */
export const CLI_SHUTDOWN_TIMEOUT_MS = 15_000;

/** The signals that stop a run cleanly. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * What stops a run: one of {@link STOP_SIGNALS}, or `SIGPIPE` when the reader of standard output
 * went away (`jobgraph ssh -t … 'yes' | head -2`), as `ssh … | head` stops.
 */
export type StopSignal = (typeof STOP_SIGNALS)[number] | 'SIGPIPE';

/**
 * The event `io.process` emits (once) when standard output is closed by its reader (EPIPE):
 * not Node's SIGPIPE itself, which comes once per write, and whose repeats would read as a
 * second Ctrl-C (leave at once, remote processes left running).
 */
export const OUTPUT_CLOSED = 'jobgraph:output-closed';

/** What an interrupt handler needs of the process. */
export interface InterruptIo {
  readonly stderr: { write(text: string): unknown };
  readonly process: NodeJS.EventEmitter;
}

/** A handler of {@link STOP_SIGNALS}, installed until {@link Interrupt.dispose}. */
export interface Interrupt {
  /** Whether a stop signal arrived while the jobs ran. */
  readonly interrupted: boolean;
  /** The first stop signal while the jobs ran, if any. */
  readonly signal: StopSignal | undefined;
  /** 128 + that signal's number (130 for Ctrl-C), or undefined if none arrived while the jobs ran. */
  readonly exitCode: number | undefined;
  /** The jobs are done: a first signal from now on lets the log and report be finished, and is no interrupt of the run. */
  jobsDone(): void;
  dispose(): void;
}

/** How a run stopped by `signal` is told: in messages, and as the reason jobs were cancelled. */
export function interruptedBy(signal: StopSignal): string {
  if (signal === 'SIGPIPE') return 'interrupted (SIGPIPE: the reader of the output went away)';
  return signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : `interrupted (${signal})`;
}

/**
 * Aborts `controller` on the first stop signal; leaves at once on a second one.
 * @param leave - how to leave at once. @default process.exit
 */
export function onInterrupt(
  controller: AbortController,
  io: InterruptIo,
  leave: (code: number) => void = (code) => process.exit(code),
): Interrupt {
  let first: { signal: StopSignal; at: number; late: boolean } | undefined;
  let done = false;
  const exitCodeOf = (signal: StopSignal) => 128 + constants.signals[signal];
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      const now = Date.now();
      if (first === undefined) {
        first = { signal, at: now, late: done };
        const [what, again] =
          signal === 'SIGINT' ? ['interrupted', 'Ctrl-C again'] : [`${signal} received`, 'a second signal'];
        const doing = done ? ' after the jobs ended, finishing the log and report' : ', stopping the jobs';
        io.stderr.write(`jobgraph: ${what}${doing}… (${again} to leave at once)\n`);
        if (!done) controller.abort(new Error(interruptedBy(signal)));
        return;
      }
      // the run is stopping because its output's reader left: this is the first signal, not a
      // second one (nor the repeat of a first one, however soon)
      if (first.signal === 'SIGPIPE') {
        const late = first.late;
        first = { signal, at: now, late };
        const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'a second signal';
        const what = signal === 'SIGINT' ? 'interrupted' : `${signal} received`;
        const doing = late ? 'finishing the log and report' : 'the jobs are already stopping';
        io.stderr.write(`jobgraph: ${what}, ${doing}… (${again} to leave at once)\n`);
        return;
      }
      if (now - first.at < SAME_PRESS_MS) return;
      io.stderr.write('jobgraph: interrupted again, leaving now: remote processes may still run\n');
      leave(exitCodeOf(first.signal));
    };
    io.process.on(signal, handler);
    return { signal, handler };
  });
  // the output closed: a first stop, never a second one (the process may still print meanwhile)
  const onOutputClosed = () => {
    if (first !== undefined) return;
    first = { signal: 'SIGPIPE', at: Date.now(), late: done };
    if (done) return;
    io.stderr.write('jobgraph: the output was closed (its reader went away), stopping the jobs…\n');
    controller.abort(new Error(interruptedBy('SIGPIPE')));
  };
  io.process.on(OUTPUT_CLOSED, onOutputClosed);
  const duringJobs = () => (first === undefined || first.late ? undefined : first.signal);
  return {
    get interrupted() {
      return duringJobs() !== undefined;
    },
    get signal() {
      return duringJobs();
    },
    get exitCode() {
      const signal = duringJobs();
      return signal === undefined ? undefined : exitCodeOf(signal);
    },
    jobsDone: () => {
      done = true;
    },
    dispose: () => {
      for (const { signal, handler } of handlers) io.process.off(signal, handler);
      io.process.off(OUTPUT_CLOSED, onOutputClosed);
    },
  };
}
