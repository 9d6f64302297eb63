/**
 * apssh's `-tc` among the options of `jobgraph ssh`.
 */
import { describe, expect, it } from 'vitest';
import { rewriteApsshOptions } from '../src/cli/apssh-aliases.js';

describe('rewriteApsshOptions', () => {
  it('turns -tc into --time among the options of ssh', () => {
    expect(rewriteApsshOptions(['ssh', '-tc', '-t', 'fit01', 'uname'])).toEqual([
      'ssh',
      '--time',
      '-t',
      'fit01',
      'uname',
    ]);
    expect(rewriteApsshOptions(['ssh', '-t', 'fit01', '-w', '3', '-tc', 'uname'])).toEqual([
      'ssh',
      '-t',
      'fit01',
      '-w',
      '3',
      '--time',
      'uname',
    ]);
  });

  it('leaves alone option values, the command, what follows --, and other subcommands', () => {
    // the value of an option is kept as written
    expect(rewriteApsshOptions(['ssh', '-t', '-tc', 'x'])).toEqual(['ssh', '-t', '-tc', 'x']);
    expect(rewriteApsshOptions(['ssh', '-t', 'h', 'grep', '-tc', 'x'])).toEqual([
      'ssh',
      '-t',
      'h',
      'grep',
      '-tc',
      'x',
    ]);
    expect(rewriteApsshOptions(['ssh', '-t', 'h', '--', '-tc'])).toEqual(['ssh', '-t', 'h', '--', '-tc']);
    expect(rewriteApsshOptions(['push', '-tc'])).toEqual(['push', '-tc']);
  });
});
