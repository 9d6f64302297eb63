/**
 * Jinja2's operators (python-operators.ts): strict renders fail on a missing operand wherever it
 * is, lenient renders keep the whole expression for the run-time render, and the values are
 * Python's. Each case here gave a wrong value, silently, before.
 */
import { describe, expect, it } from 'vitest';
import { Deferred, renderTemplate, Variables } from '../src/index.js';

describe('a missing operand in a strict render', () => {
  it.each([
    ['{{ (zz + 1) | int }}', {}],
    ['{{ (a + zz) | length }}', { a: 'x' }],
    ["{{ (zz + 'abc') | upper }}", {}],
    ['{{ zz + 1 > 3 }}', {}],
    ['{% if zz + 1 > 3 %}a{% else %}b{% endif %}', {}],
    ['echo undefined {{ zz + 1 }}', {}],
    ['{{ zz - 1 }}{{ zz / 2 }}', {}],
    ['{{ -zz }}', {}],
    ['{{ zz < 3 }}', {}],
    ['{% set q = zz %}{{ q }}', {}],
  ])('%s: ERR_UNDEFINED_VARIABLE naming zz (was 0, 10, UNDEFINEDABC, False, NaN…)', (template, values) => {
    expect(() => renderTemplate(template, values)).toThrow(
      expect.objectContaining({ code: 'ERR_UNDEFINED_VARIABLE', variable: 'zz' }),
    );
  });

  it('a comparison for equality is a test, as with Jinja: no error, whatever another value prints', () => {
    expect(renderTemplate('{{ a }} {{ zz == 1 }} {{ zz != 1 }}', { a: 'undefined' })).toBe(
      'undefined False True',
    );
  });

  it("a Deferred among the values renders strictly too: its missing name is an error, not a literal '{{ zz }}'", () => {
    const vars = new Variables();
    vars.set('m', new Deferred('{{ zz }}', vars));
    expect(() => new Deferred('run {{ m }}', vars).render()).toThrow(
      expect.objectContaining({ code: 'ERR_UNDEFINED_VARIABLE', variable: 'zz' }),
    );
    vars.set('zz', 'Z');
    expect(new Deferred('run {{ m }}', vars).render()).toBe('run Z');
    vars.set('loop', new Deferred('{{ loop }}', vars));
    expect(() => new Deferred('{{ loop }}', vars).render()).toThrow('its value needs itself');
    // toString() (labels, dry runs) agrees with render(): the Deferred value is its text
    vars.set('target', new Deferred('user@{{ zz }}', vars));
    const choice = new Deferred('{{ "a" if target == "user@Z" else "b" }} {{ target | upper }}', vars);
    expect(choice.render()).toBe('a USER@Z');
    expect(String(choice)).toBe('a USER@Z');
    expect(String(new Deferred('{{ loop }}', vars))).toBe('{{ loop }}');
  });
});

describe('values as Python computes them', () => {
  it.each([
    ['{{ [1] + [2] }}', '[1, 2]'],
    ["{{ 1 == '1' }}", 'False'],
    ['{{ [1, 2] == [1, 2] }}', 'True'],
    ["{{ {'a': [1]} == {'a': [1]} }}", 'True'],
    ['{{ 7 // 2 }} {{ -7 // 2 }}', '3 -4'],
    ['{{ 2 ** 10 }}', '1024'],
    ['{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}', 'True False'],
    ["{{ 'a' + 'b' }}", 'ab'],
    ['{{ [10] < [9] }} {{ [1, 2] < [1, 2, 0] }}', 'False True'],
    ["{{ 2 * [1] }} {{ 'ab' * true }} {{ [1] * true }}", '[1, 1] ab [1]'],
  ])('%s is %s', (template, expected) => {
    expect(renderTemplate(template, {})).toBe(expected);
  });

  it("text and a number do not add up (Jinja: TypeError), rather than gluing '22' and '1'", () => {
    expect(() => renderTemplate("{{ '22' + 1 }}", {})).toThrow(
      'unsupported operand types for +: str and int: use ~ to join text',
    );
  });

  it.each([
    ['{{ none + 1 }}', 'unsupported operand types for +: none and int'],
    ['{{ [1] + 2 }}', 'unsupported operand types for +: list and int'],
    ["{{ 'x' - 1 }}", 'unsupported operand types for -: str and int'],
    ['{{ 7 // 0 }}', 'division by zero: 7 // 0'],
    ['{{ 7 % 0 }}', 'division by zero: 7 % 0'],
    ["{{ 'a' < 1 }}", "'<' not supported between str and int"],
    ['{{ -"x" }}', 'bad operand type for unary -: str'],
    ['{{ -none }}', 'bad operand type for unary -: none'],
    ['{{ 0 ** -1 }}', 'division by zero: 0 ** -1'],
    ["{{ [1] < ['a'] }}", "'<' not supported between int and str"],
  ])('%s is an error, as in Python (it was 1, 3, NaN, Infinity, NaN, False)', (template, message) => {
    expect(() => renderTemplate(template, {})).toThrow(message);
  });

  it('a comparison chain stops at its first false, as Python does (1 > 2 > x never looks at x)', () => {
    expect(renderTemplate('{{ 1 > 2 > x }}', {})).toBe('False');
  });
});

