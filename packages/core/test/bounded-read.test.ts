/**
 * readBounded / readBoundedSync (base/bounded-read.ts): a small input file is read whole; one that
 * holds more than the bound — a device such as /dev/zero never ends — is an error, not gigabytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileTooLargeError, readBounded, readBoundedSync } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jobgraph-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readBounded', () => {
  it('reads a file up to the bound whole, over several chunks; one byte more is FileTooLargeError', async () => {
    const path = join(dir, 'exact.bin');
    const bytes = Buffer.alloc(200 * 1024, 7);
    writeFileSync(path, bytes);
    expect((await readBounded(path, bytes.length)).equals(bytes)).toBe(true);
    expect(readBoundedSync(path, bytes.length).equals(bytes)).toBe(true);
    await expect(readBounded(path, bytes.length - 1)).rejects.toBeInstanceOf(FileTooLargeError);
    // a JobGraphError with its code, as every error of the library
    await expect(readBounded(path, bytes.length - 1)).rejects.toMatchObject({
      code: 'ERR_FILE_TOO_LARGE',
      name: 'FileTooLargeError',
    });
    expect(() => readBoundedSync(path, bytes.length - 1)).toThrow(FileTooLargeError);
  });

  it('stops at the bound on a device that never ends, with a message that says what it may be', async () => {
    await expect(readBounded('/dev/zero', 1024 * 1024)).rejects.toThrow(
      /^larger than 1 MiB \(a device or a pipe\?\)$/,
    );
    expect(() => readBoundedSync('/dev/zero', 64 * 1024)).toThrow(/^larger than 0\.1 MiB/);
  });

  it('an empty file is an empty buffer; a missing one is the error of open', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect((await readBounded(empty, 10)).length).toBe(0);
    await expect(readBounded(join(dir, 'missing'), 10)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
