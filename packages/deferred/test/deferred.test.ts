import { describe, expect, it } from 'vitest';
import { Deferred, DeferredError, shquote, Variables } from '../src/index.js';

describe('Deferred', () => {
  it('renders a simple variable (apssh test_deferred_1)', () => {
    const vars = new Variables({ fetched: 'a simple variable' });
    expect(new Deferred('echo fetched = {{fetched}}', vars).render()).toBe(
      'echo fetched = a simple variable',
    );
  });

  it('renders numbers and sums as JavaScript prints them (test_deferred_2)', () => {
    const vars = new Variables({ x1: 1, x2: 2.0 });
    expect(new Deferred('echo x1 = {{x1}}', vars).render()).toBe('echo x1 = 1');
    expect(new Deferred('echo x2 = {{x2}}', vars).render()).toBe('echo x2 = 2');
    expect(new Deferred('echo sum = {{x1+x2}}', vars).render()).toBe('echo sum = 3');
    expect(new Deferred('{{ 0.5 + 1 }}', vars).render()).toBe('1.5');
  });

  it('uses the values at render time, not at construction', () => {
    const vars = new Variables();
    const deferred = new Deferred('echo {{ run1 }}', vars);
    vars.run1 = 'from-first-run';
    expect(deferred.render()).toBe('echo from-first-run');
    vars.run1 = 'changed';
    expect(deferred.render()).toBe('echo changed');
  });

  it('keeps shell syntax intact: autoescape is off', () => {
    const vars = new Variables({ file: 'a<b>&"c\'' });
    expect(new Deferred("test -f {{ file }} && cat < {{ file }} || echo 'no'", vars).render()).toBe(
      "test -f a<b>&\"c' && cat < a<b>&\"c' || echo 'no'",
    );
  });

  it('supports Jinja filters, and shquote', () => {
    const vars = new Variables({ name: 'fit01', path: "it's here; rm -rf /" });
    expect(new Deferred('{{ name | upper }}', vars).render()).toBe('FIT01');
    expect(new Deferred('ls {{ path | shquote }}', vars).render()).toBe("ls 'it'\\''s here; rm -rf /'");
    expect(shquote("a'b")).toBe("'a'\\''b'");
  });

  it('render() is strict: an undefined variable throws ERR_UNDEFINED_VARIABLE naming it', () => {
    const vars = new Variables({ defined: 'yes' });
    const deferred = new Deferred('defined: {{ defined }} undefined: {{ undefined_one }}', vars);
    let error: unknown;
    try {
      deferred.render();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DeferredError);
    expect(error).toMatchObject({ code: 'ERR_UNDEFINED_VARIABLE', variable: 'undefined_one' });
    expect((error as Error).message).toBe(
      'Undefined variable "undefined_one" in template: defined: {{ defined }} undefined: {{ undefined_one }}',
    );
  });

  it('render() accepts a missing variable with a default filter', () => {
    expect(new Deferred("{{ missing | default('fallback') }}", new Variables()).render()).toBe('fallback');
  });

  it('toString() is lenient: missing names stay visible as {{ name }} (test_variables)', () => {
    const vars = new Variables({ defined: 'yes' });
    expect(String(new Deferred('defined: {{defined}} undefined: {{undefined}}', vars))).toBe(
      'defined: yes undefined: {{ undefined }}',
    );
    expect(String(new Deferred('echo {{ pod.name }}', new Variables()))).toBe('echo {{ pod.name }}');
  });

  it('a malformed template: render() throws ERR_TEMPLATE, toString() shows it as written', () => {
    const deferred = new Deferred('echo {{ unclosed', new Variables());
    expect(() => deferred.render()).toThrow(expect.objectContaining({ code: 'ERR_TEMPLATE' }));
    expect(deferred.toString()).toBe('echo {{ unclosed');
  });

  it('dupFromString() shares the variables', () => {
    const vars = new Variables({ a: 1 });
    const copy = new Deferred('{{ a }}', vars).dupFromString('a={{ a }}');
    vars.a = 2;
    expect(copy.render()).toBe('a=2');
  });

  it('refuses a template that is not a string, or variables that are not a store', () => {
    expect(() => new Deferred(42 as unknown as string, new Variables())).toThrow(/string, got number/);
    expect(() => new Deferred('x', {} as Variables)).toThrow(/Variables store/);
  });
});

