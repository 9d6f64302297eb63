/**
 * The live view of `jobgraph run` on a terminal: a summary bar (a progress bar over the run's
 * finite jobs; done, running, waiting, failed; the time), then one line per running job (its id
 * and label, its node, for how long, its last line of output; nested schedulers' jobs indented
 * under theirs, forever jobs marked ∞), then the failures with their error. Redrawn from the
 * typed events (live-state.ts) at most 10 times a second, and only when something changed (or
 * the clock's second did). Each frame replaces the last: ansi-escapes' `eraseLines` over the rows the
 * last one took, then the new one (cli-cursor hides the cursor meanwhile, and shows it again even if
 * the process dies). Lines are cut to the terminal's width (cli-truncate, only the lines that need
 * it) so that none wraps, and the frame to its height. (log-update does the same but wraps every
 * line of every frame with wrap-ansi, which measured 11 ms a frame: more than the 5 % budget.)
 */

import type { AbstractJob, PureScheduler } from '@jobgraph/core';
import ansiEscapes from 'ansi-escapes';
import cliCursor from 'cli-cursor';
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';
import { LiveState, type RunningJob } from './live-state.js';
import { onSuspend } from './suspend.js';
import { colours, type Paint } from './terminal.js';

/** Whether `jobgraph run` draws the live view rather than printing plain lines. */
export function liveViewWanted(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  options: { live: boolean; verbose: boolean },
): boolean {
  if (!options.live || options.verbose) return false; // --no-live; -v prints its own lines
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.CI === 'true' || env.CI === '1') return false;
  return env.TERM !== 'dumb';
}

