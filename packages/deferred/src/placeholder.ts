/**
 * Placeholders: what a missing variable is in a lenient render — a value that prints as its
 * own `{{ name }}` (attributes of it as `{{ name.attr }}`, calls as `{{ name.items() }}`), so
 * that labels, graphs and dry runs show the template where a value is not known yet. A function
 * (a Proxy of one), so that a method called on it (`nodes.items()`) gives a placeholder too.
 */

/** The key under which a placeholder tells the expression it stands for. */
export const PLACEHOLDER = Symbol('jobgraph.placeholder');

export function isPlaceholder(value: unknown): value is { [PLACEHOLDER]: string } {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
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
  return new Proxy(() => undefined, {
    apply(_target, _this, args: unknown[]) {
      return placeholder(`${path}(${args.map(expressionText).join(', ')})`, attributes);
    },
    get(target, name) {
      if (name === PLACEHOLDER) return path;
      // a call goes through them (`f.apply(…)`, as nunjucks calls): the trap above answers it
      if (name === 'apply' || name === 'call' || name === 'bind') return Reflect.get(target, name);
      if (name === 'toString' || name === 'valueOf') return () => text;
      if (name === Symbol.toPrimitive) return () => text;
      if (typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'length')
        return undefined;
      return attributes ? placeholder(`${path}.${name}`) : undefined;
    },
  });
}

/** How a filter argument reads in a placeholder. */
export function expressionText(value: unknown): string {
  if (isPlaceholder(value)) return value[PLACEHOLDER];
  return typeof value === 'string' ? `'${value.replace(/'/g, "\\'")}'` : String(value);
}
