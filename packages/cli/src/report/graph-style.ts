/**
 * How the job graph shows a job's status: the fill colours of `run --graph` and of the report's
 * graph, and DOT's quoting.
 */
import type { JobStatus } from './job-status.js';

/** Fill colours of the job graph, by status. */
export const FILL: Record<JobStatus, string> = {
  done: 'palegreen',
  failed: 'lightpink',
  cancelled: 'khaki',
  idle: 'white',
  scheduled: 'lightgrey',
  running: 'lightblue',
};

/** A DOT string literal. */
export function dotQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