/** What a frame is drawn for. */
export interface FrameSize {
  readonly columns: number;
  readonly rows: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 20;
const MAX_FAILURES = 5;

/** The frame of `state` at `now`, as lines of at most `size.columns` columns, at most `size.rows` of them. */
export function liveFrame(
  state: LiveState,
  now: number,
  size: FrameSize,
  paint: Paint,
  linesUnder = 1,
): string {
  const width = Math.max(1, size.columns);
  const fit = (line: string) => cutToWidth(line, width, 'end');
  const failures = state.failures.slice(-MAX_FAILURES).map((failure) => {
    const indent = '  '.repeat(failure.depth);
    return fit(
      `${indent}${paint.red('✖')} ${failure.id.padEnd(4)} ${failure.label}${failure.node === '' ? '' : ` ${paint.dim(failure.node)}`}: ${paint.red(failure.error)}`,
    );
  });
  if (state.failures.length > MAX_FAILURES) {
    failures.unshift(fit(paint.dim(`  … ${state.failures.length - MAX_FAILURES} earlier failure(s)`)));
  }
  // The summary first, failures last: the running jobs give way when the terminal is short (and
  // only the lines that fit are made: 200 running jobs on a 40-line terminal make 40). The summary
  // and the cursor's line take two rows; on a very short terminal the oldest failures give way too.
  const height = Math.max(0, size.rows - 2);
  if (failures.length > height) failures.splice(0, failures.length - height);
  const room = height - failures.length;
  const spinner = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? '·';
  const rows = ordered(state).slice(0, room + 1);
  // columns as wide as the widest label and node shown, within a share of the width
  const columns = {
    // a nested job's label starts further right: the column holds its indent too
    label: Math.min(
      Math.max(8, ...rows.map((row) => row.depth * 2 + textWidth(row.label) + (row.attempt > 1 ? 12 : 0))),
      Math.floor(width / 3),
    ),
    node: Math.min(Math.max(0, ...rows.map((row) => textWidth(row.node))), Math.floor(width / 4)),
    // a scenario's ids are words: as wide as the widest shown, within a share of the width
    id: Math.min(Math.max(4, ...rows.map((row) => textWidth(row.id))), Math.floor(width / 6)),
  };
  const shown: string[] = [];
  let cut = false;
  for (const row of rows) {
    if (shown.length >= room) {
      cut = true;
      break;
    }
    // with lines under it, the row's own last line would be the first of them again
    shown.push(fit(runningLine(row, now, spinner, paint, columns, linesUnder <= 1)));
    if (linesUnder > 1) {
      const indent = ' '.repeat(6 + row.depth * 2);
      for (const line of row.lines.slice(-linesUnder)) shown.push(fit(paint.dim(`${indent}│ ${line}`)));
    }
  }
  if (cut || shown.length > room) {
    shown.length = Math.max(0, room - 1);
    if (room > 0) shown.push(fit(paint.dim(`  … and more: ${state.running.size} running in all`)));
  }
  return [fit(summaryLine(state, now, paint, width)), ...shown, ...failures].join('\n');
}

/**
 * Text whose characters each take one column, surely: ASCII, Latin, Greek and Cyrillic letters,
 * and what a frame draws with (punctuation such as … and ·, arrows, ∞, box drawing, blocks,
 * braille). Anything else may be wide, or take none (emoji, CJK, combining marks, geometric
 * shapes such as ◽): it is measured.
 */
const ONE_COLUMN_EACH =
  /^[\u0020-\u007e\u00a0-\u02ff\u0370-\u03ff\u0400-\u04ff\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u221e\u2500-\u259f\u2800-\u28ff]*$/;

/**
 * Whether `line` is surely no wider than `width` without measuring each character (string-width
 * is most of a frame's cost): every character one column, and no more than `width` of them.
 */
function fitsAsIs(line: string, width: number): boolean {
  const plain = line.includes('\u001b') ? stripAnsi(line) : line;
  return plain.length <= width && ONE_COLUMN_EACH.test(plain);
}

/**
 * `line` cut to at most `width` columns with an ellipsis (cli-truncate; colour codes kept). With
 * wide characters at the cut, cli-truncate may give one column too many: a line one column too
 * wide wraps, and every later frame then erases a row too few (stale frames on the screen). It
 * is cut again, shorter, until it fits.
 */
function cutToWidth(line: string, width: number, position: 'end' | 'middle'): string {
  if (fitsAsIs(line, width)) return line;
  let short = cliTruncate(line, width, { position });
  for (let room = width - 1; room > 0 && stringWidth(short) > width; room -= 1) {
    short = cliTruncate(line, room, { position });
  }
  return stringWidth(short) > width ? '' : short;
}

/** The columns `text` takes (measured only when it may hold a character that is not one column). */
function textWidth(text: string): number {
  return ONE_COLUMN_EACH.test(text) ? text.length : stringWidth(text);
}

/** The running jobs, each nested scheduler's jobs right under it. */
function ordered(state: LiveState): RunningJob[] {
  const rows = [...state.running.values()];
  const children = new Map<unknown, RunningJob[]>();
  for (const row of rows) {
    const list = children.get(row.parent) ?? [];
    list.push(row);
    children.set(row.parent, list);
  }
  const result: RunningJob[] = [];
  const seen = new Set<RunningJob>();
  const walk = (parent: unknown) => {
    for (const row of children.get(parent) ?? []) {
      if (seen.has(row)) continue;
      seen.add(row);
      result.push(row);
      walk(row.job);
    }
  };
  walk(undefined);
  // a job whose scheduler's row is not there (it cannot be, but never drop one)
  for (const row of rows) if (!seen.has(row)) result.push(row);
  return result;
}

/**
 * `jobgraph ▕███░░▏ 3/12 done · 2 running · 0 waiting · 1 failed · 0:12`. The counts and the time
 * are what matters: the bar gives them its room on a narrow terminal (at 80 columns, cut at the
 * end, the line lost the time, then the failures), and goes under 5 cells.
 */
function summaryLine(state: LiveState, now: number, paint: Paint, width: number): string {
  // the bar fills with the jobs that ended of themselves: cancelled ones (a Ctrl-C) are no progress
  const ratio = state.finite === 0 ? 1 : Math.min(1, (state.done + state.failed) / state.finite);
  const failed = state.failed + state.foreverFailed;
  const parts = [
    `${state.done}/${state.finite} done`,
    `${state.running.size} running`,
    `${state.waiting} waiting`,
    failed > 0 ? paint.red(`${failed} failed`) : '0 failed',
    ...(state.cancelled > 0 ? [`${state.cancelled} cancelled`] : []),
    clock((state.ended ?? now) - (state.started ?? now)),
  ].join(' · ');
  const title = paint.bold('jobgraph');
  // the room left once the title, the counts, the bar's two edges and the spaces are there
  const room = Math.min(BAR_WIDTH, width - textWidth('jobgraph') - textWidth(parts) - 4);
  if (room < 5) return `${title} ${parts}`;
  const filled = Math.round(ratio * room);
  return `${title} ▕${'█'.repeat(filled)}${'░'.repeat(room - filled)}▏ ${parts}`;
}

function runningLine(
  row: RunningJob,
  now: number,
  spinner: string,
  paint: Paint,
  columns: { label: number; node: number; id: number },
  withLastLine = true,
): string {
  const indent = '  '.repeat(row.depth);
  const mark = row.forever ? '∞' : spinner;
  const attempt = row.attempt > 1 ? ` (attempt ${row.attempt})` : '';
  const label = fitTo(`${row.label}${attempt}`, columns.label - row.depth * 2, 'end');
  const node = paint.dim(fitNode(row.node, columns.node));
  const command = row.command === undefined ? '' : paint.dim(`$ ${row.command}`);
  const last = row.progress ?? (withLastLine ? (row.lines.at(-1) ?? command) : command);
  const id = fitTo(row.id, columns.id, 'end');
  return `${indent}${mark} ${id} ${label}  ${node}  ${clock(now - row.since).padStart(5)}  ${last}`;
}

/**
 * A node in `width` columns: a gateway chain too wide keeps its target (`…->root@t1`), which is
 * where the job runs (cut in the middle, the arrow went and two hosts read as one).
 */
function fitNode(node: string, width: number): string {
  const hop = node.lastIndexOf('->');
  if (hop < 0 || textWidth(node) <= width) return fitTo(node, width, 'middle');
  const target = node.slice(hop + 2);
  return textWidth(target) + 3 <= width
    ? fitTo(`…->${target}`, width, 'end')
    : fitTo(target, width, 'middle');
}

/** `text` cut or padded to `width` columns (wide characters count two). */
function fitTo(text: string, width: number, position: 'end' | 'middle'): string {
  if (width <= 0) return '';
  const short = cutToWidth(text, width, position);
  const used = fitsAsIs(short, width) ? short.length : stringWidth(short);
  return short + ' '.repeat(Math.max(0, width - used));
}

/** The terminal's size now: asked of it when it is a TTY, else what the stream says. */
export function windowSize(stream: NodeJS.WriteStream): [number, number] {
  try {
    const [columns, rows] = stream.getWindowSize();
    if (columns > 0 && rows > 0) return [columns, rows];
  } catch {
    // not a TTY (a test's stream): what it says
  }
  // a terminal that says 0 × 0 (a container's before its size is set, a serial console) is taken
  // as 80 × 24: at 0 the frame was one '…' and the whole run hidden
  return [stream.columns || 80, stream.rows || 24];
}

/** How many rows `frame` takes on a terminal `columns` wide that re-wraps long lines. */
export function wrappedRows(frame: string, columns: number): number {
  if (frame === '') return 0;
  const width = Math.max(1, columns);
  return frame
    .split('\n')
    .reduce((rows, line) => rows + Math.max(1, Math.ceil(stringWidth(line) / width)), 0);
}

/** `m:ss`, or `h:mm:ss`. */
function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** Options of {@link attachLiveView}. */
export interface LiveViewOptions {
  /** The terminal. */
  readonly stream: NodeJS.WriteStream;
  /** Output lines shown under each running job (1: only the last one, on its line). @default 1 */
  readonly lines?: number;
  /** The redraw period, in ms (at most 10 frames a second). @default 100 */
  readonly period?: number;
  /** The id shown for a job (a scenario's own ids). @default its display id (`3`, `2.1`) */
  readonly idOf?: (job: AbstractJob) => string | undefined;
}

/** What writes text: a stream, or the command line's stderr. */
export interface TextWriter {
  write(text: string): unknown;
}

/**
 * A live view being drawn: call it to draw the last frame and leave it on the screen. Text for
 * the terminal meanwhile (a message on stderr) goes through {@link LiveView.above}: written into
 * the middle of a frame, it would be erased with it, and leave part of the frame on the screen.
 */
export type LiveView = (() => void) & {
  /** A writer to `to` whose text shows above the frame: the frame is erased, the text written, the frame drawn again. */
  above(to: TextWriter): TextWriter;
};

/**
 * Draws the live view of `scheduler`'s run on `options.stream` until the returned function is
 * called, which draws the last frame and leaves it on the screen.
 */
export function attachLiveView(scheduler: PureScheduler, options: LiveViewOptions): LiveView {
  const { stream } = options;
  const linesUnder = Math.max(1, options.lines ?? 1);
  const state = new LiveState(linesUnder, options.idOf);
  const paint = colours(stream);
  const draw = frameWriter(stream);
  let second = -1;
  /** The frame on the screen, to erase it whole when the terminal is resized. */
  let lastFrame = '';
  let lastColumns: number | undefined;
  /** A SIGWINCH came: the terminal may have been through other sizes since the last frame. */
  let resized = false;
  const render = (force = false) => {
    const now = Date.now();
    const tick = Math.floor(now / 1000);
    // a spinner that turns is a change too, but a cheap one: at most every 100 ms, like the rest
    if (!force && !state.dirty && tick === second && state.running.size === 0) return;
    state.dirty = false;
    second = tick;
    // The size asked of the terminal now (an ioctl): `columns` changes only once Node has handled
    // SIGWINCH, after the terminal has already re-wrapped the lines on the screen. Most terminals
    // (tmux, VTE, iTerm2, kitty…) re-wrap them, so after a narrower resize the last frame takes
    // more rows than log-update counts: it is erased as it stands now, then the new one drawn.
    const [columns, rows] = windowSize(stream);
    if (resized || (lastColumns !== undefined && columns !== lastColumns)) {
      resized = false;
      // (what a re-wrap pushed above the screen is in the scrollback, out of reach of any redraw)
      draw.forget(wrappedRows(lastFrame, columns) + 1);
    }
    lastColumns = columns;
    lastFrame = liveFrame(state, now, { columns, rows }, paint, linesUnder);
    draw(lastFrame);
  };
  const stopEvents = scheduler.onAny((event) => state.apply(event));
  const timer = setInterval(() => render(), Math.max(100, options.period ?? 100));
  timer.unref();
  const onResize = () => {
    resized = true;
    render(true);
  };
  stream.on('resize', onResize);
  // Ctrl-Z: the shell's prompt gets the terminal as it was (cursor shown, no frame), and `fg` a
  // fresh frame below what the shell printed meanwhile (the cursor stayed hidden at the prompt)
  const stopSuspendHooks = onSuspend({
    suspend: () => {
      draw.clear();
      draw.showCursor();
    },
    resume: () => {
      draw.hideCursor();
      render(true);
    },
  });
  render(true);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    stopEvents();
    stream.off('resize', onResize);
    stopSuspendHooks();
    render(true);
    draw.done();
  };
  const above = (to: TextWriter): TextWriter => ({
    write: (text) => {
      if (stopped) return to.write(text);
      draw.clear();
      const written = to.write(text);
      render(true);
      return written;
    },
  });
  return Object.assign(stop, { above });
}

/** Writes frames over each other: each erases the rows of the last one (ansi-escapes), then writes itself. */
function frameWriter(stream: NodeJS.WriteStream) {
  let rows = 0;
  let last: string | undefined;
  cliCursor.hide(stream);
  return Object.assign(
    (frame: string) => {
      if (frame === last) return;
      stream.write(`${ansiEscapes.eraseLines(rows)}${frame}\n`);
      last = frame;
      rows = frame.split('\n').length + 1;
    },
    {
      /** Erases the frame on the screen (text goes there next, the frame after it). */
      clear(): void {
        stream.write(ansiEscapes.eraseLines(rows));
        rows = 0;
        last = undefined;
      },
      /** The last frame takes `actual` rows now (a resized terminal re-wrapped it): erase them. */
      forget(actual: number): void {
        stream.write(ansiEscapes.eraseLines(actual));
        rows = 0;
        last = undefined;
      },
      showCursor(): void {
        cliCursor.show(stream);
      },
      hideCursor(): void {
        cliCursor.hide(stream);
      },
      /** Leaves the last frame on the screen, and the cursor shown. */
      done(): void {
        cliCursor.show(stream);
        rows = 0;
        last = undefined;
      },
    },
  );
}
