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
 *
 * A line is never held whole beyond {@link MAX_LINE_BYTES}: a longer one (binary output, a
 * `head -c 600M /dev/zero`) is delivered in pieces of at most that many bytes, each without a
 * newline but the last, so that memory stays bounded whatever the output. The pieces' bytes,
 * put together, are the line's bytes exactly; a piece ends on a character boundary (UTF-8: its
 * bytes and text end there both; UTF-16: never inside a surrogate pair; another multi-byte
 * encoding: the character that the byte boundary cuts shows whole in the next piece's text).
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

/**
 * The longest line held whole, in bytes (1 MiB): a longer line is delivered in pieces of at most
 * this size, the last one with the newline. Big enough for any line a person reads; small enough
 * that a formatter's queue of a few lines stays a few MiB.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Splits a byte stream into lines, each with its `\n` (the last one may have none); long lines in pieces. */
export class LineSplitter {
  readonly #emit: (linenl: string, bytes: Buffer) => void;
  /** The start of the line in progress, across chunks. */
  #partial: Buffer[] = [];
  /** The number of bytes in `#partial`. */
  #partialLength = 0;
  /** For an encoding other than UTF-8: its streaming decoder. */
  readonly #decoder: TextDecoder | undefined;
  /** UTF-16: lines are found in the text. */
  readonly #wide: boolean;
  /** For UTF-16: the text of the line in progress, across chunks. */
  #partialText: string[] = [];
  /** The number of code units in `#partialText`. */
  #partialTextLength = 0;
  /** The longest piece, in bytes. */
  readonly #max: number;

  /**
   * @param encoding a label that `TextDecoder` knows. @default 'utf-8'
   * @param maxLine the longest piece of a line, in bytes (at least 4). @default MAX_LINE_BYTES
   * @throws RangeError for an encoding that TextDecoder does not know.
   */
  constructor(emit: (linenl: string, bytes: Buffer) => void, encoding = 'utf-8', maxLine = MAX_LINE_BYTES) {
    this.#emit = emit;
    const decoder = new TextDecoder(encoding, { ignoreBOM: true });
    this.#decoder = decoder.encoding === 'utf-8' ? undefined : decoder;
    this.#wide = decoder.encoding === 'utf-16le' || decoder.encoding === 'utf-16be';
    this.#max = Math.max(4, Math.floor(maxLine));
  }

