/**
 * Names of temporary files written beside their target (same directory, so that the final
 * rename is atomic): a dot name, hidden from globs, that stays within the 255-byte limit of a
 * file name however long the target's.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A target's name as it appears in its temporaries: itself, or a hash of it past 180 bytes. */
export function nameStem(name: string): string {
  return Buffer.byteLength(name) > 180 ? createHash('sha256').update(name).digest('hex').slice(0, 32) : name;
}

/**
 * `.<name>.<tag>-<12 hex>`, `<name>` being {@link nameStem} of `name`.
 * @example `temporaryName('data.csv', 'jobgraph')   // '.data.csv.jobgraph-3f9a0c1b2d4e'`
 */
export function temporaryName(name: string, tag: string): string {
  return `.${nameStem(name)}.${tag}-${randomBytes(6).toString('hex')}`;
}
