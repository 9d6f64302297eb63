/**
 * Jinja2's `x is in y` test, which nunjucks cannot parse, rewritten as the `in` operator: for the
 * templates rendered (render.ts) and the files they include (engine.ts's loader).
 */

/** A `{% raw %}…{% endraw %}` block, or a tag. */
const RAW_OR_TAG = /\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}|\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/**
 * Jinja2's test `in` written as a test (`x is in y`, `x is not in y`) as the operator it is the
 * same as (`x in y`, `x not in y`): nunjucks cannot parse the first form, and reads `x is in
 * [1, 2]` as an always-false test. Inside tags only, outside quoted strings; the same length, so
 * that error positions stay right. Files read by `{% include %}` and `{% import %}` are
 * rewritten too, as they are loaded (engine.ts).
 */
export function withInOperator(template: string): string {
  if (!/\bis\s+(not\s+)?in\b/.test(template)) return template;
  // a `{% raw %}` block is text, kept as it is (matched first, so that its tags are not rewritten)
  return template.replace(RAW_OR_TAG, (tag) =>
    /^\{%-?\s*raw\b/.test(tag)
      ? tag
      : tag
          .split(/('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/)
          .map((part, index) =>
            index % 2 === 1
              ? part
              : part
                  .replace(/\bis(\s+)not(\s+)in\b/g, (all, a: string, b: string) =>
                    `not${a}in${b}`.padEnd(all.length),
                  )
                  .replace(/\bis(\s+)in\b/g, (all, a: string) => `in${a}`.padEnd(all.length)),
          )
          .join(''),
  );
}