  /**
   * The state a progress bar drawn with carriage returns is in (`curl`, `pv`, `apt`): the text after
   * the last `\r` of the line in progress (or before it, when the bar just went back to its start),
   * trimmed; undefined when that line has no `\r`, or the encoding is UTF-16. No line is complete
   * until its newline: without this, a bar showed nothing until it ended.
   */
  progress(): string | undefined {
    if (this.#wide || this.#partialLength === 0) return undefined;
    // most output has no carriage return: found without copying the line in progress
    if (!this.#partial.some((piece) => piece.includes(13))) return undefined;
    const pending = this.#partial.length === 1 ? (this.#partial[0] as Buffer) : Buffer.concat(this.#partial);
    const last = pending.lastIndexOf(13);
    if (last < 0) return undefined;
    const previous = pending.lastIndexOf(13, last - 1);
    const after = pending.subarray(last + 1);
    const piece = after.length > 0 ? after : pending.subarray(previous + 1, last);
    // decoded apart (a streaming decoder's state belongs to the lines): a cut character shows as U+FFFD
    const text = (
      this.#decoder === undefined
        ? piece.toString('utf8')
        : new TextDecoder(this.#decoder.encoding).decode(piece)
    ).trim();
    return text === '' ? undefined : text;
  }

  push(chunk: Buffer): void {
    if (this.#wide) {
      this.#pushWide(chunk);
      return;
    }
    // A line that would outgrow the bound: taken up to its newline, delivered in pieces.
    let rest = chunk;
    while (rest.length > 0 && this.#partialLength + rest.length > this.#max) {
      const newline = rest.indexOf(10);
      const end = newline < 0 ? rest.length : newline + 1;
      this.#partial.push(rest.subarray(0, end));
      this.#partialLength += end;
      this.#pieces(newline >= 0);
      rest = rest.subarray(end);
    }
    if (rest.length > 0) this.#pushLines(rest);
  }

  /** A chunk that leaves the line in progress within the bound. */
  #pushLines(chunk: Buffer): void {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.#partial.push(Buffer.from(chunk));
      this.#partialLength += chunk.length;
      return;
    }
    // One copy per chunk (a transport may reuse its buffers; formatters may queue a line's bytes),
    // and each line a view of that copy.
    const complete = chunk.subarray(0, last + 1);
    const bytes = Buffer.concat([...this.#partial, complete]);
    this.#partial = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
    this.#partialLength = chunk.length - last - 1;
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
   * Delivers the line in progress in pieces of at most `#max` bytes: all of it when it `ended`
   * (its newline is in), else while more than `#max` bytes are left, the rest kept (copied: a
   * view would keep the whole buffer alive).
   */
  #pieces(ended: boolean): void {
    const all = Buffer.concat(this.#partial);
    let start = 0;
    while (all.length - start > this.#max) {
      const end = this.#cut(all, start + this.#max);
      this.#emitPiece(all.subarray(start, end));
      start = end;
    }
    if (ended) {
      this.#emitPiece(all.subarray(start));
      this.#partial = [];
      this.#partialLength = 0;
    } else {
      this.#partial = start < all.length ? [Buffer.from(all.subarray(start))] : [];
      this.#partialLength = all.length - start;
    }
  }

  /**
   * Where to end a piece at or before `end`: for UTF-8, before a character that `end` would cut
   * (at most 3 bytes back; invalid bytes are cut anywhere). Other encodings: at `end`, their
   * streaming decoder holds back the cut character.
   */
  #cut(bytes: Buffer, end: number): number {
    if (this.#decoder !== undefined) return end;
    let cut = end;
    while (cut > end - 3 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
    const lead = bytes[cut] ?? 0;
    // a lead byte whose sequence reaches `end` or beyond: cut before it; anything else, at `end`
    const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return cut < end && cut + length > end ? cut : end;
  }

  #emitPiece(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const text =
      this.#decoder === undefined ? bytes.toString('utf8') : this.#decoder.decode(bytes, { stream: true });
    this.#emit(text, bytes);
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
      this.#partialTextLength += text.length;
      if (2 * this.#partialTextLength > this.#max) this.#widePieces();
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
    this.#partialTextLength = rest.length;
    let textStart = 0;
    while (textStart < lines.length) {
      const textEnd = lines.indexOf('\n', textStart) + 1;
      // a long line in pieces (the last one with its newline)
      let start = textStart;
      while (2 * (textEnd - start) > this.#max) {
        const end = this.#wideCut(lines, start);
        this.#emit(lines.slice(start, end), bytes.subarray(2 * start, 2 * end));
        start = end;
      }
      this.#emit(lines.slice(start, textEnd), bytes.subarray(2 * start, 2 * textEnd));
      textStart = textEnd;
    }
    if (2 * this.#partialTextLength > this.#max) this.#widePieces();
  }

  /** UTF-16, no newline yet: the line in progress in pieces while it is over the bound. */
  #widePieces(): void {
    const text = this.#partialText.join('');
    const bytes = Buffer.concat(this.#partial);
    let start = 0;
    while (2 * (text.length - start) > this.#max) {
      const end = this.#wideCut(text, start);
      this.#emit(text.slice(start, end), bytes.subarray(2 * start, 2 * end));
      start = end;
    }
    this.#partial = 2 * start < bytes.length ? [Buffer.from(bytes.subarray(2 * start))] : [];
    this.#partialText = start < text.length ? [text.slice(start)] : [];
    this.#partialTextLength = text.length - start;
  }

  /** The end of a UTF-16 piece from `start`: at most `#max` bytes, a surrogate pair kept whole. */
  #wideCut(text: string, start: number): number {
    const end = start + Math.floor(this.#max / 2);
    const before = text.charCodeAt(end - 1);
    return before >= 0xd800 && before <= 0xdbff ? end - 1 : end;
  }

  /** Flushes what is left (an incomplete character becomes U+FFFD in the text). */
  end(): void {
    if (this.#partial.length === 0) return;
    const bytes = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#partialLength = 0;
    let text: string;
    if (this.#decoder === undefined) text = bytes.toString('utf8');
    else if (this.#wide) text = this.#partialText.join('') + this.#decoder.decode();
    else text = this.#decoder.decode(bytes);
    this.#partialText = [];
    this.#partialTextLength = 0;
    this.#emit(text, bytes);
  }
}
