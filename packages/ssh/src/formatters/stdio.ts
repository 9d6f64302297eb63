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

/** Swallows the stream's errors: the reader of our output went away, nobody is left to tell. */
const ignore = () => {};

/**
 * A writer to `process.stdout` or `process.stderr` that cannot crash the process.
 *
 * A closed pipe (`jobgraph ssh … | head -1`) makes the stream emit `'error'` (EPIPE)
 * later, and an `'error'` with no listener kills Node.js. So the first write adds a
 * permanent listener to that stream, and writes after the stream broke are dropped.
 * The stream is looked up at each write, so a replaced `process.stdout` is honoured.
 *
 * @param name - which standard stream.
 * @returns a function that writes text (or bytes, as they are) to it.
 */
export function stdioWriter(name: 'stdout' | 'stderr'): (text: string | Uint8Array) => void {
  return (text) => {
    const stream = process[name];
    if (!guarded.has(stream)) {
      stream.on('error', ignore);
      guarded.add(stream);
    }
    if (stream.destroyed || stream.writableEnded) return;
    try {
      stream.write(text);
    } catch {
      // A synchronous failure (a stream closed under us): same fate as an EPIPE.
    }
  };
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
