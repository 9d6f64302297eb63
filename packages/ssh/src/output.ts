/**
 * Turning a command's byte stream into lines, delivered as they complete, the last partial line
 * flushed at the end. Each line comes as its bytes, exactly as they came (for the raw and file
 * formatters: binary output passes intact), and as text decoded with replacement characters
 * (binary output never breaks anything): from UTF-8 by default, or from any encoding that
 * `TextDecoder` knows.
 *
 * UTF-8 and every other ASCII-compatible encoding: lines are split on the byte 0x0A, which no
 * multi-byte character of these encodings holds, so the text of each line is exact.
 * UTF-16 (`utf-16le`, `utf-16be`): a newline is the code unit 0x000A (`0A 00` in UTF-16LE), so
 * the bytes are decoded first, and each line's bytes are the two bytes of each of its code units.
 */
import { TextDecoder } from 'node:util';

/** The canonical name of an encoding (`latin1` → `windows-1252`), or undefined if TextDecoder knows none. */
export function encodingName(label: string): string | undefined {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

/** Splits a byte stream into lines, each with its `\n` (the last one may have none). */
export class LineSplitter {
  readonly #emit: (linenl: string, bytes: Buffer) => void;
  /** The start of the line in progress, across chunks. */
  #partial: Buffer[] = [];
  /** For an encoding other than UTF-8: its streaming decoder. */
  readonly #decoder: TextDecoder | undefined;
  /** UTF-16: lines are found in the text. */
  readonly #wide: boolean;
  /** For UTF-16: the text of the line in progress, across chunks. */
  #partialText: string[] = [];

  /**
   * @param encoding a label that `TextDecoder` knows. @default 'utf-8'
   * @throws RangeError for an encoding that TextDecoder does not know.
   */
  constructor(emit: (linenl: string, bytes: Buffer) => void, encoding = 'utf-8') {
    this.#emit = emit;
    const decoder = new TextDecoder(encoding, { ignoreBOM: true });
    this.#decoder = decoder.encoding === 'utf-8' ? undefined : decoder;
    this.#wide = decoder.encoding === 'utf-16le' || decoder.encoding === 'utf-16be';
  }

  push(chunk: Buffer): void {
    if (this.#wide) {
      this.#pushWide(chunk);
      return;
    }
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
    // 0x0A of the bytes, as no invalid or multi-byte sequence decodes to '\n'. The bytes end with
    // a newline, so a streaming decoder holds nothing back (a stateful one keeps its state).
    const text =
      this.#decoder === undefined ? bytes.toString('utf8') : this.#decoder.decode(bytes, { stream: true });
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

  /**
   * UTF-16: every code unit, valid or not, decodes to one UTF-16 code unit of text (a byte-order
   * mark included, as `ignoreBOM` keeps it), so the first n code units of text are the first 2n
   * bytes; what the decoder holds back (an odd byte, a lone high surrogate) stays in the partial.
   */
  #pushWide(chunk: Buffer): void {
    const text = (this.#decoder as TextDecoder).decode(chunk, { stream: true });
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      if (chunk.length > 0) this.#partial.push(Buffer.from(chunk));
      if (text.length > 0) this.#partialText.push(text);
      return;
    }
    const all = this.#partialText.join('') + text;
    const lines = all.slice(0, all.length - (text.length - last - 1));
    const rest = text.slice(last + 1);
    // one copy of the chunk, as above
    const buffered = Buffer.concat([...this.#partial, chunk]);
    const bytes = buffered.subarray(0, 2 * lines.length);
    this.#partial = bytes.length < buffered.length ? [Buffer.from(buffered.subarray(bytes.length))] : [];
    this.#partialText = rest.length > 0 ? [rest] : [];
    let textStart = 0;
    while (textStart < lines.length) {
      const textEnd = lines.indexOf('\n', textStart) + 1;
      this.#emit(lines.slice(textStart, textEnd), bytes.subarray(2 * textStart, 2 * textEnd));
      textStart = textEnd;
    }
  }

  /** Flushes what is left (an incomplete character becomes U+FFFD in the text). */
  end(): void {
    if (this.#partial.length === 0) return;
    const bytes = Buffer.concat(this.#partial);
    this.#partial = [];
    let text: string;
    if (this.#decoder === undefined) text = bytes.toString('utf8');
    else if (this.#wide) text = this.#partialText.join('') + this.#decoder.decode();
    else text = this.#decoder.decode(bytes);
    this.#partialText = [];
    this.#emit(text, bytes);
  }
}
