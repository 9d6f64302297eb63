/**
 * RunScript: copies a local script to the node and runs it (apssh's `RunScript`).
 */
import { basename } from 'node:path';
import type { Arg } from './command.js';
import { ScriptCommand, type ScriptOptions, type ScriptSource } from './script.js';

/**
 * Copies `localScript` (and `includes`, next to it) to `~/.jobgraph-remote/` on the
 * node, then runs it with `args`.
 *
 * @example
 * ```ts
 * new RunScript('scripts/setup.sh', ['--channel', 6], { includes: ['scripts/lib.sh'] })
 * ```
 */
export class RunScript extends ScriptCommand {
  readonly localScript: string;

  constructor(localScript: string, args: readonly Arg[] | Arg = [], options: ScriptOptions = {}) {
    super(basename(localScript), args, options, new.target === RunScript ? [] : undefined);
    this.localScript = localScript;
  }

  protected source(): ScriptSource {
    return { file: this.localScript };
  }

  /** `RunScript: setup.sh --channel 6` */
  labelLine(): string {
    const args = this.argsLabel();
    return `RunScript: ${basename(this.localScript)}${args === '' ? '' : ` ${args}`}`;
  }
}
