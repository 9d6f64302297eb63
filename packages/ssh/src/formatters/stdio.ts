/**
 * Writing to the terminal without ever throwing: the formatters' default sinks.
 * Internal to the formatters (not re-exported by the package).
 */

/**
 * Where a formatter puts text: called once per formatted line or record, newline included.
 * @example
 * ```ts
 * const lines: string[] = []
 * const write: Write = (text) => void lines.push(text)
 * ```
 */
export type Write = (text: string) => void;

/** Streams that already have our 'error' listener. */
const guarded = new WeakSet<NodeJS.WritableStream>();

/** Streams corked until the next tick. */
const corked = new WeakSet<NodeJS.WriteStream>();

/** Swallows the stream's errors: the reader of our output went away, nobody is left to tell. */
const ignore = () => {};

/** A writer to a standard stream, and its back-pressure. */
export interface StdioWriter {
  /** Writes text, or bytes as they are; never throws. */
  (text: string | Uint8Array): void;
  /**
   * `undefined` while the stream takes more; while its buffer is over its high-water mark (its
   * `write()` returned false: a pipe read slower than the output comes), a promise that resolves on
   * its `'drain'`, or when it closes or fails (never rejects).
   */
  whenDrained(): Promise<void> | undefined;
}

/** Per stream, the wait for its `'drain'` under way: one set of listeners, however many ask. */
const drains = new WeakMap<NodeJS.WritableStream, Promise<void>>();

function drainOf(stream: NodeJS.WriteStream): Promise<void> | undefined {
  if (stream.destroyed || stream.writableEnded || !stream.writableNeedDrain) return undefined;
  let wait = drains.get(stream);
  if (wait === undefined) {
    wait = new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        stream.off('error', done);
        drains.delete(stream);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    drains.set(stream, wait);
  }
  return wait;
}

/**
 * A writer to `process.stdout` or `process.stderr` that cannot crash the process.
 *
 * A closed pipe (`jobgraph ssh … | head -1`) makes the stream emit `'error'` (EPIPE)
 * later, and an `'error'` with no listener kills Node.js. So the first write adds a
 * permanent listener to that stream, and writes after the stream broke are dropped.
 * The stream is looked up at each write, so a replaced `process.stdout` is honoured.
 *
 * @param name - which standard stream.
 * @returns a function that writes text (or bytes, as they are) to it, with its back-pressure.
 */
export function stdioWriter(name: 'stdout' | 'stderr'): StdioWriter {
  const write = (text: string | Uint8Array) => {
    const stream = process[name];
    if (!guarded.has(stream)) {
      stream.on('error', ignore);
      guarded.add(stream);
    }
    if (stream.destroyed || stream.writableEnded) return;
    // The lines of one chunk come in one go: corked, they reach the stream as one write(v).
    if (!corked.has(stream)) {
      corked.add(stream);
      stream.cork();
      process.nextTick(() => {
        corked.delete(stream);
        stream.uncork();
      });
    }
    try {
      stream.write(text);
    } catch {
      // A synchronous failure (a stream closed under us): same fate as an EPIPE.
    }
  };
  return Object.assign(write, { whenDrained: () => drainOf(process[name]) });
}

/** A promise that resolves when every wait of `waits` under way has; `undefined` when none is. */
export function allDrained(waits: ReadonlyArray<Promise<void> | undefined>): Promise<void> | undefined {
  const pending = waits.filter((wait): wait is Promise<void> => wait !== undefined);
  if (pending.length === 0) return undefined;
  return pending.length === 1 ? pending[0] : Promise.all(pending).then(() => undefined);
}

/**
 * Wraps a writer so that it never throws: the first error goes to `onError`, and the
 * text is dropped. A formatter must not throw into the SSH code that feeds it.
 *
 * @param write - the writer, possibly given by the user.
 * @param onError - told about each error.
 * @returns the safe writer.
 */
export function safeWriter(write: Write, onError: (error: unknown) => void): Write {
  return (text) => {
    try {
      write(text);
    } catch (error) {
      onError(error);
    }
  };
}
