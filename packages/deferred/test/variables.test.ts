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
    }).toThrow(TypeError);
    expect(typeof vars.get).toBe('function');
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
  });
});
