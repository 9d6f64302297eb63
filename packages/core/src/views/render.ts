/**
 * Graph pictures without native tools: the only module that touches the renderers.
 * SVG comes from Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz), PNG from
 * that SVG through resvg (@resvg/resvg-js, prebuilt). Both are loaded on first use,
 * so importing @jobgraph/core stays cheap.
 */
import { GraphRenderError, InvalidOptionError } from '../base/errors.js';

type GraphvizInstance = { dot(source: string, format?: 'svg'): string };
let graphviz: Promise<GraphvizInstance> | undefined;

/**
 * Graphviz in WebAssembly knows the metrics of only a few fonts and sizes the boxes
 * with them: with its default (Times) the labels, drawn in whatever sans-serif font the
 * viewer has, overflow their boxes. Courier's metrics (0.6 em per character) match
 * every common monospace font (DejaVu Sans Mono, Liberation Mono), so the text fits.
 */
const FONT_DEFAULTS = ' graph [fontname="Courier"]; node [fontname="Courier"]; edge [fontname="Courier"]; ';

/**
 * Inserts the font defaults right after the opening brace of the graph, on its line: the line
 * numbers of Graphviz's errors stay those of the caller's text.
 */
function withFontDefaults(dot: string): string {
  const brace = dot.indexOf('{');
  return brace < 0 ? dot : `${dot.slice(0, brace + 1)}${FONT_DEFAULTS}${dot.slice(brace + 1)}`;
}

/**
 * Lays out DOT text with Graphviz's `dot` engine and returns the SVG, in a monospace
 * font (see above).
 * @throws JobGraphError `ERR_GRAPH_RENDER` when Graphviz rejects the text.
 */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= import('@hpcc-js/wasm-graphviz').then(({ Graphviz }) => Graphviz.load());
  let instance: GraphvizInstance;
  try {
    instance = await graphviz;
  } catch (error) {
    graphviz = undefined; // not cached: a later call tries again
    throw renderError('Could not load the Graphviz renderer', error);
  }
  try {
    return instance.dot(withFontDefaults(dot), 'svg');
  } catch (error) {
    throw renderError('Graphviz could not lay out the graph', error);
  }
}

/** The largest scale of {@link svgToPng}. */
const MAX_SCALE = 20;

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Scale factor from SVG points to pixels, above 0 and at most 20. @default 1.5 */
  scale?: number;
}

/**
 * Rasterises an SVG to PNG bytes (white background; system fonts, e.g. DejaVu on Debian).
 * @throws JobGraphError `ERR_GRAPH_RENDER` when the SVG cannot be rendered.
 */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  const scale = options.scale ?? 1.5;
  // the pixels are allocated at once: a scale of a million asked for petabytes, and the native
  // renderer aborted the process (no exception to catch)
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > MAX_SCALE) {
    throw new InvalidOptionError(
      `Expected svgToPng's scale to be a number above 0 and at most ${MAX_SCALE}, got ${String(scale)}`,
    );
  }
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    ({ Resvg } = await import('@resvg/resvg-js'));
  } catch (error) {
    throw renderError('Could not load the PNG renderer (@resvg/resvg-js)', error);
  }
  try {
    const resvg = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: scale },
      // Courier is rarely installed: its generic fallback, monospace, is what gets drawn.
      font: {
        loadSystemFonts: true,
        defaultFontFamily: 'DejaVu Sans Mono',
        monospaceFamily: 'DejaVu Sans Mono',
      },
    });
    return resvg.render().asPng();
  } catch (error) {
    throw renderError('Could not convert the SVG to PNG', error);
  }
}

function renderError(what: string, cause: unknown): GraphRenderError {
  // one line: Graphviz ends its messages with a newline, and may say more on the next lines
  const why = (cause instanceof Error ? cause.message : String(cause)).trim().replace(/\s*\n\s*/g, '; ');
  return new GraphRenderError(`${what}: ${why}`, { cause });
}
