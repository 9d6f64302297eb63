/**
 * Errors of @jobgraph/deferred. This package depends on nothing of jobgraph, so its
 * errors are not JobGraphError instances, but they have the same shape: a stable `code`
 * (`ERR_*`), a one-line message, and the original error as `cause`.
 */

/** The codes of {@link DeferredError}. */
export const DeferredErrorCode = {
  /** A template names a variable that has no value (strict rendering). */
  UNDEFINED_VARIABLE: 'ERR_UNDEFINED_VARIABLE',
  /** A template is malformed, or failed while rendering. */
  TEMPLATE: 'ERR_TEMPLATE',
  /** An argument had the wrong type. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
} as const;

export type DeferredErrorCode = (typeof DeferredErrorCode)[keyof typeof DeferredErrorCode];

/** An error of a template or of its variables. */
/** A place in a template, 1-based; `file` when it is in an included or imported file. */
export interface TemplatePosition {
  readonly line: number;
  readonly column: number;
  readonly file?: string;
}

export class DeferredError extends Error {
  override name = 'DeferredError';
  readonly code: DeferredErrorCode;
  /** The variable that had no value, for `ERR_UNDEFINED_VARIABLE`. */
  readonly variable: string | undefined;
  /**
   * Where in the template, 1-based, when it is known (a `for` loop over an undefined value), with
   * the included or imported file it is in (`file`), if it is in one.
   */
  readonly position: TemplatePosition | undefined;

  constructor(
    code: DeferredErrorCode,
    message: string,
    options: ErrorOptions & { variable?: string; position?: TemplatePosition } = {},
  ) {
    super(message, options);
    this.code = code;
    this.variable = options.variable;
    this.position = options.position;
  }
}
