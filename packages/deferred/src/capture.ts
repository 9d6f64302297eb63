/**
 * Capture: where a command's output goes once it has run (apssh's `Capture`).
 */
import { DeferredError, DeferredErrorCode } from './errors.js';
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
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        `Expected the Capture variable name to be a non-empty string, got ${String(varname)}`,
      );
    }
    // checked now: found wrong once the command has run, its output would be lost
    if (typeof variables !== 'object' || variables === null || typeof variables.set !== 'function') {
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        `Expected the second argument of Capture("${varname}") to be a Variables store, got ${variables === null ? 'null' : typeof variables}`,
      );
    }
    this.varname = varname;
    this.variables = variables;
  }

  /** Stores `output` without its last newline (if any; `\r\n` from a pty counts as one). */
  store(output: string | Uint8Array): void {
    if (output instanceof Uint8Array) output = Buffer.from(output).toString('utf8');
    if (typeof output !== 'string') {
      throw new DeferredError(
        DeferredErrorCode.INVALID_OPTION,
        `Expected the output stored by Capture("${this.varname}") to be a string or bytes, got ${typeof output}`,
      );
    }
    const end = output.endsWith('\r\n') ? 2 : output.endsWith('\n') ? 1 : 0;
    this.variables.set(this.varname, output.slice(0, output.length - end));
  }
}
