/**
 * Placeholders: what a missing variable is in a lenient render — a value that prints as its
 * own `{{ name }}` (attributes of it as `{{ name.attr }}`, items as `{{ name[0] }}`, calls as
 * `{{ name.items() }}`, an operator's result as `{{ count * 2 }}`), so that labels, graphs and
 * dry runs show the template where a value is not known yet, and a scenario's pre-render leaves
 * the whole expression to the run-time render. A function (a Proxy of one), so that a method
 * called on it (`nodes.items()`) gives a placeholder too.
 */

/** The key under which a placeholder tells the expression it stands for. */
export const PLACEHOLDER = Symbol('jobgraph.placeholder');
/** Whether the expression is an operator's: it gets parentheses when it is an operand. */
const COMPOUND = Symbol('jobgraph.placeholder.compound');
/** What it counts as in a condition: Jinja's Undefined is false (`x != 1` is true); an arithmetic or an ordering of it cannot be decided. */
const TRUTH = Symbol('jobgraph.placeholder.truth');

export function isPlaceholder(value: unknown): value is { [PLACEHOLDER]: string } {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[PLACEHOLDER] === 'string'
  );
}

/** How a placeholder counts in a condition (Jinja's Undefined: false); undefined when that cannot be decided before the run (`count > 3`). */
export function placeholderTruth(value: { [PLACEHOLDER]: string }): boolean | undefined {
  const truth = (value as unknown as Record<symbol, unknown>)[TRUTH];
  return truth === 'unknown' ? undefined : truth === true;
}

/** What makes a placeholder that is not a plain name. */
export interface PlaceholderKind {
  /** An operator's result: shown in parentheses as an operand. @default false */
  readonly compound?: boolean;
  /** Its truth in a condition; `'unknown'` for what only the run can tell. @default false */
  readonly truth?: boolean | 'unknown';
}

/**
 * What a missing variable renders as: its own `{{ name }}`, attributes included (when
 * `attributes`, `{{ pod.name }}`).
 */
export function placeholder(path: string, attributes = true, kind: PlaceholderKind = {}): unknown {
  const text = `{{ ${path} }}`;
  return new Proxy(() => undefined, {
    apply(_target, _this, args: unknown[]) {
      return placeholder(`${operandText(path, kind)}(${argumentsText(args)})`, attributes);
    },
    get(target, name) {
      if (name === PLACEHOLDER) return path;
      if (name === COMPOUND) return kind.compound === true;
      if (name === TRUTH) return kind.truth ?? false;
      // a call goes through them (`f.apply(…)`, as nunjucks calls): the trap above answers it
      if (name === 'apply' || name === 'call' || name === 'bind') return Reflect.get(target, name);
      if (name === 'toString' || name === 'valueOf') return () => text;
      if (name === Symbol.toPrimitive) return () => text;
      if (typeof name === 'symbol' || name === 'then' || name === 'toJSON' || name === 'length')
        return undefined;
      return attributes ? placeholder(`${operandText(path, kind)}.${name}`) : undefined;
    },
  });
}

/**
 * The placeholder of `value[name]` (or of a slice, `rest` holding its end and step), written
 * as the template can read it back: `hosts[0]`, `hosts[-1]`, `d['a-b']`, `pod.name`, `s[1:]`.
 */
export function placeholderMember(value: { [PLACEHOLDER]: string }, name: unknown, rest: unknown[]): unknown {
  const base = expressionText(value);
  if (rest.length >= 2) {
    const part = (bound: unknown) => (bound === undefined || bound === null ? '' : expressionText(bound));
    // nunjucks gives a step of 1 where none was written
    const step = rest[1] === undefined || rest[1] === null || rest[1] === 1 ? '' : `:${part(rest[1])}`;
    return placeholder(`${base}[${part(name)}:${part(rest[0])}${step}]`);
  }
  if (typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return placeholder(`${base}.${name}`);
  return placeholder(`${base}[${expressionText(name)}]`);
}

/** The placeholder of an operator's result: `count * 2`, `-count`, `count > 3`. */
export function operatorPlaceholder(text: string, truth: boolean | 'unknown' = 'unknown'): unknown {
  return placeholder(text, false, { compound: true, truth });
}

function operandText(path: string, kind: PlaceholderKind): string {
  return kind.compound === true ? `(${path})` : path;
}

/** A call's arguments as the template wrote them: keyword arguments as `name=value`. */
function argumentsText(args: unknown[]): string {
  return args
    .flatMap((arg) => {
      if (isKeywords(arg))
        return Object.entries(arg)
          .filter(([key]) => key !== '__keywords')
          .map(([key, value]) => `${key}=${expressionText(value)}`);
      return [expressionText(arg)];
    })
    .join(', ');
}

/** nunjucks passes keyword arguments as a last object marked `__keywords`. */
function isKeywords(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && (value as { __keywords?: unknown }).__keywords === true
  );
}

/** How a value reads in a placeholder's expression (a filter's argument, an operand), as Jinja would read it back. */
export function expressionText(value: unknown): string {
  if (isPlaceholder(value)) return operandText(value[PLACEHOLDER], { compound: isCompound(value) });
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(expressionText).join(', ')}]`;
  if (isKeywords(value)) return argumentsText([value]);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return `{${Object.entries(value)
      .map(([key, item]) => `${expressionText(key)}: ${expressionText(item)}`)
      .join(', ')}}`;
  return String(value);
}

function isCompound(value: unknown): boolean {
  return (value as Record<symbol, unknown>)[COMPOUND] === true;
}
