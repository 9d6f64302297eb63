/**
 * The Jinja2 pre-render of a scenario file (apssh's `.yaml.j2`): rendered leniently, so that a
 * name given no value stays `{{ name }}` for run time (a Deferred); `{% include %}` read from the
 * scenario's directory; and the errors said with the file, line and column, in Jinja2's terms.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  explainTemplateError,
  includedTemplate,
  renderTemplate,
  type TemplatePosition,
  templateErrorPosition,
} from '@jobgraph/deferred';
import { ScenarioError } from './errors.js';

/**
 * Renders `text` leniently (undefined names stay as `{{ name }}`). The lenient renderer gives the text
 * back unchanged when the template is broken: a strict render then tells why. A `for` loop over a
 * name given no value cannot be kept for run time: that is an error, where the name is used.
 */
export function renderOrThrow(file: string, text: string, values: Record<string, unknown>): string {
  const fail = (message: string, cause?: unknown): never => {
    throw new ScenarioError(file, [{ file, path: '(root)', message }], cause === undefined ? {} : { cause });
  };
  const options = { searchPath: dirname(file), missingLoops: 'error' } as const;
  const loopFailure = (error: unknown) => {
    const { code, position, variable } = error as {
      code?: unknown;
      position?: TemplatePosition;
      variable?: string;
    };
    // a condition cannot wait for run time either: it chooses what the scenario holds
    if (
      code === 'ERR_UNDEFINED_VARIABLE' &&
      position !== undefined &&
      (error as Error).message.startsWith('Cannot decide')
    ) {
      const expression =
        /^Cannot decide the condition (.*?) of template /.exec((error as Error).message)?.[1] ?? '';
      fail(
        `template error at ${position.file ?? file}:${position.line}:${position.column}: the condition ${expression} uses "${variable}", which has no value yet (give it a value: --var ${variable}=…; a value captured during the run cannot choose what the scenario holds)`,
        error,
      );
    }
    // a for loop cannot wait for run time: its list must have a value now
    if (code === 'ERR_UNDEFINED_VARIABLE' && position !== undefined) {
      fail(
        `template error at ${position.file ?? file}:${position.line}:${position.column}: undefined variable "${variable}" in a for loop (give it a value: --var ${variable}=…)`,
        error,
      );
    }
    return code;
  };
  let rendered: string;
  try {
    rendered = renderTemplate(text, values, 'lenient', options);
  } catch (error) {
    loopFailure(error);
    throw error;
  }
  if (rendered !== text || !TEMPLATE_SYNTAX.test(text)) return rendered;
  try {
    renderTemplate(text, values, 'strict', options);
  } catch (error) {
    if (loopFailure(error) !== 'ERR_UNDEFINED_VARIABLE') {
      throw new ScenarioError(
        file,
        [{ file, path: '(root)', message: templateErrorText(file, text, error) }],
        {
          cause: error,
        },
      );
    }
  }
  return rendered;
}

