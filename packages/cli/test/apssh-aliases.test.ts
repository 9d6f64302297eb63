/**
 * apssh's `-tc` among the options of `jobgraph ssh`.
 */

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { rewriteApsshOptions, TAKES_VALUE } from '../src/cli/apssh-aliases.js';
import { addFanoutCommands } from '../src/cli/fanout-commands.js';

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

describe('the options that take a value', () => {
  it("are those of jobgraph ssh, so that -tc after any of them is apssh's -tc, not a target", () => {
    // (not main.js's buildProgram: importing main.js runs the command line)
    const program = new Command().enablePositionalOptions();
    addFanoutCommands(
      program,
      { stdout: process.stdout, stderr: process.stderr, process } as never,
      () => undefined,
    );
    const ssh = program.commands.find((command) => command.name() === 'ssh');
    const taking = (ssh?.options ?? [])
      .filter((option) => option.required || option.optional)
      .flatMap((option) => [option.short, option.long])
      .filter((flag): flag is string => flag !== undefined);
    expect([...TAKES_VALUE].sort()).toEqual(taking.sort());
    expect(rewriteApsshOptions(['ssh', '--idle-timeout', '5', '-tc', '-t', 'h', 'wc'])).toContain('--time');
  });
});
