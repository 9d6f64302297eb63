/**
 * What a template error means for someone who wrote Jinja2: nunjucks' messages name its own
 * internals (`parseAggregate: expected comma after expression`, ``Unable to call `x["keys"]` ``);
 * these say which Jinja2 construct is not supported, and what to write instead.
 */

/** One kind of error, recognised by nunjucks' message (and the template), and what to tell. */
interface Hint {
  readonly when: RegExp;
  readonly also?: RegExp;
  readonly say: (match: RegExpExecArray) => string;
}

const HINTS: readonly Hint[] = [
  {
    when: /unknown block tag: do\b/,
    say: () => '{% do … %} (a Jinja2 extension) is not supported: write {% set _ = … %}',
  },
  {
    when: /parseAggregate: expected comma after expression/,
    also: /\[[^\]]*\bfor\b[^\]]*\bin\b/,
    say: () =>
      'a list comprehension ([x for x in …]) is not supported: build the list with a for loop and append, or use map/select filters',
  },
  {
    when: /expected block end in if statement|unexpected token: in/,
    also: /\bis\s+(not\s+)?in\b/,
    say: () => 'the test `is in` is not supported: write `x in y` (or `x not in y`)',
  },
  {
    when: /expected name as lookup value, got (\d+)/,
    say: (match) => `an index after a dot (x.${match[1]}) is not supported: write x[${match[1]}]`,
  },
  {
    when: /expected block end in set statement/,
    also: /\{%-?\s*set\s+\w+\s*,/,
    say: () =>
      'assigning several names at once ({% set a, b = … %}) is not supported: one {% set %} per name',
  },
  {
    when: /Unable to call `(\w+)\["(\w+)"\]`, which is undefined or falsey/,
    say: (match) =>
      `${match[1]}.${match[2]}() is not supported: ${match[1]} is undefined, or has no method ${match[2]} (see the Jinja2 table in @jobgraph/deferred's README)`,
  },
  {
    when: /Maximum call stack size exceeded/,
    say: () => 'a macro that calls itself without end (the stack ran out): give its recursion a way out',
  },
  {
    when: /Unable to call `(\w+)`, which is undefined or falsey/,
    say: (match) => `${match[1]}() is not defined (a macro or function of that name?)`,
  },
];

/**
 * nunjucks' error message (one line; `[Line x, Column y]`, `Error:` and the paths of the templates
 * it went through taken off) said in Jinja2's
 * terms when it is a construct jobgraph does not support; else the message as it is.
 */
export function explainTemplateError(message: string, template: string): string {
  // nunjucks wraps an error once per template it goes through (an included file's, then the
  // template's): `(unknown path) Template render error: (/dir/part.j2) [Line 2, Column 8] Error: …`
  const reason = message
    .replace(/\[Line \d+, Column \d+\]\s*/g, '')
    .replace(/^(?:\((?:unknown path|\/[^()]*)\)\s*|Template render error:\s*|Error:\s*)+/, '')
    .trim();
  for (const hint of HINTS) {
    const match = hint.when.exec(reason);
    if (match !== null && (hint.also === undefined || hint.also.test(template))) return hint.say(match);
  }
  return reason;
}

/**
 * Where nunjucks' error lies, 1-based, when its message says: `[Line x, Column y]`. nunjucks
 * counts from 1 for its own errors (parse errors, an undefined value printed) but from 0 for the
 * JavaScript errors its runtime wraps (`Error: …`, a call of a missing method): those are moved on by one.
 */
export function templateErrorPosition(message: string): { line: number; column: number } | undefined {
  const at = /\[Line (\d+), Column (\d+)\]\s*(Error: )?/.exec(message);
  if (at === null) return undefined;
  const shift = at[3] === undefined ? 0 : 1;
  return { line: Number(at[1]) + shift, column: Number(at[2]) + shift };
}

/**
 * The file of an included (or imported) template an error comes from, as nunjucks names it in
 * the message (`(/dir/part.j2)`, the innermost last); undefined for an error of the template itself.
 */
export function includedTemplate(message: string): string | undefined {
  return [...message.matchAll(/\((\/[^()]*)\)/g)].at(-1)?.[1];
}
