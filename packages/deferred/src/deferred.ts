/**
 * Deferred: a template rendered with the variables' values at the last moment (apssh's
 * `Deferred`).
 */
import { DeferredError, DeferredErrorCode } from './errors.js';
import { renderLenient, renderStrict, usedNames } from './render.js';
import type { Variables } from './variables.js';

/** The Deferreds being rendered now (renders are synchronous): one that needs itself is an error, not a stack overflow. */
const rendering = new Set<Deferred>();

/**
 * A Jinja template (nunjucks) bound to a {@link Variables} store. Commands render it right
 * before they run, so it can use values computed earlier in the run (a `Capture`).
 *
 * - `render()` is strict: a missing variable throws `ERR_UNDEFINED_VARIABLE` naming it.
 * - `toString()` is lenient: missing variables stay visible as `{{ name }}` (labels,
 *   graphs, dry runs).
 * - Autoescape is off (`a && b`, `<`, quotes reach the shell intact); Jinja expressions and
 *   filters work (`{{ x1 + x2 }}`, `{{ name | upper }}`), plus `shquote`. Numbers render as
 *   JavaScript prints them: `{{ 1 + 2.0 }}` is `3` (Jinja prints `3.0`).
 *
 * @example
 * ```ts
 * const vars = new Variables()
 * new SshJob({ node, command: new Run('kubectl get pod -o name', { capture: new Capture('pod', vars) }), scheduler })
 * new SshJob({ node, command: new Deferred('kubectl logs {{ pod }} > {{ pod | shquote }}.log', vars), scheduler })
 * ```
 */
export class Deferred {
  readonly template: string;
  readonly variables: Variables;

  constructor(template: string, variables: Variables) {
    if (typeof template !== 'string') {
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        `Expected the template of a Deferred to be a string, got ${typeof template}`,
      );
    }
    if (typeof variables !== 'object' || variables === null || typeof variables.toObject !== 'function') {
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        'Expected the second argument of a Deferred to be a Variables store',
      );
    }
    this.template = template;
    this.variables = variables;
  }

  /**
   * The text with the current values; a value that is itself a Deferred is rendered the same
   * way, strictly (its missing variables are errors too, not shown as `{{ name }}`).
   * @throws DeferredError `ERR_UNDEFINED_VARIABLE`, `ERR_TEMPLATE` (also for a Deferred that needs its own text)
   */
  render(): string {
    if (rendering.has(this)) {
      throw new DeferredError(
        DeferredErrorCode.TEMPLATE,
        `Cannot render template ${JSON.stringify(this.template.slice(0, 80))}: its value needs itself (a variable holds a Deferred that uses it)`,
      );
    }
    rendering.add(this);
    try {
      return renderStrict(
        this.template,
        this.#values((value) => value.render()),
      );
    } finally {
      rendering.delete(this);
    }
  }

  /**
   * The text with the current values, missing ones shown as `{{ name }}` (a Deferred value shown
   * as its own `toString()`, as `render()` renders it: the two agree); never throws.
   */
  toString(): string {
    // a Deferred that needs itself is shown as written
    if (rendering.has(this)) return this.template;
    rendering.add(this);
    try {
      return renderLenient(
        this.template,
        this.#values((value) => value.toString()),
      );
    } finally {
      rendering.delete(this);
    }
  }

  /** The variables' values, those this template uses that are Deferreds turned into their text by `text`. */
  #values(text: (value: Deferred) => string): Record<string, unknown> {
    const values = this.variables.toObject();
    for (const name of usedNames(this.template)) {
      const value = values[name];
      if (value instanceof Deferred) values[name] = text(value);
    }
    return values;
  }

  /** A Deferred of another template on the same variables. */
  dupFromString(template: string): Deferred {
    return new Deferred(template, this.variables);
  }
}
