/**
 * Turning a command's byte stream into lines, delivered as they complete, the last partial line
 * flushed at the end. Each line comes as its bytes, exactly as they came (for the raw and file
 * formatters: binary output passes intact), and as text decoded from UTF-8 with replacement
 * characters (binary output never breaks anything). Lines are split on the byte 0x0A, which no
 * multi-byte UTF-8 character holds, so decoding line by line is exact for valid UTF-8.
 */

/** Splits a byte stream into lines, each with its `\n` (the last one may have none). */
export class LineSplitter {
  readonly #emit: (linenl: string, bytes: Buffer) => void;
  /** The start of the line in progress, across chunks. */
  #partial: Buffer[] = [];

  constructor(emit: (linenl: string, bytes: Buffer) => void) {
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      this.#line(chunk.subarray(start, newline + 1));
      start = newline + 1;
    }
    // copied: the transport may reuse the chunk's memory once we return
    if (start < chunk.length) this.#partial.push(Buffer.from(chunk.subarray(start)));
  }

  /** Flushes what is left (an incomplete character becomes U+FFFD in the text). */
  end(): void {
    if (this.#partial.length > 0) this.#line(Buffer.alloc(0));
  }

  #line(tail: Buffer): void {
    const bytes = this.#partial.length === 0 ? Buffer.from(tail) : Buffer.concat([...this.#partial, tail]);
    this.#partial = [];
    this.#emit(bytes.toString('utf8'), bytes);
  }
}
