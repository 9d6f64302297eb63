// One import, in its own process: what a script pays before its first line of work.
// Usage: node bench/import-case.mjs <module URL or path> (nothing: the floor, Node's start-up alone)
// Prints one JSON line: {"startMs", "importMs", "maxRssKb"}: startMs = from the process's start to
// this file's first line (Node's start-up, and tsx's when run through it), importMs = the import.
import { performance } from 'node:perf_hooks';

const startMs = performance.now();
const target = process.argv[2];
if (target !== undefined) await import(target);
const importMs = performance.now() - startMs;
process.stdout.write(`${JSON.stringify({ startMs, importMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