describe('lenient rendering and Jinja tests', () => {
  it('keeps default and "is defined" working when the names are missing', () => {
    const vars = new Variables({ a: 1 });
    expect(String(new Deferred("{{ b | default('x') }}-{{ a }}", vars))).toBe('x-1');
    expect(String(new Deferred('{% if b is defined %}yes{% else %}no{% endif %}', vars))).toBe('no');
    expect(String(new Deferred("{{ b | default('x') }} {{ c }}", vars))).toContain('{{ c }}');
  });
});

describe('missing names under filters and operators', () => {
  const strictError = (template: string, values: Record<string, unknown> = {}) => {
    try {
      new Deferred(template, new Variables(values)).render();
    } catch (error) {
      return error as DeferredError;
    }
    throw new Error(`rendered ${template} without an error`);
  };

  it.each([
    ['echo [{{ typo | shquote }}]', 'typo'],
    ['{{ missing | upper }}', 'missing'],
    ['{{ missing | length }}', 'missing'],
    ['{{ missing + 1 }}', 'missing'],
    ["{{ missing ~ '-x' }}", 'missing'],
    ['{{ (missing) + 1 }}', 'missing'],
    ['{{ [missing, 1] | sum }}', 'missing'],
    ["{{ host | replace('a', other) }}", 'other'],
    ['{{ f() }}', 'f'],
  ])('render() of %s throws ERR_UNDEFINED_VARIABLE naming %s', (template, name) => {
    const error = strictError(template, { host: 'abc' });
    expect(error).toMatchObject({ code: 'ERR_UNDEFINED_VARIABLE', variable: name });
    expect(error.message).toBe(`Undefined variable "${name}" in template: ${template}`);
  });

  it('names the variable that failed, not one that a guard looked up', () => {
    const error = strictError('{% if flag is defined %}on{% endif %} {{ pods | upper }}');
    expect(error).toMatchObject({ variable: 'pods' });
  });

  it.each([
    ["{{ opt | default('') }} {{ out }}", ' undefined reference to foo'],
    ['{% if verbose %}-v {% endif %}{{ out }}', 'undefined reference to foo'],
    ['{{ (count | default(0)) + 1 }} {{ out }}', '1 undefined reference to foo'],
    ['{% if flag is defined and not quiet %}-v {% endif %}{{ out }}', 'undefined reference to foo'],
  ])(
    '%s: a missing name only tested or defaulted is no error, whatever the values print',
    (template, expected) => {
      const vars = new Variables({ out: 'undefined reference to foo' });
      expect(new Deferred(template, vars).render()).toBe(expected);
    },
  );

  it('a Deferred among the values does not stop the outer render from naming its missing names', () => {
    const vars = new Variables({ tag: 'v1' });
    vars.set('inner', new Deferred('build-{{ tag }}', vars));
    for (const template of ['{{ inner }} {{ m + 1 }}', '{{ inner }} {{ m }}']) {
      let caught: unknown;
      try {
        new Deferred(template, vars).render();
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'ERR_UNDEFINED_VARIABLE', variable: 'm' });
    }
    expect(new Deferred('{{ inner }}!', vars).render()).toBe('build-v1!');
  });

  it('a missing attribute of a defined value is a template error that says so', () => {
    const error = strictError('{{ pod.name }}', { pod: {} });
    expect(error).toMatchObject({ code: 'ERR_TEMPLATE' });
    expect(error.message).toContain('an undefined value is printed');
  });

  it('default and "is defined" still accept missing names in render()', () => {
    const vars = new Variables({ a: 1 });
    expect(new Deferred("{{ b | default('x') | upper }}", vars).render()).toBe('X');
    expect(new Deferred('{% if b is defined %}{{ b | upper }}{% else %}none{% endif %}', vars).render()).toBe(
      'none',
    );
  });

  it('toString() keeps filtered missing names visible, with their filters', () => {
    const vars = new Variables({ x1: 1 });
    expect(String(new Deferred('a {{ missing | upper }} {{ x1 }}', vars))).toBe('a {{ missing | upper }} 1');
    expect(String(new Deferred('echo {{ pods | shquote }}', vars))).toBe('echo {{ pods | shquote }}');
    expect(String(new Deferred("{{ name | replace('-', '_') | upper }}", vars))).toBe(
      "{{ name | replace('-', '_') | upper }}",
    );
    expect(String(new Deferred("{{ b | default('x') }} {{ c | upper }}", vars))).toBe('x {{ c | upper }}');
  });
});
