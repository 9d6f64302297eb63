/**
 * Fault matrix, binary output: a command printing random bytes (invalid UTF-8, NULs, lone CRs) on
 * stdout and stderr does not break the connection or the job; every byte reaches the formatter.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Run, SshNode } from '../../packages/ssh/src/index.js';
import {
  access,
  bed,
  connectionsTo,
  RecordingFormatter,
  runPair,
  trapUnhandledRejections,
} from './harness.js';

trapUnhandledRejections();

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jgfault-binary-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fault matrix: binary output', () => {
  it('random bytes on stdout and stderr: the job succeeds, the bytes arrive intact, the connection goes on', async () => {
    const formatter = new RecordingFormatter();
    const node = new SshNode({
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      ...access({ formatter }),
    });
    const out = join(dir, 'out.bin');
    const err = join(dir, 'err.bin');
    const out2 = await runPair(
      node,
      [
        new Run(
          `head -c 300000 /dev/urandom > ${out}; head -c 50000 /dev/urandom > ${err}; cat ${out}; cat ${err} >&2`,
        ),
        new Run('echo still-fine'),
      ],
      { limit: 20_000 },
    );
    expect(out2.error).toBeUndefined();
    expect(out2.ok).toBe(true);
    const bytes = (stream: 'stdout' | 'stderr') =>
      Buffer.concat(
        formatter.lines.filter((line) => line.stream === stream).map((line) => line.bytes ?? Buffer.alloc(0)),
      );
    const stdout = bytes('stdout');
    const expected = Buffer.concat([await readFile(out), Buffer.from('still-fine\n')]);
    expect(stdout.length).toBe(expected.length);
    expect(stdout.equals(expected)).toBe(true);
    expect(bytes('stderr').equals(await readFile(err))).toBe(true);
    expect(out2.healthyResult).toBe(0);
    expect(await connectionsTo(bed.loopback.hostname, bed.loopback.port)).toBe(0);
  });
});
