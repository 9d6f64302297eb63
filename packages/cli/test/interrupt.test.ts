/**
 * Ctrl-C handling of the command line, in-process with a fake process and fake timers.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OUTPUT_CLOSED, onInterrupt } from '../src/cli/interrupt.js';

describe('onInterrupt', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const process = new EventEmitter();
    const written: string[] = [];
    const left: number[] = [];
    const controller = new AbortController();
    const interrupt = onInterrupt(
      controller,
      { process, stderr: { write: (text: string) => written.push(text) } },
      (code) => left.push(code),
    );
    return { process, written, left, controller, interrupt };
  }

  it('aborts on the first Ctrl-C, ignores the same press arriving twice, leaves with 130 on a second press', () => {
    const { process, written, left, controller, interrupt } = setup();
    expect(interrupt.interrupted).toBe(false);
    process.emit('SIGINT');
    expect(controller.signal.aborted).toBe(true);
    expect(interrupt).toMatchObject({ interrupted: true, signal: 'SIGINT', exitCode: 130 });
    expect(written).toEqual(['jobgraph: interrupted, stopping the jobs… (Ctrl-C again to leave at once)\n']);
    // the terminal's SIGINT and the launcher's forwarded copy of the same key press
    vi.advanceTimersByTime(20);
    process.emit('SIGINT');
    expect(left).toEqual([]);
    vi.advanceTimersByTime(1000);
    process.emit('SIGINT');
    expect(left).toEqual([130]);
    expect(written[1]).toContain('leaving now');
  });

  it('the output closed by its reader stops the run once, with 141; its repeats never leave at once', () => {
    const { process, written, left, controller, interrupt } = setup();
    process.emit(OUTPUT_CLOSED);
    expect(controller.signal.aborted).toBe(true);
    expect(interrupt).toMatchObject({ interrupted: true, signal: 'SIGPIPE', exitCode: 141 });
    expect(written).toEqual(['jobgraph: the output was closed (its reader went away), stopping the jobs…\n']);
    vi.advanceTimersByTime(2_000);
    process.emit(OUTPUT_CLOSED);
    expect(left).toEqual([]);
    // a Ctrl-C after it is the first signal: the jobs are stopping already, nothing left behind
    process.emit('SIGINT');
    expect(left).toEqual([]);
    expect(written[1]).toBe(
      'jobgraph: interrupted, the jobs are already stopping… (Ctrl-C again to leave at once)\n',
    );
    expect(interrupt).toMatchObject({ signal: 'SIGINT', exitCode: 130 });
    // a second one leaves
    vi.advanceTimersByTime(1_000);
    process.emit('SIGINT');
    expect(left).toEqual([130]);
  });

  it('a Ctrl-C right after the output closed is no repeat of it; after the jobs ended, it says the log and report are being finished', () => {
    const { process, written, left, interrupt } = setup();
    interrupt.jobsDone();
    process.emit(OUTPUT_CLOSED);
    process.emit('SIGINT');
    expect(left).toEqual([]);
    expect(written.at(-1)).toBe(
      'jobgraph: interrupted, finishing the log and report… (Ctrl-C again to leave at once)\n',
    );
  });

  it('SIGTERM and SIGHUP stop the run as Ctrl-C does, with 143 and 129', () => {
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      const { process, written, left, controller, interrupt } = setup();
      process.emit(signal);
      expect(controller.signal.aborted).toBe(true);
      expect((controller.signal.reason as Error).message).toBe(`interrupted (${signal})`);
      expect(interrupt).toMatchObject({ interrupted: true, signal, exitCode: code });
      expect(written).toEqual([
        `jobgraph: ${signal} received, stopping the jobs… (a second signal to leave at once)\n`,
      ]);
      vi.advanceTimersByTime(1000);
      process.emit('SIGINT');
      // the first signal decides the exit code
      expect(left).toEqual([code]);
    }
  });

  it('once the jobs are done, a first signal stops nothing and leaves the exit code to the run; a second one leaves', () => {
    const { process, written, left, controller, interrupt } = setup();
    interrupt.jobsDone();
    process.emit('SIGINT');
    expect(controller.signal.aborted).toBe(false);
    expect(interrupt).toMatchObject({ interrupted: false, signal: undefined, exitCode: undefined });
    expect(written).toEqual([
      'jobgraph: interrupted after the jobs ended, finishing the log and report… (Ctrl-C again to leave at once)\n',
    ]);
    vi.advanceTimersByTime(1000);
    process.emit('SIGINT');
    expect(left).toEqual([130]);
  });

  it('a signal while the jobs ran still counts once they are done', () => {
    const { process, interrupt } = setup();
    process.emit('SIGTERM');
    interrupt.jobsDone();
    expect(interrupt).toMatchObject({ interrupted: true, signal: 'SIGTERM', exitCode: 143 });
  });

  it('stops listening once disposed', () => {
    const { process, controller, interrupt } = setup();
    interrupt.dispose();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(process.listenerCount(signal)).toBe(0);
    expect(controller.signal.aborted).toBe(false);
    expect(interrupt.exitCode).toBeUndefined();
  });
});
