/**
 * How the ssh_config modules report a problem: thrown with its file and line by the inner
 * functions, turned into one SshError (naming the alias asked for) by resolveSshConfig.
 */

/** A file and line of the config, for messages. */
export interface Where {
  readonly file: string;
  readonly line: number;
}

/** A config problem at a known place; resolveSshConfig turns it into an SshError. */
export class ConfigProblem extends Error {
  readonly where: Where | undefined;
  /** The jump host being resolved when the problem arose, if not the alias itself. */
  hop: string | undefined;

  constructor(message: string, where?: Where) {
    super(message);
    this.where = where;
  }
}

/** A value quoted for a message, on one line whatever it contains. */
export function show(value: string): string {
  return JSON.stringify(value);
}
