/**
 * Writing a graph to a file as DOT, SVG or PNG.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { GraphRenderError, InvalidOptionError } from '../base/errors.js';
import { describeValue } from '../base/validate.js';
import { dotToSvg, svgToPng } from './render.js';

/** The picture formats a graph can be written as. */
export type GraphFormat = 'dot' | 'svg' | 'png';

/** `path` with `.format` added when it has no such extension. */
export function withExtension(path: string, format: GraphFormat): string {
  if (typeof path !== 'string' || basename(path) === '' || /[/\\]$/.test(path)) {
    throw new InvalidOptionError(
      `Expected a file path to write the graph to (a directory is not enough), got ${describeValue(path)}`,
    );
  }
  // by the name's end, not extname(): a name that is only the extension ('.svg') has none for Node
  return basename(path).toLowerCase().endsWith(`.${format}`) ? path : `${path}.${format}`;
}

/**
 * Renders DOT text in `format` and writes it to `path` (extension added if missing).
 * @returns the path written.
 * @throws JobGraphError `ERR_GRAPH_RENDER` on a rendering or writing failure, naming the file.
 */
export async function exportGraph(dot: string, path: string, format: GraphFormat): Promise<string> {
  const target = withExtension(path, format);
  let content: string | Buffer;
  if (format === 'dot') content = dot;
  else if (format === 'svg') content = await dotToSvg(dot);
  else content = await svgToPng(await dotToSvg(dot));
  try {
    await writeFile(target, content);
  } catch (error) {
    throw new GraphRenderError(
      `Could not write the graph to ${target}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return target;
}
