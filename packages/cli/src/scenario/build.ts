/**
 * Builds nodes, commands and jobs from a validated scenario.
 */
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Scheduler } from '@jobgraph/core';
import { Capture, Deferred, type Variables } from '@jobgraph/deferred';
import {
  type AbstractCommand,
  type Arg,
  CaptureFormatter,
  type CommandNode,
  type Formatter,
  HostFormatter,
  JsonLinesFormatter,
  LocalNode,
  Pull,
  Push,
  RawFormatter,
  Run,
  RunScript,
  RunString,
  SshJob,
  SshNode,
  type SshNodeOptions,
  SubdirFormatter,
  TerminalFormatter,
  TimeHostFormatter,
} from '@jobgraph/ssh';
import { parseDuration } from './durations.js';
import { ScenarioError, type ScenarioProblem } from './errors.js';
import type { CommandEntry, JobEntry, NodeEntry, ScenarioFile } from './schema.js';

/** Drops the keys whose value is undefined (for exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(
  object: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

const TEMPLATE = /\{\{|\{%/;

/** A Deferred on `variables` if `text` contains `{{ … }}` or `{% … %}`, else the text. */
export function templated(text: string, variables: Variables): string | Deferred {
  return TEMPLATE.test(text) ? new Deferred(text, variables) : text;
}

