/**
 * What the Jinja2 layer must not do (issue 15's review): change the nunjucks of other code in the
 * process, let a template reach JavaScript's prototypes, change the caller's values, or print a
 * missing value as "undefined" through the Python helpers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Deferred, renderTemplate, Variables } from '../src/index.js';

describe('the Jinja2 layer is contained', () => {
  it("leaves another nunjucks of the process as it is (jobgraph's patches are on a copy of its own)", () => {
    renderTemplate("{{ True }} {{ '%s' % 'x' }}", {});
    const nunjucks = createRequire(import.meta.url)('nunjucks') as {
      Environment: new () => { renderString(text: string, values: object): string };
    };
    expect(
      new nunjucks.Environment().renderString('{{ flag }} {{ 7 % 3 }} {{ (1, 2) }}', { flag: true }),
    ).toBe('true 1 2');
    expect(renderTemplate('{{ flag }} {{ -7 % 3 }} {{ (1, 2) }}', { flag: true })).toBe('True 2 [1, 2]');
  });

  it('a syntax error in an included file is thrown by the render itself (nunjucks threw it in a later tick: a crash); a file including itself fails at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobgraph-include-'));
    try {
      writeFileSync(join(dir, 'broken.j2'), 'one\n{{ 1 + }}\n');
      writeFileSync(join(dir, 'fine.j2'), "{{ 'a' is in ['a'] }}");
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown) => uncaught.push(error);
      process.on('uncaughtException', onUncaught);
      try {
        expect(() => renderTemplate("{% include 'broken.j2' %}", {}, 'strict', { searchPath: dir })).toThrow(
          /^Cannot render template \{% include 'broken\.j2' %\} in \/.+\/broken\.j2 at line 2, column 8: unexpected token: }}$/,
        );
        // lenient gives a broken template back as it is (before: null)
        expect(renderTemplate("{% include 'broken.j2' %}", {}, 'lenient', { searchPath: dir })).toBe(
          "{% include 'broken.j2' %}",
        );
        // a later tick, where nunjucks used to throw
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        process.off('uncaughtException', onUncaught);
      }
      expect(uncaught).toEqual([]);
      expect(renderTemplate("{% include 'fine.j2' %}", {}, 'strict', { searchPath: dir })).toBe('True');
      // a file that includes itself fails at the 100th level (nunjucks went on to a stack overflow, seconds later)
      writeFileSync(join(dir, 'self.j2'), "{% include 'self.j2' %}");
      expect(() => renderTemplate("{% include 'self.j2' %}", {}, 'strict', { searchPath: dir })).toThrow(
        /templates included 100 deep: does \/.+\/self\.j2 include itself\?$/,
      );
      // a chain of files including each other, in loops, renders
      writeFileSync(join(dir, 'c1.j2'), "{% for i in [1, 2] %}{% include 'c2.j2' %}{% endfor %}");
      writeFileSync(join(dir, 'c2.j2'), "{% for j in [1] %}<{% include 'c3.j2' %}>{% endfor %}");
      writeFileSync(join(dir, 'c3.j2'), '{{ i }}');
      expect(renderTemplate("{% include 'c1.j2' %}", {}, 'strict', { searchPath: dir })).toBe('<1><2>');
      // 150 includes side by side are no nesting
      writeFileSync(join(dir, 'leaf.j2'), 'x');
      const siblings = "{% include 'leaf.j2' %}".repeat(150);
      expect(renderTemplate(siblings, {}, 'strict', { searchPath: dir })).toBe('x'.repeat(150));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a for loop over an undefined name in an included file is placed in that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobgraph-include-'));
    try {
      writeFileSync(join(dir, 'part.j2'), 'head\n  {% for x in missing %}{{ x }}{% endfor %}');
      let caught: unknown;
      try {
        renderTemplate("line 1\n{% include 'part.j2' %}", {}, 'strict', { searchPath: dir });
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({
        code: 'ERR_UNDEFINED_VARIABLE',
        variable: 'missing',
        position: { line: 2, column: 15, file: join(dir, 'part.j2') },
      });
      expect((caught as Error).message).toContain(
        `at line 2, column 15 of ${join(dir, 'part.j2')}, included by template`,
      );
      // in the template itself: no file
      expect(() => renderTemplate('{% for x in missing %}{% endfor %}', {}, 'strict')).toThrow(
        /at line 1, column 13 of template: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a macro that calls itself without end fails at once, saying so (not "Maximum call stack size exceeded")', () => {
    expect(() => renderTemplate('{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}', {})).toThrow(
      /: a macro that calls itself without end \(the stack ran out\): give its recursion a way out$/,
    );
    // one with a way out renders, deep as it goes
    const down = '{% macro down(n) %}{% if n > 0 %}{{ down(n - 1) }}{% else %}x{% endif %}{% endmacro %}';
    expect(renderTemplate(`${down}{{ down(500) }}`, {})).toBe('x');
  });

  it('lets no template reach a prototype or a constructor', () => {
    for (const template of [
      "{% set _ = x.__proto__.update({'polluted': 'yes'}) %}",
      "{% set _ = x.constructor.assign(x.constructor.prototype, {'polluted': 'yes'}) %}",
      "{{ x.get('constructor', 'none') }}",
    ]) {
      try {
        renderTemplate(template, { x: {} });
      } catch {
        // refused is fine too: what matters is below
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the name is not there: the default, and nothing printed for it
    expect(
      renderTemplate("{{ x.get('constructor', 'none') }}[{{ x.constructor }}]", { x: {} }, 'lenient'),
    ).toBe('none[]');
  });

  it("reaches no JavaScript through a bare name or an attribute filter (the template's context is an object: `constructor` was Object's, and led to Function)", () => {
    const marker = join(tmpdir(), `jobgraph-template-escape-${process.pid}`);
    const template = [
      "{% set F = constructor.getOwnPropertyDescriptor(constructor.getPrototypeOf(constructor), 'constructor').value %}",
      `{% set _ = F("process.getBuiltinModule('node:fs').writeFileSync('${marker}', 'x')")() %}`,
    ].join('');
    for (const mode of ['strict', 'lenient'] as const) {
      try {
        renderTemplate(template, {}, mode);
      } catch {
        // refused is fine: what matters is that nothing ran
      }
    }
    expect(() => readFileSync(marker)).toThrow();
    for (const name of ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty'])
      expect(() => renderTemplate(`{{ ${name} }}`, {})).toThrow(`Undefined variable "${name}"`);
    // a value of that name is a value like any other
    expect(renderTemplate('{{ toString }}', { toString: 'mine' })).toBe('mine');
    expect(renderTemplate("{{ ['a'] | map(attribute='constructor') | select | list }}", {})).toBe('[]');
    expect(() => renderTemplate('{% set x = {} %}{{ x.__defineGetter__ }}', {})).toThrow(
      /undefined value is printed/,
    );
  });

  it("changes neither the caller's values nor the next render's", () => {
    const hosts = ['h1'];
    const template = "{% set _ = hosts.append('h2') %}{{ hosts | join(',') }}";
    expect(renderTemplate(template, { hosts })).toBe('h1,h2');
    expect(renderTemplate(template, { hosts }, 'lenient')).toBe('h1,h2');
    const deferred = new Deferred(template, new Variables({ hosts }));
    expect(String(deferred)).toBe('h1,h2');
    expect(deferred.render()).toBe('h1,h2');
    expect(hosts).toEqual(['h1']);
  });

  it('never prints a missing value through the Python helpers (str methods, ~, %, *)', () => {
    for (const template of [
      "{{ ('x' ~ missing).upper() }}",
      '{{ host.split(sep) }}',
      '{{ host.startswith(prefix) }}',
      "{{ '%s' % missing }}",
      "{{ '-' * missing }}",
      '{{ pod.name ~ "-log" }}',
    ]) {
      expect(() => renderTemplate(template, { host: 'fit01', pod: {} }), template).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_(UNDEFINED_VARIABLE|TEMPLATE)$/) }),
      );
    }
  });
});
