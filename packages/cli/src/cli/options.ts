/**
 * The options of `run` and `graph`, as commander gives them, validated with zod.
 */
import { z } from 'zod';
import { UsageError } from './errors.js';
import { parseVars } from './vars.js';

const picture = (option: string) =>
  z
    .string()
    .min(1, `${option} expects a file name`)
    .regex(/\.(svg|png|dot)$/i, `${option} expects a file name ending in .svg, .png or .dot`);

const common = {
  var: z.array(z.string()).default([]),
  debug: z.boolean().default(false),
};

export const runOptionsSchema = z
  .strictObject({
    ...common,
    dryRun: z.boolean().default(false),
    graph: picture('--graph').optional(),
    topology: picture('--topology').optional(),
    report: z
      .string()
      .refine((dir) => dir.trim() !== '', '--report expects a directory')
      .optional(),
    log: z
      .string()
      .refine((file) => file.trim() !== '', '--log expects a file name (FILE.jsonl)')
      .optional(),
    logOutput: z.boolean().default(false),
    resume: z
      .string()
      .refine((file) => file.trim() !== '', '--resume expects the --log file of an earlier run')
      .optional(),
    verbose: z.boolean().default(false),
    live: z.boolean().default(true),
    liveLines: z
      .string()
      .regex(/^\d+$/, '--live-lines expects a number of lines (1 to 20)')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 20, '--live-lines expects a number of lines (1 to 20)')
      .optional(),
  })
  // A dry run runs nothing: an empty report would look like a run that did nothing.
  .refine((options) => !(options.dryRun && options.report !== undefined), {
    message: '--report cannot be used with --dry-run: a dry run has nothing to report',
  })
  .refine((options) => !(options.dryRun && options.log !== undefined), {
    message: '--log cannot be used with --dry-run: a dry run has no events',
  })
  .refine((options) => !(options.logOutput && options.log === undefined), {
    message: '--log-output goes with --log FILE.jsonl: it adds the output lines to that log',
  });

export const graphOptionsSchema = z.strictObject({
  ...common,
  output: picture('-o/--output'),
  topology: z.boolean().default(false),
});

function validate<T extends z.ZodType>(schema: T, options: unknown): z.output<T> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(issue === undefined ? 'invalid options' : issue.message);
  }
  return parsed.data;
}

export interface RunOptions {
  readonly variables: Record<string, unknown>;
  readonly dryRun: boolean;
  readonly graph: string | undefined;
  readonly topology: string | undefined;
  /** The directory of the run report (`--report`), if asked for. */
  readonly report: string | undefined;
  /** The JSON Lines event log (`--log`), if asked for; `logOutput`: with the output lines. */
  readonly log: string | undefined;
  readonly logOutput: boolean;
  /** The live view on a terminal (`--no-live`: plain lines), and the output lines under each job. */
  readonly live: boolean;
  readonly liveLines: number;
  /** The log of an earlier run (`--resume`): its jobs done are left out. */
  readonly resume: string | undefined;
  readonly verbose: boolean;
  readonly debug: boolean;
}

export interface GraphOptions {
  readonly variables: Record<string, unknown>;
  readonly output: string;
  readonly topology: boolean;
  readonly debug: boolean;
}

export function runOptions(raw: unknown): RunOptions {
  const options = validate(runOptionsSchema, raw);
  return {
    variables: parseVars(options.var),
    dryRun: options.dryRun,
    graph: options.graph,
    topology: options.topology,
    report: options.report,
    log: options.log,
    logOutput: options.logOutput,
    resume: options.resume,
    live: options.live,
    liveLines: options.liveLines ?? 1,
    verbose: options.verbose,
    debug: options.debug,
  };
}

export function graphOptions(raw: unknown): GraphOptions {
  const options = validate(graphOptionsSchema, raw);
  return {
    variables: parseVars(options.var),
    output: options.output,
    topology: options.topology,
    debug: options.debug,
  };
}