describe("a lenient render keeps an expression of a missing name whole (a scenario's pre-render leaves it to run time)", () => {
  it.each([
    '{{ count * 2 }}',
    '{{ count | int + 1 }}',
    '{{ (a + b) * 2 }}',
    '{{ -count }}',
    '{{ count > 3 }}',
    '{{ hosts[0] }}',
    '{{ hosts.split()[0] }}',
    '{{ hosts[-1] }}',
    '{{ host[1:] }}',
    '{{ host[:2] }}',
    '{{ host[::2] }}',
    "{{ d['a-b'] }}",
    '{{ xs | sort(reverse=true) }}',
    '{{ n | int(base=16) }}',
    "{{ xs | join(d='-') }}",
    "{{ (x ~ 'a') | upper }}",
    "{{ q | replace('f', 'a\\\\b') }}",
  ])('%s', (template) => {
    const kept = renderTemplate(template, {}, 'lenient');
    expect(kept).toBe(template.replace(/"/g, "'"));
    // and the kept text renders as the original would, once the values are known
    const values = {
      count: 5,
      a: 1,
      b: 2,
      hosts: 'h1 h2',
      host: 'fit01',
      d: { 'a-b': 'ok' },
      xs: ['b', 'a'],
      n: 'ff',
      x: 'y',
      q: 'f',
    };
    expect(renderTemplate(kept, values)).toBe(renderTemplate(template, values));
  });

  it('a missing name held in a list or dict stays a placeholder (JavaScript source was printed); range() of one loops as a missing list does', () => {
    expect(
      renderTemplate(
        '{% set n = {"ip": ip} %}ssh {{ n.ip }} {{ [ip, "b"][0] }} {{ [x, 1] | max }}',
        {},
        'lenient',
      ),
    ).toBe('ssh {{ ip }} {{ ip }} {{ [x, 1] | max }}');
    const loop = '{% for i in range(count) %}x{% endfor %}';
    // went over nothing, in strict and lenient renders alike
    expect(() => renderTemplate(loop, {})).toThrow(expect.objectContaining({ variable: 'count' }));
    expect(() => renderTemplate(loop, {}, 'lenient', { missingLoops: 'error' })).toThrow(
      'Undefined variable "count" in a for loop at line 1, column 19',
    );
    expect(renderTemplate(loop, { count: 2 })).toBe('xx');
    // the name to blame is the first argument that is a name
    expect(() =>
      renderTemplate('{% for i in range(1, n) %}x{% endfor %}', {}, 'lenient', { missingLoops: 'error' }),
    ).toThrow('Undefined variable "n" in a for loop');
  });

  it('the slice of a missing name is a placeholder (it looped until the heap ran out)', () => {
    expect(String(new Deferred('echo {{ host[2:] }}', new Variables()))).toBe('echo {{ host[2:] }}');
  });

  it("a condition only the run can decide: false for a label, an error naming the variable for a scenario's pre-render", () => {
    const template = '{% if count > 3 %}big{% else %}small{% endif %}';
    expect(renderTemplate(template, {}, 'lenient')).toBe('small');
    expect(() => renderTemplate(template, {}, 'lenient', { missingLoops: 'error' })).toThrow(
      expect.objectContaining({
        code: 'ERR_UNDEFINED_VARIABLE',
        variable: 'count',
        message: expect.stringContaining('Cannot decide the condition count > 3 of template'),
      }),
    );
    // `in` too (it left the whole file unrendered: YAML errors on every tag)
    expect(() =>
      renderTemplate('{% if "x" in hosts %}y{% endif %}', {}, 'lenient', { missingLoops: 'error' }),
    ).toThrow(
      expect.objectContaining({
        variable: 'hosts',
        message: expect.stringContaining("Cannot decide the condition 'x' in hosts"),
      }),
    );
    expect(renderTemplate('{{ "x" in hosts }}', {}, 'lenient')).toBe("{{ 'x' in hosts }}");
    // a bare name is Jinja's Undefined, false, in both
    expect(renderTemplate('{% if lease %}L{% endif %}', {}, 'lenient', { missingLoops: 'error' })).toBe('');
  });

  it('a condition on a missing name is false, as Jinja counts its Undefined (`!=` of it: true)', () => {
    expect(
      renderTemplate('{% if x %}yes{% else %}no{% endif %} {% if x != 1 %}ne{% endif %}', {}, 'lenient'),
    ).toBe('no ne');
  });
});

describe("Jinja2's `is in` test", () => {
  it('is read as `in` in tags, and left as written inside {% raw %} (it was rewritten there too)', () => {
    expect(renderTemplate('{{ 1 is in [1, 2] }}', {})).toBe('True');
    expect(renderTemplate('{% raw %}{{ a is in b }}{% endraw %} {{ 3 is not in [1] }}', {})).toBe(
      '{{ a is in b }} True',
    );
  });
});

describe('a list or dict inside itself', () => {
  it('prints as Python prints it, [1, [...]], where every render overflowed the stack ("a macro that calls itself")', () => {
    const list: unknown[] = [1];
    list.push(list);
    const dict: Record<string, unknown> = { a: 1 };
    dict.self = dict;
    expect(renderTemplate('{{ l }} {{ d }} {{ l | length }}', { l: list, d: dict })).toBe(
      "[1, [...]] {'a': 1, 'self': {...}} 2",
    );
    expect(() => renderTemplate('{{ l | tojson }}', { l: list })).toThrow('circular reference');
  });
});
