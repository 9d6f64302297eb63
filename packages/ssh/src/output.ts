/**
 * Turning a command's byte stream into lines: decoded as UTF-8 with replacement
 * characters (binary output never breaks anything), delivered as they complete, the
 * last partial line flushed at the end.
 */
import { StringDecoder } from 'node:string_decoder';

/** Splits a byte stream into lines, each with its `\n` (the last one may have none). */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #emit: (linenl: string) => void;
  #partial = '';

  constructor(emit: (linenl: string) => void) {
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    this.#take(this.#decoder.write(chunk));
  }

  /** Flushes what is left (an incomplete character becomes U+FFFD). */
  end(): void {
    this.#take(this.#decoder.end());
    if (this.#partial !== '') {
      const rest = this.#partial;
      this.#partial = '';
      this.#emit(rest);
    }
  }

  #take(text: string): void {
    if (text === '') return;
    const data = this.#partial + text;
    let start = 0;
    for (let newline = data.indexOf('\n'); newline >= 0; newline = data.indexOf('\n', start)) {
      this.#emit(data.slice(start, newline + 1));
      start = newline + 1;
    }
    this.#partial = data.slice(start);
  }
}
