/**
 * Deferred: a template rendered with the variables' values at the last moment (apssh's
 * `Deferred`).
 */
import { DeferredError, DeferredErrorCode } from './errors.js';
import { renderLenient, renderStrict } from './render.js';
import type { Variables } from './variables.js';

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

  /** The text with the current values. @throws DeferredError `ERR_UNDEFINED_VARIABLE`, `ERR_TEMPLATE` */
  render(): string {
    return renderStrict(this.template, this.variables.toObject());
  }

  /** The text with the current values, missing ones shown as `{{ name }}`; never throws. */
  toString(): string {
    return renderLenient(this.template, this.variables.toObject());
  }

  /** A Deferred of another template on the same variables. */
  dupFromString(template: string): Deferred {
    return new Deferred(template, this.variables);
  }
}
