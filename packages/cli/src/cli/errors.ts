/**
 * Errors of the command line and how they are shown: one line on stderr (a ScenarioError keeps its
 * one line per problem), an exit code, a stack trace only with `-D`.
 */
import { CommanderError } from 'commander';
import { LogError } from '../report/log-file.js';
import { ScenarioError } from '../scenario/errors.js';
import { TargetError } from '../targets/errors.js';
import { EXIT } from './exit-codes.js';
import { colours } from './terminal.js';

export { EXIT } from './exit-codes.js';

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The exit code for an error. */
export function exitCodeOf(error: unknown): number {
  if (
    error instanceof UsageError ||
    error instanceof ScenarioError ||
    error instanceof TargetError ||
    error instanceof LogError
  ) {
    return EXIT.usage;
  }
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return EXIT.failure;
}

/** The text to print for an error, without the `jobgraph: ` prefix. */
export function messageOf(error: unknown): string {
  if (error instanceof ScenarioError) return error.message;
  let text = error instanceof Error ? error.message : String(error);
  // Commander's messages start with `error: `, and may add a hint on a second line.
  if (error instanceof CommanderError) text = text.replace(/^error:\s*/, '');
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Writes the error on `stream`: one line (or the problems of a scenario), the stack with `debug`. */
export function reportError(error: unknown, stream: NodeJS.WriteStream, debug: boolean): void {
  const paint = colours(stream);
  stream.write(`${paint.red('jobgraph:')} ${messageOf(error)}\n`);
  if (debug && error instanceof Error && error.stack !== undefined) {
    stream.write(`${paint.dim(error.stack)}\n`);
    if (error.cause !== undefined) {
      const cause =
        error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause);
      stream.write(`${paint.dim(`caused by: ${cause}`)}\n`);
    }
  }
}
