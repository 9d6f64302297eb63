/**
 * The scenario file format (apssh's YamlLoader format, extended), as one zod schema.
 * `docs/scenario.schema.json` is derived from it (scripts/write-json-schema.ts).
 */
import { z } from 'zod';
import { DURATION_PATTERN, LONGEST_MS, parseDuration } from './durations.js';

/** Formatter class names a node may name. */
export const FORMATTER_NAMES = [
  'RawFormatter',
  'HostFormatter',
  'TimeHostFormatter',
  'TerminalFormatter',
  'CaptureFormatter',
  'SubdirFormatter',
  'JsonLinesFormatter',
] as const;

/** Command types, as apssh's class names. */
export const COMMAND_TYPES = ['Run', 'RunScript', 'RunString', 'Push', 'Pull'] as const;

const id = z.string().min(1).describe('An identifier, unique among the nodes (resp. the jobs)');

/** The milliseconds of a duration, or undefined when it is not one (the union reports that). */
function millisecondsOf(value: string | number): number | undefined {
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

/**
 * A duration; `zero` says what 0 means where it is allowed (a keepalive turned off, a connection
 * closed at once). Elsewhere 0 would end the job (or the run) before it starts, and leaving the
 * key out means no limit.
 */
function durationSchema(zero?: string) {
  return z
    .union([
      z.number().nonnegative().describe('milliseconds'),
      z.string().regex(DURATION_PATTERN, { error: 'expected a duration like "30s", "500ms", "2m" or "1h"' }),
    ])
    .refine((value) => zero !== undefined || (millisecondsOf(value) ?? 1) > 0, {
      error: (issue) =>
        `expected a duration above 0 (leave it out for no limit), got ${JSON.stringify(issue.input)}`,
    })
    .refine((value) => (millisecondsOf(value) ?? 0) <= LONGEST_MS, {
      error: (issue) =>
        `expected a duration of at most 596h (${LONGEST_MS} ms, the longest a timer waits), got ${JSON.stringify(issue.input)}`,
    })
    .describe(
      `A duration: "500ms", "30s", "2m", "1h", or a number of milliseconds${zero === undefined ? '' : `; 0: ${zero}`}`,
    );
}

const duration = durationSchema();

const stringOrList = z.union([z.string(), z.array(z.string())]);
const arg = z.union([z.string(), z.number()]);

/** What allowedExits holds: exit codes, or signal names (as the commands check them). */
const allowedExits = z.array(
  z.union([
    z.number().int().min(0).max(255),
    z.string().regex(/^(SIG)?[A-Z][A-Z0-9]*$/, {
      error: 'expected an exit code (0-255) or a signal name such as TERM',
    }),
  ]),
);

/** One path, or a non-empty list of them (a Push needs something to push). */
const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Keys shared by every command. */
const commandBase = {
  label: z.string().optional().describe('The label shown instead of the command line'),
  verbose: z.boolean().optional().describe('Show what the command does on stderr'),
};
/** Keys shared by the commands that run something (Run, RunScript, RunString). */
const runnable = {
  ...commandBase,
  allowedExits: allowedExits
    .optional()
    .describe('Exit codes (or signal names without SIG, such as "TERM") that count as success besides 0'),
  allowed_exits: allowedExits.optional().describe("allowedExits, under apssh's name"),
  capture: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a variable name (letters, digits and _)' })
    .optional()
    .describe('Store the standard output (without its last newline) in this variable'),
  x11: z.boolean().optional().describe('Forward X11 for this command'),
};
const scriptKeys = {
  ...runnable,
  includes: z
    .array(z.string())
    .optional()
    .describe('Local files copied next to the script (relative to the scenario file)'),
};
const transferKeys = {
  ...commandBase,
  recurse: z.boolean().optional().describe('Copy directories recursively'),
  preserve: z.boolean().optional().describe('Keep modification times and modes'),
};

export const runCommandSchema = z.strictObject({
  type: z.literal('Run'),
  command: z
    .string()
    // apssh joins the words of a command with spaces: lines would run as one (`# a\necho b` → nothing)
    .refine((text) => !text.trim().includes('\n'), {
      message:
        'a Run command is one line (its words are joined with spaces): use RunString with script_body for several lines',
    })
    .optional()
    .describe('The command line (split on whitespace, as apssh does)'),
  argv: z.array(arg).optional().describe('The command as a list of words (joined by spaces)'),
  pty: z.boolean().optional().describe('Allocate a pseudo-terminal'),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe('Environment variables exported before the command'),
  ...runnable,
});

export const runScriptCommandSchema = z.strictObject({
  type: z.literal('RunScript'),
  command: z
    .string()
    .optional()
    .describe('The local script (relative to the scenario file) and its arguments'),
  local_script: z.string().min(1).optional().describe('The local script (relative to the scenario file)'),
  args: z.array(arg).optional().describe('The arguments of local_script'),
  ...scriptKeys,
});

export const runStringCommandSchema = z.strictObject({
  type: z.literal('RunString'),
  script_body: z.string().describe('The script text'),
  args: z.array(arg).optional().describe('Its arguments'),
  remote_name: z.string().min(1).optional().describe('The base name of the remote copy'),
  ...scriptKeys,
});

export const pushCommandSchema = z.strictObject({
  type: z.literal('Push'),
  localpaths: paths.describe('Local file(s), relative to the scenario file'),
  remotepath: z.string().describe('Remote destination'),
  ...transferKeys,
});

export const pullCommandSchema = z.strictObject({
  type: z.literal('Pull'),
  remotepaths: paths.describe('Remote file(s)'),
  localpath: z.string().describe('Local destination, relative to the scenario file'),
  ...transferKeys,
});

export const commandSchema = z.discriminatedUnion('type', [
  runCommandSchema,
  runScriptCommandSchema,
  runStringCommandSchema,
  pushCommandSchema,
  pullCommandSchema,
]);

export const nodeSchema = z.strictObject({
  id,
  hostname: z
    .string()
    .min(1)
    .optional()
    .describe('Host name or address (required unless localnode or sshConfig)'),
  username: z
    .string()
    .min(1)
    .optional()
    .describe("Login name, default: root, as apssh's SshNode (an sshConfig node: its User, else root)"),
  gateway: z.string().min(1).optional().describe('The id of the node to go through'),
  localnode: z.boolean().optional().describe('true: this node is the local machine'),
  formatter: z.enum(FORMATTER_NAMES).optional().describe('How the output is shown, default HostFormatter'),
  verbose: z.boolean().optional().describe('Show the connection events'),
  port: z.number().int().min(1).max(65535).optional().describe('SSH port, default 22'),
  keys: z.array(z.string()).optional().describe('Private key files, relative to the scenario file'),
  sshConfig: z.string().min(1).optional().describe('An ssh_config Host alias to take the settings from'),
  sshConfigFile: z.string().min(1).optional().describe('The ssh_config file, default ~/.ssh/config'),
  hostKeyPolicy: z.enum(['strict', 'accept-new', 'off']).optional().describe('Host key checking'),
  knownHosts: z.string().optional().describe('The known_hosts file, relative to the scenario file'),
  connectTimeout: duration.optional().describe('How long a connection may take'),
  keepaliveInterval: durationSchema('no keepalive')
    .optional()
    .describe('Keepalive period; 3 missed answers end the connection; default 15s'),
  maxSessions: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('At most this many commands (and SFTP sessions) at once on each connection; default 8'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('Up to this many connections, opened when every open one is full; default 4'),
  idleClose: durationSchema('closed as soon as its last command ends')
    .optional()
    .describe('How long a connection opened for the overflow stays open with no command; default 5s'),
  maxHandshakes: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('At most this many handshakes at once to the destination (sshd MaxStartups); default 8'),
  shareConnection: z
    .boolean()
    .optional()
    .describe('Share the connections with the other nodes of the same destination; default true'),
  tunnelNoDelay: z
    .boolean()
    .optional()
    .describe('As a gateway: run `true` once so that its sshd sends without delay; default true'),
});

export const jobSchema = z.strictObject({
  id,
  node: z.string().min(1).describe('The id of the node the commands run on'),
  commands: z.array(commandSchema).min(1).describe('The commands, run one after the other'),
  required: stringOrList.optional().describe('The id(s) of the jobs that must be done first'),
  critical: z.boolean().optional().describe('A failure aborts the scenario; default true'),
  forever: z.boolean().optional().describe('Runs until the others are done; default false'),
  label: z.string().optional().describe('The label of the job'),
  verbose: z.boolean().optional().describe('Overrides verbose on every command'),
  timeout: duration.optional().describe('Limit of one attempt'),
  retries: z.number().int().nonnegative().optional().describe('Extra attempts after a failure; default 0'),
});

export const schedulerSchema = z.strictObject({
  jobsWindow: z.number().int().min(1).optional().describe('How many jobs may run at once; default unlimited'),
  timeout: duration.optional().describe('Limit of the whole run'),
  label: z.string().optional().describe('The label of the scenario'),
});

/** A scenario file, once YAML-parsed (and Jinja-rendered). */
export const scenarioSchema = z
  .strictObject({
    nodes: z.array(nodeSchema).describe('The nodes, SSH hosts or the local machine'),
    jobs: z.array(jobSchema).describe('The jobs'),
    scheduler: schedulerSchema.optional().describe('Options of the scheduler'),
  })
  .describe('A jobgraph scenario (the apssh YamlLoader format, extended)');

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type NodeEntry = z.infer<typeof nodeSchema>;
export type JobEntry = z.infer<typeof jobSchema>;
export type CommandEntry = z.infer<typeof commandSchema>;
export type DurationValue = z.infer<typeof duration>;

/** The JSON Schema of scenario files, for editors. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://github.com/jobgraph/jobgraph/docs/scenario.schema.json',
    title: 'jobgraph scenario',
  } as Record<string, unknown>;
}
