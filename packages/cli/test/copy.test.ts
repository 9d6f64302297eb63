/**
 * push and pull, in-process: {host}, {fqdn}, {user} and {port} in paths, and the progress line.
 */
import { describe, expect, it } from 'vitest';
import { expandPath, progressReporter } from '../src/cli/copy.js';
import type { Outcome } from '../src/cli/fanout.js';
import type { Target } from '../src/targets/resolve.js';

const hop = (hostname: string, user = 'root') => ({
  alias: hostname,
  hostname,
  user,
  port: 22,
  config: undefined,
});
const target = (hostname: string, user?: string): Target => ({
  text: hostname,
  gateways: [],
  host: hop(hostname, user),
});

describe('expandPath', () => {
  it('puts the short name, the full name and the login of each target in the path', () => {
    const fit01 = target('fit01.inria.fr', 'alice');
    expect(expandPath('logs/{host}/{fqdn}-{user}.log', fit01)).toBe('logs/fit01/fit01.inria.fr-alice.log');
    expect(expandPath('/tmp/x', fit01)).toBe('/tmp/x');
  });

  it('puts the port in {port}', () => {
    const container = { ...target('10.0.0.5'), host: { ...hop('10.0.0.5'), port: 2202 } };
    expect(expandPath('logs/{host}-{port}/', container)).toBe('logs/10.0.0.5-2202/');
  });

  it('keeps an IP address whole as {host}', () => {
    expect(expandPath('{host}', target('10.0.0.5'))).toBe('10.0.0.5');
  });
});

describe('progressReporter', () => {
  const outcome = (status: Outcome['status']) => ({ status }) as Outcome;

  it('rewrites one line on a terminal, counts failures, and erases it at the end', () => {
    const written: string[] = [];
    const report = progressReporter('push', { isTTY: true, write: (text: string) => written.push(text) });
    report.onSettled?.(outcome('succeeded'), 1, 3);
    report.onSettled?.(outcome('unreachable'), 2, 3);
    report.onSettled?.(outcome('succeeded'), 3, 3);
    expect(written).toEqual([
      '\r\u001b[Kpush: 1/3 done',
      '\r\u001b[Kpush: 2/3 done, 1 failed',
      '\r\u001b[Kpush: 3/3 done, 1 failed\r\u001b[K',
    ]);
  });

  it('another line on stderr erases the progress first, then draws it again (a Ctrl-C message was glued to it)', () => {
    const written: string[] = [];
    const report = progressReporter('push', { isTTY: true, write: (text: string) => written.push(text) });
    report.onSettled?.(outcome('succeeded'), 1, 3);
    report.stderr.write('jobgraph: interrupted, stopping the jobs…\n');
    expect(written.join('')).toBe(
      '\r\u001b[Kpush: 1/3 done\r\u001b[Kjobgraph: interrupted, stopping the jobs…\npush: 1/3 done',
    );
    report.onSettled?.(outcome('succeeded'), 3, 3);
    written.length = 0;
    report.stderr.write('summary\n');
    expect(written).toEqual(['summary\n']);
  });

  it('says nothing when stderr is not a terminal', () => {
    const stderr = { isTTY: false, write: () => undefined };
    expect(progressReporter('pull', stderr)).toEqual({ onSettled: undefined, stderr });
    expect(progressReporter('pull', { write: () => undefined }).onSettled).toBeUndefined();
  });
});
