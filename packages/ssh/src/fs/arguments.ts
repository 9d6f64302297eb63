/**
 * The checks of `node.fs` arguments, made before anything is sent: a bad argument is a
 * one-line ERR_INVALID_OPTION naming the call, the argument and what was expected.
 */
import { posix } from 'node:path';
import { invalidArgument } from './fs-errors.js';

/** A non-empty string without NUL (which neither SFTP nor the kernel can carry). */
export function checkPath(call: string, argument: string, path: unknown): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw invalidArgument(call, argument, 'a non-empty path without NUL', path);
  }
  return path;
}

/**
 * A path `rm` may remove: not `/` nor one made only of `.`, `..` and slashes (`./`, `a/..`
 * normalizes to `.`), whose removal would take the root, the current directory or a parent.
 */
export function checkRemovable(path: unknown): string {
  const checked = checkPath('rm', 'path', path);
  const normal = posix.normalize(checked);
  if (
    normal === '/' ||
    normal === '.' ||
    normal === './' ||
    /^(\.\.\/?)+$/.test(normal) ||
    /^\/+$/.test(normal)
  ) {
    throw invalidArgument(
      'rm',
      'path',
      'a path other than /, . or .. (it would remove a root or a parent)',
      path,
    );
  }
  return checked;
}

/** Permission bits: an integer from 0 to 0o7777. */
export function checkMode(call: string, mode: unknown): number {
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    const shown =
      typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 ? `0o${mode.toString(8)}` : mode;
    throw invalidArgument(call, 'mode', 'permission bits, an integer from 0 to 0o7777', shown);
  }
  return mode;
}

/** A positive integer (a size, a count), or the default when not given. */
export function checkPositive(call: string, argument: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidArgument(call, argument, 'a positive integer', value);
  }
  return value;
}

/** A decoder for `encoding`, any label TextDecoder knows; invalid bytes become U+FFFD. */
export function decoderFor(call: string, encoding: unknown): { decode(input: Uint8Array): string } {
  if (encoding === undefined) return new TextDecoder('utf-8');
  try {
    if (typeof encoding !== 'string') throw new RangeError();
    return new TextDecoder(encoding);
  } catch {
    throw invalidArgument(
      call,
      'encoding',
      "an encoding TextDecoder knows ('utf-8', 'latin1', 'utf-16le', …)",
      encoding,
    );
  }
}

/** Content to write: a string (written as UTF-8) or a Buffer. */
export function checkData(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgument('writeFile', 'data', 'a string or a Buffer', typeof data);
}