/** What opens a Jinja tag, expression or comment: text holding it is read as a template. */
export const TEMPLATE_SYNTAX = /\{\{|\{%|\{#/;

/**
 * `template error at x.yaml.j2:11:4: unknown block tag: endfo`, from what nunjucks says. An error
 * in an included file is placed in that file (nunjucks names it), with its line when nunjucks
 * gives one, or when the file's text tells (an unknown filter, a tag left open).
 */
function templateErrorText(file: string, text: string, error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const message = (cause instanceof Error ? cause.message : String(cause)).replace(/\s*\n\s*/g, ' ');
  const at = templateErrorPosition(message);
  const included = includedTemplate(message);
  const where = included ?? file;
  const source = included === undefined ? text : textOf(included);
  if (at !== undefined)
    return `template error at ${where}:${at.line}:${at.column}: ${explainTemplateError(message, source)}`;
  let reason = explainTemplateError(message, source);
  if (/expected end of comment/.test(reason) && source.includes('${#')) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, quoted for the user
    reason += ' ({# opens a Jinja comment: write a shell ${#name} as {% raw %}${#name}{% endraw %})';
  }
  if (/^template not found: /.test(reason))
    reason += ` (include and import read files from ${dirname(file)}, the scenario's directory)`;
  const block = /end of file/.test(reason) ? unclosedBlock(source) : undefined;
  if (block !== undefined)
    reason += ` (this {% ${block.name} %} is never closed: expected {% end${block.name} %})`;
  const offset = block?.index ?? errorOffset(source, reason);
  if (offset === undefined)
    return included === undefined
      ? `template error: ${reason}`
      : `template error in ${included} (included): ${reason}`;
  const before = source.slice(0, offset).split('\n');
  return `template error at ${where}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}: ${reason}`;
}

/** The text of an included file, to place its error in; empty when it cannot be read (any more). */
function textOf(path: string): string {
  try {
    // as the loader: no device, nothing past 16 MiB (a link to /dev/zero was read for good)
    const entry = statSync(path);
    return entry.isFile() && entry.size <= 16 * 1024 * 1024 ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
}

/** Where the text opens a tag it never closes: the first `open` with no `close` before the next tag. */
function unclosed(text: string, open: string, close: string): number | undefined {
  for (let at = text.indexOf(open); at >= 0; at = text.indexOf(open, at + open.length)) {
    const end = text.indexOf(close, at + open.length);
    const next = text.slice(at + open.length).search(/\{[{%#]/);
    if (end < 0 || (next >= 0 && at + open.length + next < end)) return at;
  }
  return undefined;
}

/** The block tags that need an end tag, and theirs. */
const BLOCKS = ['for', 'if', 'macro', 'call', 'filter', 'raw', 'block'];

/**
 * Where the text opens a block (`{% for %}`, `{% if %}`, `{% macro %}`…) that it never ends: the
 * innermost one left open at the end of the text. `{% set x %}…{% endset %}` is counted only in
 * its block form. undefined when every block is closed.
 */
function unclosedBlock(text: string): { index: number; name: string } | undefined {
  const open: { index: number; name: string }[] = [];
  for (const tag of text.matchAll(/\{%-?\s*(end)?(\w+)([^%]*)%\}/g)) {
    const [, end, name = '', rest = ''] = tag;
    const isBlock = BLOCKS.includes(name) || (name === 'set' && !rest.includes('='));
    if (!isBlock) continue;
    if (end === undefined) open.push({ index: tag.index ?? 0, name });
    else open.pop();
  }
  return open.at(-1);
}

/**
 * Where nunjucks' error lies, for the errors it gives no line for: an unknown filter (its first
 * use), a tag left open, a file to include that is not there. (A block left open: unclosedBlock.) undefined when the text does not tell.
 */
function errorOffset(text: string, reason: string): number | undefined {
  const filter = /^filter not found: (\w+)/.exec(reason)?.[1];
  if (filter !== undefined) {
    // inside a tag only: `dmesg | head` in a command is a shell pipe, not a filter
    const use = new RegExp(`\\|\\s*${filter}\\b`);
    for (const tag of text.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)) {
      const found = use.exec(tag[0]);
      if (found !== null) return (tag.index ?? 0) + found.index + found[0].length - filter.length;
    }
    return undefined;
  }
  const missing = /^template (?:not found: (.+?) \(|"(.+?)" is )/
    .exec(reason)
    ?.slice(1)
    .find((name) => name !== undefined);
  if (missing !== undefined) {
    const name = missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const use = new RegExp(`\\{%-?\\s*(?:include|import|from|extends)\\s+['"]${name}['"]`).exec(text);
    return use === null ? undefined : use.index;
  }
  if (/expected variable end/.test(reason)) return unclosed(text, '{{', '}}');
  if (/expected block end/.test(reason)) return unclosed(text, '{%', '%}');
  if (/expected end of comment/.test(reason)) return unclosed(text, '{#', '#}');
  return undefined;
}
