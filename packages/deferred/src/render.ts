/**
 * Jinja-style rendering with nunjucks: the only module that imports it.
 *
 * - autoescape is OFF: templates are shell commands, `&&`, `<` and quotes must pass intact
 *   (nunjucks escapes HTML by default);
 * - strict rendering names the variable that is missing (nunjucks' own error does not);
 * - lenient rendering leaves a missing variable visible as `{{ name }}`, as Jinja's
 *   DebugUndefined does for apssh, so that labels, graphs and dry runs show the template;
 * - a `shquote` filter quotes a value for a POSIX shell.
 */
import nunjucks from 'nunjucks';
import { DeferredError, DeferredErrorCode } from './errors.js';

/** Single-quotes a value for a POSIX shell: `it's` → `'it'\''s'`. */
export function shquote(value: unknown): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** nunjucks' parser: public in the package, absent from its type definitions. */
const parser = (
  nunjucks as unknown as { parser: { parse(src: string, extensions: unknown[], options: object): unknown } }
).parser;

const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
environment.addFilter('shquote', shquote);

const lenientEnvironment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
lenientEnvironment.addFilter('shquote', shquote);

/**
 * The names a template reads from its context, in order of appearance: loop variables,
 * `set` targets and filter names are not context variables and are left out. (nunjucks
 * copies the context it is given, so a Proxy cannot observe its lookups.)
 */
function contextNames(template: string): string[] {
  const names: string[] = [];
  const local = new Set<string>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const typed = node as { typename?: string; value?: unknown; name?: unknown; targets?: unknown };
    if (typed.typename === 'Symbol' && typeof typed.value === 'string') {
      if (!local.has(typed.value)) names.push(typed.value);
      return;
    }
    if (typed.typename === 'For' || typed.typename === 'AsyncEach' || typed.typename === 'AsyncAll') {
      collectLocal(typed.name, local);
    }
    if (typed.typename === 'Set') collectLocal(typed.targets, local);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'lineno' || key === 'colno' || key === 'typename') continue;
      if (typed.typename === 'Filter' && key === 'name') continue;
      walk(value);
    }
  };
  try {
    walk(parser.parse(template, [], {}));
  } catch {
    return [];
  }
  return [...new Set(names)];
}

function collectLocal(node: unknown, into: Set<string>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectLocal(item, into);
    return;
  }
  const typed = node as { typename?: string; value?: unknown; children?: unknown };
  if (typed.typename === 'Symbol' && typeof typed.value === 'string') into.add(typed.value);
  else collectLocal(typed.children, into);
}

/**
 * Renders strictly: a missing variable throws `ERR_UNDEFINED_VARIABLE` naming it; a
 * malformed template throws `ERR_TEMPLATE`.
 */
export function renderStrict(template: string, values: Record<string, unknown>): string {
  try {
    return environment.renderString(template, values);
  } catch (error) {
    const name = contextNames(template).find((candidate) => values[candidate] === undefined);
    if (name !== undefined) {
      throw new DeferredError(
        DeferredErrorCode.UNDEFINED_VARIABLE,
        `Undefined variable "${name}" in template: ${oneLine(template)}`,
        { cause: error, variable: name },
      );
    }
    throw new DeferredError(
      DeferredErrorCode.TEMPLATE,
      `Cannot render template ${oneLine(template)}: ${why(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Renders leniently: each missing variable shows as `{{ name }}` (attributes of it as
 * `{{ name.attr }}`); a template that cannot render comes back as it is.
 */
export function renderLenient(template: string, values: Record<string, unknown>): string {
  // First as Jinja would: `default` and `is defined` see missing names as undefined.
  try {
    return environment.renderString(template, values);
  } catch {
    // some name is missing where it is printed: show it as {{ name }}
  }
  const context: Record<string, unknown> = {};
  for (const name of contextNames(template))
    if (values[name] === undefined) context[name] = placeholder(name);
  try {
    return lenientEnvironment.renderString(template, { ...context, ...values });
  } catch {
    return template;
  }
}

/** What a missing variable renders as: its own `{{ name }}`, attributes included. */
function placeholder(path: string): unknown {
  const text = `{{ ${path} }}`;
  return new Proxy(
    {},
    {
      get(_target, name) {
        if (name === 'toString' || name === 'valueOf') return () => text;
        if (name === Symbol.toPrimitive) return () => text;
        if (typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'length')
          return undefined;
        return placeholder(`${path}.${name}`);
      },
    },
  );
}

function oneLine(template: string): string {
  const flat = template.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

function why(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Renders any text (a whole scenario file, say) with plain values: `strict` throws
 * `ERR_UNDEFINED_VARIABLE` on a missing name, `lenient` keeps it as `{{ name }}`.
 * @example
 * ```ts
 * renderTemplate('gateway: {{ gateway }}', { gateway: 'faraday' }, 'strict')   // 'gateway: faraday'
 * ```
 */
export function renderTemplate(
  template: string,
  values: Record<string, unknown>,
  mode: 'strict' | 'lenient' = 'strict',
): string {
  return mode === 'strict' ? renderStrict(template, values) : renderLenient(template, values);
}
