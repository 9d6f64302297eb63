import { describe, expect, it } from 'vitest';
import { Capture, Variables } from '../src/index.js';

describe('Variables', () => {
  it('gets and sets by method and by property, in both directions', () => {
    const vars = new Variables({ lease: 'L1' });
    expect(vars.get('lease')).toBe('L1');
    expect(vars.set('pod', 'web-1')).toBe(vars);
    expect(vars.pod).toBe('web-1');
    vars.node = 'fit01';
    expect(vars.get('node')).toBe('fit01');
    expect(vars.has('node')).toBe(true);
    expect(vars.has('missing')).toBe(false);
    expect(vars.keys()).toEqual(['lease', 'pod', 'node']);
    expect(vars.toObject()).toEqual({ lease: 'L1', pod: 'web-1', node: 'fit01' });
    expect(vars.delete('pod')).toBe(true);
    expect('pod' in vars).toBe(false);
  });

  it('keeps its method names out of the values', () => {
    const vars = new Variables();
    expect(() => {
      (vars as unknown as Record<string, unknown>).get = 1;
    }).toThrow(
      '"get" is a method of Variables: set that variable with vars.set("get", value), read it with vars.get("get")',
    );
    expect(typeof vars.get).toBe('function');
    // through set(), get() and the initial values, such a name is a variable like any other
    // (a scenario's `capture: keys`, apssh's Variables being a dict)
    vars.set('keys', 'K');
    expect(vars.get('keys')).toBe('K');
    expect(typeof vars.keys).toBe('function');
    expect(new Variables({ set: 1 }).get('set')).toBe(1);
  });

  it('refuses what is no store of names from plain JavaScript, in one line', () => {
    const bad = (make: () => unknown, message: string) =>
      expect(make).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(message) }),
      );
    bad(() => new Variables(null as never), 'got null');
    bad(() => new Variables('abc' as never), 'got string');
    bad(() => new Variables(['a'] as never), 'got an array');
    bad(() => new Variables().set(5 as never, 'x'), 'got 5');
    bad(() => new Variables().set('', 'x'), 'got an empty string');
  });
});

describe('Capture', () => {
  it('stores output without its last newline', () => {
    const vars = new Variables();
    new Capture('host', vars).store('fit01\n');
    expect(vars.host).toBe('fit01');
    new Capture('noeol', vars).store('a\nb');
    expect(vars.noeol).toBe('a\nb');
    // a pty ends its lines with \r\n: the pair is the newline
    new Capture('pty', vars).store('pod-0\r\n');
    expect(vars.pty).toBe('pod-0');
  });

  it('refuses an empty variable name', () => {
    expect(() => new Capture('', new Variables())).toThrow(/non-empty string/);
    // found before the command runs, not after (its output lost)
    expect(() => new Capture('x', {} as never)).toThrow(
      'Expected the second argument of Capture("x") to be a Variables store, got object',
    );
    expect(() => new Capture('x', undefined as never)).toThrow('got undefined');
    const vars = new Variables();
    new Capture('bytes', vars).store(Buffer.from('fit01\n'));
    expect(vars.bytes).toBe('fit01');
    expect(() => new Capture('n', vars).store(5 as never)).toThrow('to be a string or bytes, got number');
  });
});