/** Splits on whitespace, as apssh does, but keeps `{{ … }}` and `{% … %}` in one word. */
export function splitWords(text: string): string[] {
  return text.match(/(?:\{\{.*?\}\}|\{%.*?%\}|[^\s{]|\{(?![{%]))+/gs) ?? [];
}

export interface BuildContext {
  /** The scenario file, for relative paths and the SubdirFormatter's directory. */
  readonly file: string;
  readonly variables: Variables;
  /** Nodes print nothing on the terminal (a live view shows their output instead). */
  readonly quiet?: boolean;
}

/** A formatter that shows nothing: for the nodes of a quiet build. */
const SILENT: Formatter = { line: () => undefined, event: () => undefined };

/** The formatters that write on the terminal (the default HostFormatter among them). */
function printsOnTerminal(name: NodeEntry['formatter']): boolean {
  return name !== 'SubdirFormatter' && name !== 'CaptureFormatter';
}

function makeFormatter(name: NodeEntry['formatter'], context: BuildContext): Formatter | undefined {
  switch (name) {
    case undefined:
      return undefined;
    case 'RawFormatter':
      return new RawFormatter();
    case 'HostFormatter':
      return new HostFormatter();
    case 'TimeHostFormatter':
      return new TimeHostFormatter();
    case 'TerminalFormatter':
      return new TerminalFormatter('{user}{host}:{linenl}');
    case 'CaptureFormatter':
      return new CaptureFormatter();
    case 'JsonLinesFormatter':
      return new JsonLinesFormatter();
    case 'SubdirFormatter':
      return new SubdirFormatter(resolve(dirname(context.file), scenarioStem(context.file)));
  }
}

/** `x` for `dir/x.yaml.j2`, `dir/x.yaml`, `dir/x.yml`. */
export function scenarioStem(file: string): string {
  return basename(file)
    .replace(/\.j2$/, '')
    .replace(/\.ya?ml$/, '');
}

function local(path: string, context: BuildContext): string {
  return localPath(path, context.file);
}

/** A local path of a scenario: `~/…` in the home directory, a relative one next to the scenario file. */
export function localPath(path: string, scenarioFile: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(dirname(scenarioFile), path);
}

/** The nodes, in the file's order (gateways built first when needed). */
export async function buildNodes(
  entries: readonly NodeEntry[],
  context: BuildContext,
): Promise<Map<string, CommandNode>> {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const built = new Map<string, Promise<CommandNode>>();
  const build = (entry: NodeEntry): Promise<CommandNode> => {
    let node = built.get(entry.id);
    if (node === undefined) {
      node = buildNode(entry, context, (id) => {
        const gateway = byId.get(id);
        if (gateway === undefined) throw new Error(`unknown gateway ${id}`);
        return build(gateway);
      });
      built.set(entry.id, node);
    }
    return node;
  };
  const nodes = new Map<string, CommandNode>();
  // a node's ssh_config that cannot be resolved (a bad Port, a ProxyJump loop) is a problem of the
  // scenario, each at its place, exit 2 as the others: it was a bare error, exit 1, the first only
  const problems: ScenarioProblem[] = [];
  for (const [index, entry] of entries.entries()) {
    try {
      nodes.set(entry.id, await build(entry));
    } catch (error) {
      if (entry.sshConfig === undefined || (error as { code?: unknown }).code !== 'ERR_SSH_CONFIG')
        throw error;
      problems.push({
        file: context.file,
        path: `nodes[${index}].sshConfig`,
        message: (error as Error).message,
      });
    }
  }
  if (problems.length > 0) throw new ScenarioError(context.file, problems);
  return nodes;
}

async function buildNode(
  entry: NodeEntry,
  context: BuildContext,
  gatewayOf: (id: string) => Promise<CommandNode>,
): Promise<CommandNode> {
  const formatter =
    context.quiet === true && printsOnTerminal(entry.formatter)
      ? SILENT
      : makeFormatter(entry.formatter, context);
  if (entry.localnode === true) return new LocalNode(defined({ formatter, verbose: entry.verbose }));
  const gateway = entry.gateway === undefined ? undefined : ((await gatewayOf(entry.gateway)) as SshNode);
  const options = defined({
    username: entry.username,
    port: entry.port,
    keys: entry.keys?.map((key) => local(key, context)),
    gateway,
    knownHosts: entry.knownHosts === undefined ? undefined : local(entry.knownHosts, context),
    hostKeyPolicy: entry.hostKeyPolicy,
    connectTimeout: entry.connectTimeout === undefined ? undefined : parseDuration(entry.connectTimeout),
    keepaliveInterval:
      entry.keepaliveInterval === undefined ? undefined : parseDuration(entry.keepaliveInterval),
    maxSessions: entry.maxSessions,
    maxConnections: entry.maxConnections,
    idleClose: entry.idleClose === undefined ? undefined : parseDuration(entry.idleClose),
    maxHandshakes: entry.maxHandshakes,
    shareConnection: entry.shareConnection,
    tunnelNoDelay: entry.tunnelNoDelay,
    formatter,
    verbose: entry.verbose,
  }) satisfies Omit<SshNodeOptions, 'hostname'>;
  if (entry.sshConfig !== undefined) {
    return SshNode.fromSshConfig(entry.sshConfig, {
      ...options,
      ...(entry.sshConfigFile === undefined ? {} : { file: local(entry.sshConfigFile, context) }),
    });
  }
  return new SshNode({ hostname: entry.hostname ?? '', ...options });
}

function args(list: ReadonlyArray<string | number> | undefined, variables: Variables): Arg[] {
  return (list ?? []).map((item) => (typeof item === 'number' ? item : templated(item, variables)));
}

/** One command of a job. */
export function buildCommand(entry: CommandEntry, context: BuildContext): AbstractCommand {
  const { variables } = context;
  const common = defined({ label: entry.label, verbose: entry.verbose });
  switch (entry.type) {
    case 'Run': {
      const options = {
        ...common,
        ...defined({
          allowedExits: entry.allowedExits ?? entry.allowed_exits,
          capture: entry.capture === undefined ? undefined : new Capture(entry.capture, variables),
          x11: entry.x11,
          pty: entry.pty,
          env: entry.env,
        }),
      };
      if (entry.command !== undefined)
        return new Run(templated(splitWords(entry.command).join(' '), variables), options);
      return new Run(args(entry.argv, variables), options);
    }
    case 'RunScript': {
      const words = entry.command === undefined ? [] : splitWords(entry.command);
      const script = entry.local_script ?? words[0] ?? '';
      const scriptArgs =
        entry.command === undefined ? args(entry.args, variables) : args(words.slice(1), variables);
      return new RunScript(local(script, context), scriptArgs, {
        ...common,
        ...defined({
          allowedExits: entry.allowedExits ?? entry.allowed_exits,
          capture: entry.capture === undefined ? undefined : new Capture(entry.capture, variables),
          x11: entry.x11,
          includes: entry.includes?.map((include) => local(include, context)),
        }),
      });
    }
    case 'RunString':
      return new RunString(templated(entry.script_body, variables), args(entry.args, variables), {
        ...common,
        ...defined({
          allowedExits: entry.allowedExits ?? entry.allowed_exits,
          capture: entry.capture === undefined ? undefined : new Capture(entry.capture, variables),
          x11: entry.x11,
          includes: entry.includes?.map((include) => local(include, context)),
          remoteName: entry.remote_name,
        }),
      });
    case 'Push': {
      const paths = typeof entry.localpaths === 'string' ? [entry.localpaths] : entry.localpaths;
      return new Push(
        paths.map((path) => local(path, context)),
        entry.remotepath,
        { ...common, ...defined({ recurse: entry.recurse, preserve: entry.preserve }) },
      );
    }
    case 'Pull':
      return new Pull(entry.remotepaths, local(entry.localpath, context), {
        ...common,
        ...defined({ recurse: entry.recurse, preserve: entry.preserve }),
      });
  }
}

/** The jobs in a new Scheduler (not critical: run() resolves false on a failure). */
export function buildJobs(
  scenario: ScenarioFile,
  nodes: ReadonlyMap<string, CommandNode>,
  context: BuildContext,
): { scheduler: Scheduler; jobs: Map<string, SshJob> } {
  const settings = scenario.scheduler ?? {};
  const scheduler = new Scheduler({
    critical: false,
    ...defined({
      label: settings.label,
      jobsWindow: settings.jobsWindow,
      timeout: settings.timeout === undefined ? undefined : parseDuration(settings.timeout),
    }),
  });
  const jobs = new Map<string, SshJob>();
  for (const entry of scenario.jobs) jobs.set(entry.id, buildJob(entry, nodes, context, scheduler));
  for (const entry of scenario.jobs) {
    const required = typeof entry.required === 'string' ? [entry.required] : (entry.required ?? []);
    const job = jobs.get(entry.id);
    const requirements = required.flatMap((id) => jobs.get(id) ?? []);
    if (job !== undefined && requirements.length > 0) job.requires(...requirements);
  }
  return { scheduler, jobs };
}

function buildJob(
  entry: JobEntry,
  nodes: ReadonlyMap<string, CommandNode>,
  context: BuildContext,
  scheduler: Scheduler,
): SshJob {
  const node = nodes.get(entry.node);
  if (node === undefined) throw new Error(`unknown node ${entry.node}`);
  return new SshJob({
    node,
    commands: entry.commands.map((command) => buildCommand(command, context)),
    critical: entry.critical ?? true,
    forever: entry.forever ?? false,
    scheduler,
    ...defined({
      label: entry.label?.trim(),
      verbose: entry.verbose,
      timeout: entry.timeout === undefined ? undefined : parseDuration(entry.timeout),
      retries: entry.retries,
    }),
  });
}
