// The output line splitter (packages/ssh/src/output.ts): every byte a command prints goes through
// it. Feeds it in-process, from the built dist/, with 32 KiB chunks as ssh2 delivers them, and
// reports the median of BENCH_REPEAT runs (default 7) per case.
// Run it with `npx -y pnpm@10 bench:lines` (builds the packages first).
import { randomFillSync } from 'node:crypto';

const { LineSplitter } = await import(process.env.BENCH_SPLITTER ?? '../packages/ssh/dist/output.js');

const repeat = Number(process.env.BENCH_REPEAT ?? 7);
const CHUNK = 32 * 1024;
const TOTAL = 50 * 1024 * 1024;

/** TOTAL bytes of `line` repeated, as CHUNK-sized buffers. */
function chunksOf(line) {
  const all = Buffer.alloc(TOTAL);
  for (let at = 0; at < TOTAL; at += line.length) line.copy(all, at);
  return Array.from({ length: TOTAL / CHUNK }, (_, index) =>
    all.subarray(index * CHUNK, (index + 1) * CHUNK),
  );
}

// [chunks, encoding]: UTF-8 (the default) unless said
const cases = {
  '80-byte lines': [chunksOf(Buffer.from(`${'x'.repeat(79)}\n`))],
  'UTF-8 text lines': [chunksOf(Buffer.from(`${'é€'.repeat(13)}\n`))],
  '1 MiB lines': [chunksOf(Buffer.from(`${'y'.repeat(1024 * 1024 - 1)}\n`))],
  'random bytes': [Array.from({ length: TOTAL / CHUNK }, () => randomFillSync(Buffer.alloc(CHUNK)))],
  'latin1 80-byte lines': [chunksOf(Buffer.from(`${'é'.repeat(79)}\n`, 'latin1')), 'latin1'],
  'UTF-16LE 40-char': [chunksOf(Buffer.from(`${'é'.repeat(39)}\n`, 'utf16le')), 'utf-16le'],
  'UTF-16LE 1 MiB lines': [chunksOf(Buffer.from(`${'y'.repeat(512 * 1024 - 1)}\n`, 'utf16le')), 'utf-16le'],
};

console.log(`node ${process.version}, 50 MiB per case in 32 KiB chunks, median of ${repeat} runs`);
console.log('case                  lines      ms    MiB/s');
for (const [name, [chunks, encoding]] of Object.entries(cases)) {
  const times = [];
  let lines = 0;
  for (let run = 0; run < repeat; run++) {
    lines = 0;
    const splitter = new LineSplitter(() => {
      lines++;
    }, encoding);
    const start = process.hrtime.bigint();
    for (const chunk of chunks) splitter.push(chunk);
    splitter.end();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(
    `${name.padEnd(20)} ${String(lines).padStart(7)} ${median.toFixed(0).padStart(7)} ${(50 / (median / 1000)).toFixed(0).padStart(8)}`,
  );
}
