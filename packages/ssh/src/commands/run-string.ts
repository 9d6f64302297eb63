/**
 * RunString: a script given as text, copied to the node and run (apssh's `RunString`).
 */
import type { Arg, Renderable } from './command.js';
import { isRenderable } from './command.js';
import { ScriptCommand, type ScriptOptions, type ScriptSource } from './script.js';

/** Options of {@link RunString}. */
export interface RunStringOptions extends ScriptOptions {
  /** A readable name for the copy on the node (a random suffix is added). */
  remoteName?: string;
}

/**
 * Writes `scriptBody` to `~/.jobgraph-remote/` on the node (mode 0700), then runs it
 * with `args`. The body may be a template (`Deferred`), rendered right before.
 *
 * @example
 * ```ts
 * new RunString('#!/bin/bash\necho hello from $(hostname) "$@"\n', ['arg1'], { remoteName: 'hello.sh' })
 * ```
 */
export class RunString extends ScriptCommand {
  readonly body: string | Renderable;

  constructor(
    scriptBody: string | Renderable,
    args: readonly Arg[] | Arg = [],
    options: RunStringOptions = {},
  ) {
    super(
      options?.remoteName ?? 'string',
      args,
      options,
      new.target === RunString ? ['remoteName'] : undefined,
    );
    this.body = scriptBody;
  }

  protected source(): ScriptSource {
    return { text: isRenderable(this.body) ? this.body.render() : this.body };
  }

  /** `RunString: <first command line, 15 characters>... args` */
  labelLine(): string {
    const first = String(this.body)
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '' && !line.startsWith('#'));
    const shown = first === undefined ? '??? empty body ???' : firstCharacters(first, 15);
    const args = this.argsLabel();
    return `RunString: ${shown}${args === '' ? '' : ` ${args}`}`;
  }
}

/** The first `count` characters of `text` and `...` if there were more: whole characters (an emoji cut in two showed as �). */
function firstCharacters(text: string, count: number): string {
  const characters = [...new Intl.Segmenter().segment(text)].map((piece) => piece.segment);
  return characters.length > count ? `${characters.slice(0, count).join('')}...` : text;
}
