/**
 * Turning a command's byte stream into lines, delivered as they complete, the last partial line
 * flushed at the end. Each line comes as its bytes, exactly as they came (for the raw and file
 * formatters: binary output passes intact), and as text decoded from UTF-8 with replacement
 * characters (binary output never breaks anything). Lines are split on the byte 0x0A, which no
 * multi-byte UTF-8 character holds, so the text of each line is exact for valid UTF-8.
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
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      if (chunk.length > 0) this.#partial.push(Buffer.from(chunk));
      return;
    }
    // One copy per chunk (a transport may reuse its buffers; formatters may queue a line's bytes),
    // and each line a view of that copy.
    const complete = chunk.subarray(0, last + 1);
    const bytes = Buffer.concat([...this.#partial, complete]);
    this.#partial = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
    // Decoded at once (one call per chunk, not per line): the k-th '\n' of the text is the k-th
    // 0x0A of the bytes, as no invalid or multi-byte sequence decodes to '\n'.
    const text = bytes.toString('utf8');
    let byteStart = 0;
    let textStart = 0;
    while (byteStart < bytes.length) {
      const byteEnd = bytes.indexOf(10, byteStart) + 1;
      const textEnd = text.indexOf('\n', textStart) + 1;
      this.#emit(text.slice(textStart, textEnd), bytes.subarray(byteStart, byteEnd));
      byteStart = byteEnd;
      textStart = textEnd;
    }
  }

  /** Flushes what is left (an incomplete character becomes U+FFFD in the text). */
  end(): void {
    if (this.#partial.length === 0) return;
    const bytes = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#emit(bytes.toString('utf8'), bytes);
  }
}
