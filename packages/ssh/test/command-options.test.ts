/**
 * What the commands and SshJob are given is checked when they are made: an option name they do
 * not know (a typo, apssh's spelling) is an error naming it, not silently ignored; a command,
 * arguments or paths of the wrong kind are refused in one line, not run as `null`.
 */
import { describe, expect, it } from 'vitest';
import { LocalNode, Pull, Push, Run, RunScript, RunString, SshJob } from '../src/index.js';

/** The message of what `make` throws, checking it is an ERR_INVALID_OPTION on one line. */
function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect((error as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    const { message } = error as Error;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a refusal');
}

describe('options and arguments checked when a command is made', () => {
  it('an option name a command does not know is refused, naming it and the known ones', () => {
    expect(refusal(() => new Run('exit 1', { allowedExit: [1] } as never))).toMatch(
      /^Unknown option "allowedExit" for Run; expected one of: label, allowedExits, .*pty/,
    );
    expect(refusal(() => new Run('true', { ptty: true } as never))).toMatch(/^Unknown option "ptty" for Run/);
    expect(refusal(() => new Push('a', '/tmp', { recursive: true } as never))).toMatch(
      /^Unknown option "recursive" for Push; expected one of: label, verbose, recurse, preserve$/,
    );
    expect(refusal(() => new Pull('a', 'b', { recursive: true } as never))).toMatch(
      /^Unknown option "recursive" for Pull/,
    );
    expect(refusal(() => new RunScript('x.sh', [], { include: ['lib.sh'] } as never))).toMatch(
      /^Unknown option "include" for RunScript; expected one of: .*includes/,
    );
    expect(refusal(() => new RunString('true', [], { remotename: 'x' } as never))).toMatch(
      /^Unknown option "remotename" for RunString; expected one of: .*remoteName/,
    );
    // the options every one of them does know pass
    expect(
      () => new RunString('true', [], { remoteName: 'x', includes: [], x11: false, label: 'l' }),
    ).not.toThrow();
    expect(
      () => new Run('true', { allowedExits: [1], env: {}, pty: false, ignoreOutputs: true, sudo: true }),
    ).not.toThrow();
  });

  it("a subclass of the user's may take options of its own (only the exact classes check the names)", () => {
    class Tagged extends SshJob {
      constructor(options: ConstructorParameters<typeof SshJob>[0] & { tag: string }) {
        super(options);
      }
    }
    class Loose extends Run {}
    expect(() => new Tagged({ node: new LocalNode(), command: 'true', tag: 'x' })).not.toThrow();
    expect(() => new Loose('true', { mine: 1 } as never)).not.toThrow();
    class MyScript extends RunString {}
    expect(() => new MyScript('true', [], { extra: true } as never)).not.toThrow();
    // the object itself is still checked
    expect(refusal(() => new Loose('true', 'x' as never))).toBe(
      'Expected the options of Run to be an object, got string',
    );
  });

  it('an SshJob option it does not know (critcal) is refused: the job stayed critical', () => {
    const node = new LocalNode();
    expect(refusal(() => new SshJob({ node, command: 'true', critcal: false } as never))).toMatch(
      /^Unknown option "critcal" for an SshJob; expected one of: critical, .*keepConnection/,
    );
    expect(
      () => new SshJob({ node, command: 'true', critical: false, retries: 1, label: 'x', verbose: true }),
    ).not.toThrow();
  });

  it('a command that is no command line: null, an empty line, a list holding an object', () => {
    expect(refusal(() => new Run(null as never))).toBe(
      'Expected Run to be given a command line (a string, a template, or a list of words), got null in it',
    );
    expect(refusal(() => new Run('  '))).toBe(
      'Expected Run to be given a command, got an empty command line',
    );
    expect(refusal(() => new Run(['ls', {} as never]))).toMatch(/got object in it$/);
  });

  it("script arguments: one word as apssh's RunString(body, 'hello') gives it; options in their place said", () => {
    expect(new RunString('echo "$@"', 'hello').args).toEqual(['hello']);
    expect(new RunScript('x.sh', 42 as never).args).toEqual([42]);
    expect(refusal(() => new RunScript('x.sh', { includes: ['lib.sh'] } as never))).toBe(
      'Expected the arguments of RunScript to be a list of words (strings, numbers or templates), got object (options go third: new RunScript(script, [], options))',
    );
  });

  it('the paths of a Push or Pull are non-empty strings (a Pull to undefined failed when it ran)', () => {
    expect(refusal(() => new Pull('/etc/hostname', undefined as never))).toBe(
      'Expected the paths of Pull to be non-empty strings, got undefined',
    );
    expect(refusal(() => new Push(['a', ''], '/tmp'))).toBe(
      'Expected the paths of Push to be non-empty strings, got an empty one',
    );
  });
});
