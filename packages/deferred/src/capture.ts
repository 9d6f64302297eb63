/**
 * Capture: where a command's output goes once it has run (apssh's `Capture`).
 */
import type { Variables } from './variables.js';

/**
 * Names the variable that receives a command's standard output, without its last
 * newline, once the command is done.
 *
 * @example
 * ```ts
 * new Run('hostname', { capture: new Capture('host', vars) })   // then vars.host === 'fit01'
 * ```
 */
export class Capture {
  readonly varname: string;
  readonly variables: Variables;

  constructor(varname: string, variables: Variables) {
    if (typeof varname !== 'string' || varname === '') {
      throw new TypeError(
        `Expected the Capture variable name to be a non-empty string, got ${String(varname)}`,
      );
    }
    this.varname = varname;
    this.variables = variables;
  }

  /** Stores `output` without its last newline (if any; `\r\n` from a pty counts as one). */
  store(output: string): void {
    const end = output.endsWith('\r\n') ? 2 : output.endsWith('\n') ? 1 : 0;
    this.variables.set(this.varname, output.slice(0, output.length - end));
  }
}
