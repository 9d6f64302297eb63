/**
 * PrintJob: prints a message, and optionally sleeps (asynciojobs' `PrintJob`).
 */

import { sleep } from '../base/sleep.js';
import { checkDuration, checkString } from '../base/validate.js';
import { AbstractJob, isJobOptionKey, type JobContext, type JobOptions } from './abstract-job.js';

/** Options of {@link PrintJob}, given as its last argument. */
export interface PrintJobOptions extends JobOptions {
  /** Milliseconds to sleep after printing. */
  sleep?: number;
  /** Printed before the messages, followed by a space. */
  banner?: string;
  /** Where the text goes. @default writes to process.stdout */
  write?: (text: string) => void;
}

const PRINT_OPTION_KEYS = new Set(['sleep', 'banner', 'write']);

function isPrintOptions(value: unknown): value is PrintJobOptions {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => PRINT_OPTION_KEYS.has(key) || isJobOptionKey(key));
}

/**
 * A job that prints its messages joined by spaces (like `console.log`), then sleeps
 * `sleep` ms if asked. Its last argument may be an options object.
 * It never fails: a failure to print is ignored, as in asynciojobs.
 *
 * @example
 * ```ts
 * new PrintJob('preparing', 40, 'nodes', { sleep: 1000, banner: '>>>', scheduler })
 * ```
 */
export class PrintJob extends AbstractJob<void> {
  readonly messages: unknown[];
  readonly sleep: number | undefined;
  readonly banner: string | undefined;
  readonly #write: (text: string) => void;

  constructor(...args: unknown[]) {
    const last = args[args.length - 1];
    const options: PrintJobOptions = isPrintOptions(last) ? (args.pop() as PrintJobOptions) : {};
    // checked before super(), which adds the job to its scheduler: a job refused is in none
    const pause = checkDuration('sleep', options.sleep);
    const banner = checkString('banner', options.banner);
    super(options);
    this.messages = args;
    this.sleep = pause;
    this.banner = banner;
    this.#write = options.write ?? ((text) => process.stdout.write(text));
  }

  override async run({ signal }: JobContext): Promise<void> {
    try {
      const banner = this.banner === undefined ? '' : `${this.banner} `;
      this.#write(`${banner}${this.messages.map(String).join(' ')}\n`);
      if (this.sleep !== undefined) this.#write(`Sleeping for ${this.sleep} ms\n`);
    } catch {
      // asynciojobs: a PrintJob never fails because of printing
    }
    if (this.sleep !== undefined) await sleep(this.sleep, signal);
  }

  /** `[+ sleep 100 ms] msg= first message...` */
  override details(): string {
    const sleeping = this.sleep === undefined ? '' : `[+ sleep ${this.sleep} ms] `;
    const more = this.messages.length > 1 ? '...' : '';
    return `${sleeping}msg= ${String(this.messages[0] ?? '')}${more}`;
  }
}
