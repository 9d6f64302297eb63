/**
 * FleetError: what a fleet call with `throwOnError: true` rejects with when some hosts failed,
 * holding every host's result (a command's, a copy's or any per-host value's).
 */
import { SshError, SshErrorCode } from '../errors.js';

/** What every per-host result has: enough to say which host failed and why. */
export interface FleetOutcome {
  /** The host's name in the fleet. */
  readonly host: string;
  /** Done without error (a command: exit code 0). */
  readonly ok: boolean;
  readonly error?: Error | undefined;
  /** A command's exit code, for the message (copies and values have none). */
  readonly exitCode?: number | null;
  /** A command's signal, for the message. */
  readonly signal?: string | null;
}

/** How many failed hosts the message names (a fleet of 500 made a message of every one). */
const MESSAGE_HOSTS = 10;

/** A reason in the message: one line, at most 200 characters. */
function cut(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Why one host failed, for the message: its error, else its exit status. */
function why(result: FleetOutcome): string {
  if (result.error !== undefined) return result.error.message;
  if (result.signal !== undefined && result.signal !== null) return `exit ${result.signal}`;
  if (result.exitCode !== undefined) return `exit ${result.exitCode}`;
  return 'failed';
}

/**
 * The error of a fleet call with `throwOnError: true` (`run`, `copyTo`, `copyFrom`, `each`):
 * `ERR_COMMAND_FAILED`, one line naming the failed hosts (the first 10) and why; `results` holds every host's
 * result, `failed` the failed ones'.
 * @example
 * ```ts
 * try { await fleet.copyTo('app.conf', '/etc/app/', { throwOnError: true }) }
 * catch (error) { if (error instanceof FleetError) for (const r of error.failed) console.log(r.host, r.error?.message) }
 * ```
 */
export class FleetError<R extends FleetOutcome = FleetOutcome> extends SshError {
  override name = 'FleetError';
  /** Every host's result, in host order. */
  readonly results: R[];
  /** The results that are not `ok`. */
  readonly failed: R[];
  /**
   * @param what - what failed, for the message: `command` (run), `copyTo`, `copyFrom`, `call`
   */
  constructor(results: R[], failed: R[], what = 'command') {
    // a line a person reads: the first hosts, each why cut short; every one is in `failed`
    const list = failed.slice(0, MESSAGE_HOSTS).map((r) => `${r.host} (${cut(why(r))})`);
    const more =
      failed.length > MESSAGE_HOSTS ? `; and ${failed.length - MESSAGE_HOSTS} more (see .failed)` : '';
    super(
      SshErrorCode.COMMAND_FAILED,
      `Fleet ${what} failed on ${failed.length} of ${results.length} hosts: ${list.join('; ')}${more}`,
    );
    this.results = results;
    this.failed = failed;
  }
}

/** Throws a {@link FleetError} when asked to and some result is not ok; else returns the results. */
export function checkOutcomes<R extends FleetOutcome>(
  results: R[],
  throwOnError: boolean | undefined,
  what: string,
): R[] {
  const failed = results.filter((result) => !result.ok);
  if (throwOnError === true && failed.length > 0) throw new FleetError(results, failed, what);
  return results;
}
