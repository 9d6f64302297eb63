/**
 * Formatters: how the remote output and the connection events of a node are shown.
 */
export { CaptureFormatter, type CaptureFormatterOptions } from './capture.js';
export type { Formatter, NodeEvent, NodeEventKind, NodeIdentity, OutputLine } from './formatter.js';
export {
  type JsonEventRecord,
  type JsonLineRecord,
  JsonLinesFormatter,
  type JsonLinesFormatterOptions,
} from './json-lines.js';
export type { Write } from './stdio.js';
export { strftime } from './strftime.js';
export { SubdirFormatter, type SubdirFormatterOptions } from './subdir.js';
export {
  type ColumnWidths,
  expandTemplate,
  LineTemplate,
  shortenHostname,
  type TemplateValues,
  TIME_FORMAT,
} from './template.js';
export {
  describeEvent,
  HostFormatter,
  RawFormatter,
  TerminalFormatter,
  type TerminalFormatterOptions,
  TimeHostFormatter,
} from './terminal.js';
