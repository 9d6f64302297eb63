/**
 * LineSplitter, in-process: lines as they complete, with their bytes exactly as they came.
 */
import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_BYTES } from '../src/output.js';

function split(chunks: readonly Buffer[]): Array<{ text: string; bytes: Buffer }> {
  const lines: Array<{ text: string; bytes: Buffer }> = [];
  const splitter = new LineSplitter((text, bytes) => lines.push({ text, bytes }));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it("progress(): a bar drawn with \\r in the line not ended yet shows its state; a line's end clears it", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text) => lines.push(text));
    expect(splitter.progress()).toBeUndefined();
    splitter.push(Buffer.from('starting\n  3% [>     ]'));
    // no carriage return yet: no bar
    expect(splitter.progress()).toBeUndefined();
    splitter.push(Buffer.from('\r 56% [===>  ]'));
    expect(splitter.progress()).toBe('56% [===>  ]');
    // back at its start, the bar's last state stands
    splitter.push(Buffer.from('\r'));
    expect(splitter.progress()).toBe('56% [===>  ]');
    splitter.push(Buffer.from('100% [======]\ndone'));
    expect(splitter.progress()).toBeUndefined();
    expect(lines).toEqual(['starting\n', '  3% [>     ]\r 56% [===>  ]\r100% [======]\n']);
    // another encoding, decoded apart
    const latin = new LineSplitter(() => undefined, 'latin1');
    latin.push(Buffer.from([0x0d, 0x65, 0x74, 0xe9]));
    expect(latin.progress()).toBe('eté');
  });

  it('splits on newlines across chunks and flushes the last partial line', () => {
    const lines = split([Buffer.from('a\nb'), Buffer.from('c\n\nd')]);
    expect(lines.map((line) => line.text)).toEqual(['a\n', 'bc\n', '\n', 'd']);
  });

  it('keeps the bytes of binary output, and gives U+FFFD in the text', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a, 0x80]);
    const lines = split([binary.subarray(0, 2), binary.subarray(2)]);
    expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(binary);
    expect(lines.map((line) => line.text)).toEqual(['\ufffd\ufffd\u0000A\n', '\ufffd']);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const text = Buffer.from('é€😀\n');
    const chunks = [...text].map((byte) => Buffer.from([byte]));
    expect(split(chunks)).toEqual([{ text: 'é€😀\n', bytes: text }]);
  });

  it('a line is its own copy: reusing a chunk afterwards changes nothing', () => {
    const chunk = Buffer.from('one\ntw');
    const lines: Buffer[] = [];
    const splitter = new LineSplitter((_text, bytes) => lines.push(bytes));
    splitter.push(chunk);
    chunk.fill(0x78);
    splitter.push(Buffer.from('o\n'));
    expect(lines.map((bytes) => bytes.toString())).toEqual(['one\n', 'two\n']);
  });
});

/** Splits `data` fed in chunks of `size` bytes, with lines of at most `max` bytes. */
function splitCapped(data: Buffer, size: number, max: number, encoding = 'utf-8') {
  const lines: Array<{ text: string; bytes: Buffer }> = [];
  const splitter = new LineSplitter((text, bytes) => lines.push({ text, bytes }), encoding, max);
  for (let start = 0; start < data.length; start += size) splitter.push(data.subarray(start, start + size));
  splitter.end();
  return lines;
}

describe('LineSplitter: a long line comes in pieces', () => {
  it('the cap is 1 MiB: a longer line is never held whole', () => {
    expect(MAX_LINE_BYTES).toBe(1024 * 1024);
    const lines = splitCapped(Buffer.alloc(3 * MAX_LINE_BYTES + 5, 0), 64 * 1024, MAX_LINE_BYTES);
    expect(lines.map((line) => line.bytes.length)).toEqual([
      MAX_LINE_BYTES,
      MAX_LINE_BYTES,
      MAX_LINE_BYTES,
      5,
    ]);
  });

  it('pieces of at most the cap, bytes exact, only the last with the newline; short lines after it intact', () => {
    const data = Buffer.concat([Buffer.alloc(2500, 0x61), Buffer.from('\nshort\nend')]);
    for (const size of [1, 7, 100, 5000]) {
      const lines = splitCapped(data, size, 1000);
      expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(data);
      expect(lines.every((line) => line.bytes.length <= 1000)).toBe(true);
      expect(lines.map((line) => line.text).join('')).toBe(data.toString());
      expect(lines.slice(-3).map((line) => line.text)).toEqual([`${'a'.repeat(500)}\n`, 'short\n', 'end']);
      expect(lines.filter((line) => line.text.endsWith('\n'))).toHaveLength(2);
    }
  });

  it('UTF-8: a piece never cuts a character (no U+FFFD), bytes and text end together', () => {
    const text = 'é€😀x'.repeat(300); // 10 bytes a group, no newline
    const data = Buffer.from(text);
    for (const size of [1, 3, 64, 4096]) {
      const lines = splitCapped(data, size, 101);
      expect(lines.length).toBeGreaterThan(25);
      for (const line of lines) {
        expect(line.text).not.toContain('\ufffd');
        expect(Buffer.from(line.text)).toEqual(line.bytes);
        expect(line.bytes.length).toBeLessThanOrEqual(101);
      }
      expect(lines.map((line) => line.text).join('')).toBe(text);
    }
  });

  it('binary: all 256 byte values, no newline for long stretches, bytes exact', () => {
    const block = Buffer.from(Array.from({ length: 256 }, (_, i) => (i === 10 ? 0 : i)));
    const data = Buffer.concat([...Array.from({ length: 40 }, () => block), Buffer.from([10, 0xff, 0xc3])]);
    const lines = splitCapped(data, 777, 1000);
    expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(data);
    expect(lines.every((line) => line.bytes.length <= 1000)).toBe(true);
  });

  it('other encodings: Shift_JIS and Latin-1 text whole across pieces, bytes exact', () => {
    // 日本語 in Shift_JIS: two bytes a character
    const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]);
    const data = Buffer.concat(Array.from({ length: 200 }, () => sjis));
    const lines = splitCapped(data, 13, 101, 'shift_jis');
    expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(data);
    expect(lines.map((line) => line.text).join('')).toBe('日本語'.repeat(200));
    expect(lines.some((line) => line.text.includes('\ufffd'))).toBe(false);
    const latin = Buffer.alloc(1000, 0xe9);
    const latinLines = splitCapped(latin, 64, 300, 'latin1');
    expect(latinLines.map((line) => line.text).join('')).toBe('é'.repeat(1000));
    expect(latinLines.map((line) => line.bytes.length)).toEqual([300, 300, 300, 100]);
  });

  it('UTF-16LE: pieces never split a surrogate pair; text and bytes exact', () => {
    const text = `${'😀a'.repeat(400)}\n${'b😀'.repeat(300)}`;
    const data = Buffer.from(text, 'utf16le');
    for (const size of [1, 3, 64, 5000]) {
      const lines = splitCapped(data, size, 100, 'utf-16le');
      expect(Buffer.concat(lines.map((line) => line.bytes))).toEqual(data);
      expect(lines.map((line) => line.text).join('')).toBe(text);
      for (const line of lines) {
        expect(line.bytes.length).toBeLessThanOrEqual(100);
        expect(Buffer.from(line.text, 'utf16le')).toEqual(line.bytes);
      }
      expect(lines.filter((line) => line.text.endsWith('\n'))).toHaveLength(1);
    }
  });
});
