/**
 * A target that cannot be understood: the CLI shows it as one line, with the file and line it
 * came from when it was read from a targets file.
 */
export class TargetError extends Error {
  override name = 'TargetError';
  /** The target as written. */
  readonly target: string;
  /** What is wrong with it. */
  readonly why: string;
  /** `file:line` when the target was read from a file. */
  readonly where: string | undefined;

  constructor(target: string, why: string, where?: string) {
    super(`${where === undefined ? '' : `${where}: `}bad target ${JSON.stringify(target)}: ${why}`);
    this.target = target;
    this.why = why;
    this.where = where;
  }

  /** The same error, located at `where` (a file and line). */
  at(where: string): TargetError {
    return new TargetError(this.target, this.why, where);
  }
}
