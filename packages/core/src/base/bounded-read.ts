/**
 * Reading a small input file — a private key, a known_hosts file, a file an option names — with
 * a bound on its size: a path naming a device or a pipe (`/dev/zero`, `<(yes)`) was read until
 * memory ran out (gigabytes, then a native abort), where it should be a one-line error.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CoreErrorCode, JobGraphError } from './errors.js';

/** How much is read at a time. */
const CHUNK = 64 * 1024;

/**
 * The file holds more than the bound: `larger than 1 MiB (a device or a pipe?)` (a part of a
 * message: callers say which file). Code `ERR_FILE_TOO_LARGE`.
 */
export class FileTooLargeError extends JobGraphError {
  override name = 'FileTooLargeError';
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(CoreErrorCode.FILE_TOO_LARGE, `larger than ${mebibytes(maxBytes)} (a device or a pipe?)`);
    this.maxBytes = maxBytes;
  }
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/**
 * What the reads of one file gave so far: `add` takes the next read (its buffer and how many
 * bytes it filled) and gives the whole file once a read gives none.
 * @throws FileTooLargeError past `maxBytes`
 */
function accumulator(maxBytes: number): (chunk: Buffer, bytesRead: number) => Buffer | undefined {
  const chunks: Buffer[] = [];
  let total = 0;
  return (chunk, bytesRead) => {
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > maxBytes) throw new FileTooLargeError(maxBytes);
    chunks.push(chunk.subarray(0, bytesRead));
    return undefined;
  };
}

/**
 * The bytes of the file at `path`, at most `maxBytes` of them.
 * @throws FileTooLargeError when it holds more; the errors of `open` and `read` as they are
 * @example `const key = await readBounded('~/.ssh/id_ed25519', 1024 * 1024)`
 */
export async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const add = accumulator(maxBytes);
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const whole = add(chunk, (await handle.read(chunk, 0, CHUNK, null)).bytesRead);
      if (whole !== undefined) return whole;
    }
  } finally {
    await handle.close();
  }
}

/** The same, synchronously (a known_hosts file, read while a host key is checked). */
export function readBoundedSync(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const add = accumulator(maxBytes);
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const whole = add(chunk, readSync(fd, chunk, 0, CHUNK, null));
      if (whole !== undefined) return whole;
    }
  } finally {
    closeSync(fd);
  }
}
