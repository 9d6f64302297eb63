/**
 * LineSplitter, in-process: lines as they complete, with their bytes exactly as they came.
 */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../src/output.js';

function split(chunks: readonly Buffer[]): Array<{ text: string; bytes: Buffer }> {
  const lines: Array<{ text: string; bytes: Buffer }> = [];
  const splitter = new LineSplitter((text, bytes) => lines.push({ text, bytes }));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
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
