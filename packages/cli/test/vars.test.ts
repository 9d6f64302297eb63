/**
 * `--var k=v`, in-process: YAML values, nesting, and the names and values it refuses.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/errors.js';
import { parseVars } from '../src/cli/vars.js';

describe('parseVars', () => {
  it('reads numbers, booleans, lists and mappings as YAML, anything else as text; dots nest', () => {
    expect(
      parseVars(['n=3', 'on=true', 'pods=[a, b]', 'node.amf=fit01', 'node.upf=fit02', 'msg=hi there']),
    ).toEqual({
      n: 3,
      on: true,
      pods: ['a', 'b'],
      node: { amf: 'fit01', upf: 'fit02' },
      msg: 'hi there',
    });
  });

  it('a number that would not read back as written stays text: no version loses its zero', () => {
    expect(parseVars(['v=1.10', 'n=007', 'h=0x1F', 'e=1e3', 'port=2222', 'ratio=2.5', 'neg=-3'])).toEqual({
      v: '1.10',
      n: '007',
      h: '0x1F',
      e: '1e3',
      port: 2222,
      ratio: 2.5,
      neg: -3,
    });
    expect(parseVars(['list=[1.10, 007, 3]', 'map={v: 2.0, n: 4}'])).toEqual({
      list: ['1.10', '007', 3],
      map: { v: '2.0', n: 4 },
    });
  });

  it.each(['__proto__.polluted=1', '__proto__=1', 'constructor.x=1', 'a.prototype=1'])(
    'refuses %s: it would reach into JavaScript objects',
    (assignment) => {
      expect(() => parseVars([assignment])).toThrow(UsageError);
      expect(() => parseVars([assignment])).toThrow(/is not allowed as a variable name$/);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('a name that Object.prototype also has is a new variable like any other', () => {
    expect(parseVars(['toString.x=1', 'valueOf=2'])).toEqual({ toString: { x: 1 }, valueOf: 2 });
  });

  it('a template is kept as text (not read as a YAML mapping), for the loader to refuse by name', () => {
    expect(parseVars(['x={{ y }}', 'z={% raw %}'])).toEqual({ x: '{{ y }}', z: '{% raw %}' });
  });
});
