/**
 * Graph pictures without native tools: the only module that touches the renderers.
 * SVG comes from Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz), PNG from
 * that SVG through resvg (@resvg/resvg-js, prebuilt). Both are loaded on first use,
 * so importing @jobgraph/core stays cheap.
 */
import { CoreErrorCode, JobGraphError } from './errors.js';

type GraphvizInstance = { dot(source: string, format?: 'svg'): string };
let graphviz: Promise<GraphvizInstance> | undefined;

/**
 * Lays out DOT text with Graphviz's `dot` engine and returns the SVG.
 * @throws JobGraphError `ERR_GRAPH_RENDER` when Graphviz rejects the text.
 */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= import('@hpcc-js/wasm-graphviz').then(({ Graphviz }) => Graphviz.load());
  const instance = await graphviz;
  try {
    return instance.dot(dot, 'svg');
  } catch (error) {
    throw new JobGraphError(
      CoreErrorCode.GRAPH_RENDER,
      `Graphviz could not lay out the graph: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Scale factor from SVG points to pixels. @default 1.5 */
  scale?: number;
}

/**
 * Rasterises an SVG to PNG bytes (white background; system fonts, e.g. DejaVu on Debian).
 * @throws JobGraphError `ERR_GRAPH_RENDER` when the SVG cannot be rendered.
 */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  try {
    const resvg = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: options.scale ?? 1.5 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    });
    return resvg.render().asPng();
  } catch (error) {
    throw new JobGraphError(
      CoreErrorCode.GRAPH_RENDER,
      `Could not convert the SVG to PNG: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
