/**
 * Placeholders: what a missing variable is in a lenient render — an object that prints as its
 * own `{{ name }}` (attributes of it as `{{ name.attr }}`), so that labels, graphs and dry runs
 * show the template where a value is not known yet.
 */

/** The key under which a placeholder tells the expression it stands for. */
export const PLACEHOLDER = Symbol('jobgraph.placeholder');

export function isPlaceholder(value: unknown): value is { [PLACEHOLDER]: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[PLACEHOLDER] === 'string'
  );
}

/**
 * What a missing variable renders as: its own `{{ name }}`, attributes included (when
 * `attributes`, `{{ pod.name }}`).
 */
export function placeholder(path: string, attributes = true): unknown {
  const text = `{{ ${path} }}`;
  return new Proxy(
    {},
    {
      get(_target, name) {
        if (name === PLACEHOLDER) return path;
        if (name === 'toString' || name === 'valueOf') return () => text;
        if (name === Symbol.toPrimitive) return () => text;
        if (typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'length')
          return undefined;
        return attributes ? placeholder(`${path}.${name}`) : undefined;
      },
    },
  );
}

/** How a filter argument reads in a placeholder. */
export function expressionText(value: unknown): string {
  if (isPlaceholder(value)) return value[PLACEHOLDER];
  return typeof value === 'string' ? `'${value.replace(/'/g, "\\'")}'` : String(value);
}
