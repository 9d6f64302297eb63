/**
 * The events SSH jobs add to a scheduler's event stream (module augmentation of core's
 * EventMap): listeners of `scheduler.on('cmd:line', …)` get every output line.
 */
import type { AbstractJob } from '@jobgraph/core';

declare module '@jobgraph/core' {
  interface EventMap {
    /** A command of an SshJob starts; `index` counts from 1. */
    'cmd:start': { job: AbstractJob; node: string; command: string; index: number };
    /** A line of a command's output (with its newline if it had one). */
    'cmd:line': { job: AbstractJob; node: string; stream: 'stdout' | 'stderr'; line: string };
    /**
     * The state of a progress bar a command draws with carriage returns in a line not ended yet
     * (`curl`, `pv`, `apt`), at most 10 times a second: for a live view. The line itself comes as
     * a `cmd:line` once it ends; logs (`jsonLinesSink`, `--report`) leave these events out.
     */
    'cmd:progress': { job: AbstractJob; node: string; stream: 'stdout' | 'stderr'; text: string };
    /**
     * A command ended; `ok` says whether it counts as success (0 or an allowed exit); `bytes`,
     * for a Push or Pull over SFTP, the file content it copied. A command that did not end on its
     * own (cancelled, timed out, its connection lost) ends too, with `ok: false`, no exit code and
     * the `error` that stopped it: every `cmd:start` has its `cmd:done`.
     */
    'cmd:done': {
      job: AbstractJob;
      node: string;
      command: string;
      index: number;
      exitCode: number | null;
      signal: string | null;
      ok: boolean;
      bytes?: number;
      error?: unknown;
    };
    /** A connection to `node` is up (authenticated); `direct`: false when through a gateway. From attachSshEvents(). */
    'ssh:connect': { node: string; direct: boolean };
    /** A connection to `node` could not be made: `error` says why, on one line. From attachSshEvents(). */
    'ssh:connect-failed': { node: string; error: string };
    /**
     * A connection to `node` ended: closed by jobgraph (`lost: false`), or lost (`lost: true`, with
     * the `error`: sshd gone, the network cut, a keepalive unanswered). From attachSshEvents().
     */
    'ssh:close': { node: string; lost: boolean; error?: string };
  }
}
