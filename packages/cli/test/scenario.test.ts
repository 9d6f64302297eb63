/**
 * Scenario files: apssh's loader tests, templates, the JSON Schema, and malformed files with their messages.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JobGraphError } from '@jobgraph/core';
import { Deferred } from '@jobgraph/deferred';
import { LocalNode, Run, RunScript, RunString, SshNode } from '@jobgraph/ssh';
import { afterAll, describe, expect, it } from 'vitest';
import { JSON_SCHEMA_PATH, jsonSchemaText } from '../scripts/write-json-schema.js';
import { loadScenario, parseDuration, ScenarioError } from '../src/index.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const fixture = (name: string) => join(FIXTURES, name);

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const LOADER2_VARIABLES = {
  gateway: 'faraday',
  leader: 'sopnode-l1',
  verbose: true,
  namespace: 'oai5g',
  nodes: { amf: 'fit01', gnb: 'fit02' },
};

describe('apssh loader tests', () => {
  it('loader1: 8 jobs, from a relative and an absolute path', async () => {
    const relative = await loadScenario('packages/cli/test/fixtures/loader1.yaml');
    const absolute = await loadScenario(fixture('loader1.yaml'));
    expect(relative.scheduler.size).toBe(8);
    expect(absolute.scheduler.size).toBe(8);
    expect([...absolute.nodes.keys()]).toEqual(['faraday', 'fit01', 'fit02']);
    const fit01 = absolute.nodes.get('fit01') as SshNode;
    expect(fit01.gateway).toBe(absolute.nodes.get('faraday'));
    expect(absolute.jobs.get('check_lease')?.label).toBe('check we have a valid lease');
    expect(absolute.jobs.get('run_fit02')?.critical).toBe(false);
    expect(absolute.jobs.get('run_fit02')?.forever).toBe(true);
    expect(absolute.jobs.get('load_images')?.critical).toBe(true);
    expect(absolute.scheduler.critical).toBe(false);
    const push = absolute.jobs.get('push_config');
    expect(push?.required.size).toBe(2);
  });

  it('loader2.yaml.j2 is rendered with the variables', async () => {
    const { scheduler, jobs, nodes } = await loadScenario(fixture('loader2.yaml.j2'), {
      variables: LOADER2_VARIABLES,
    });
    expect(scheduler.size).toBe(8);
    expect(jobs.get('init_demo')?.label).toContain('fit01');
    expect((nodes.get('amf') as SshNode).hostname).toBe('fit01');
    expect((nodes.get('gateway') as SshNode).hostname).toBe('faraday');
  });

  it('saveIntermediate: true and a path write identical files, with the warning header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-loader-'));
    temps.push(dir);
    const source = join(dir, 'loader2.yaml.j2');
    await import('node:fs/promises').then((fs) => fs.copyFile(fixture('loader2.yaml.j2'), source));
    await loadScenario(source, { variables: LOADER2_VARIABLES, saveIntermediate: true });
    const explicit = join(dir, 'loader2-explicit.yaml');
    await loadScenario(source, { variables: LOADER2_VARIABLES, saveIntermediate: explicit });
    const implicit = await readFile(join(dir, 'loader2.yaml'), 'utf8');
    expect(await readFile(explicit, 'utf8')).toBe(implicit);
    expect(implicit.split('\n').slice(0, 3)).toEqual([
      '# WARNING: this file was produced automatically - DO NOT EDIT !',
      `# see ${source} instead`,
      '#',
    ]);
    // the intermediate file loads as a plain scenario
    expect((await loadScenario(join(dir, 'loader2.yaml'))).scheduler.size).toBe(8);
  });

  it('loader3: one SshNode, one LocalNode, Run and RunScript on each: 4 jobs', async () => {
    const { scheduler, nodes, jobs } = await loadScenario(fixture('loader3.yaml'));
    expect(scheduler.size).toBe(4);
    expect(nodes.get('remote')).toBeInstanceOf(SshNode);
    expect(nodes.get('local')).toBeInstanceOf(LocalNode);
    const script = jobs.get('local_script')?.commands[0];
    expect(script).toBeInstanceOf(RunScript);
    // relative scripts resolve against the scenario's directory
    expect((script as RunScript).localScript).toBe(fixture('scripts/hello.sh'));
    expect((script as RunScript).args).toEqual(['local']);
    expect(jobs.get('remote_run')?.commands[0]).toBeInstanceOf(Run);
  });
});

describe('nodes', () => {
  it('take the connection budget of SshNode: sessions, overflow connections, handshakes, keepalive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-budget-'));
    temps.push(dir);
    const file = join(dir, 'budget.yaml');
    await writeFile(
      file,
      [
        'nodes:',
        '  - { id: gw, hostname: faraday, tunnelNoDelay: false }',
        '  - id: n1',
        '    hostname: fit01',
        '    gateway: gw',
        '    maxSessions: 2',
        '    maxConnections: 3',
        '    idleClose: 0',
        '    maxHandshakes: 4',
        '    keepaliveInterval: 1m',
        '    shareConnection: false',
        '  - { id: n2, hostname: fit02, idleClose: 2s, keepaliveInterval: 0 }',
        'jobs:',
        '  - { id: j1, node: n1, commands: [{ type: Run, command: "true" }] }',
        '',
      ].join('\n'),
    );
    const { nodes } = await loadScenario(file);
    const n1 = nodes.get('n1') as SshNode;
    expect({
      maxSessions: n1.maxSessions,
      maxConnections: n1.maxConnections,
      idleClose: n1.idleClose,
      keepaliveInterval: n1.keepaliveInterval,
      shareConnection: n1.shareConnection,
    }).toEqual({
      maxSessions: 2,
      maxConnections: 3,
      idleClose: 0,
      keepaliveInterval: 60_000,
      shareConnection: false,
    });
    expect((nodes.get('gw') as SshNode).tunnelNoDelay).toBe(false);
    const n2 = nodes.get('n2') as SshNode;
    expect([n2.idleClose, n2.keepaliveInterval, n2.maxSessions, n2.maxConnections]).toEqual([2000, 0, 8, 4]);
  });
});

describe('local paths', () => {
  it('~/ is the home directory; a relative path is next to the scenario file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-home-'));
    temps.push(dir);
    await writeFile(join(dir, 'id_home'), 'a key\n');
    await writeFile(join(dir, 'id_here'), 'a key\n');
    const file = join(dir, 'paths.yaml');
    await writeFile(
      file,
      'nodes:\n  - { id: n, hostname: h, keys: [~/id_home, id_here] }\njobs:\n  - { id: j, node: n, commands: [{ type: Run, command: "true" }] }\n',
    );
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      const { nodes } = await loadScenario(file);
      expect((nodes.get('n') as SshNode).keyPaths).toEqual([join(dir, 'id_home'), join(dir, 'id_here')]);
    } finally {
      process.env.HOME = home;
    }
  });
});

describe('commands', () => {
  it('a Run command is split on whitespace as apssh does; templates become Deferred', async () => {
    const { jobs, variables } = await loadScenario(fixture('loader2.yaml.j2'), {
      variables: LOADER2_VARIABLES,
    });
    const [capture, echo] = jobs.get('status')?.commands ?? [];
    expect((capture as Run).argv).toEqual(['kubectl -n oai5g get pods']);
    expect((capture as Run).capture?.varname).toBe('pods');
    const argv = (echo as Run).argv;
    expect(argv).toHaveLength(1);
    expect(argv[0]).toBeInstanceOf(Deferred);
    variables.set('pods', 'amf-0 gnb-0');
    expect((argv[0] as Deferred).render()).toBe('echo amf-0 gnb-0');
    const join = jobs.get('join_amf')?.commands[0];
    expect(join).toBeInstanceOf(RunString);
  });
});

describe('templates and YAML features', () => {
  it('pre-renders the given names, and keeps run-time names with their filters for later', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
    const file = join(dir, 'mixed.yaml.j2');
    await writeFile(
      file,
      [
        'nodes:',
        '  - id: n1',
        '    hostname: "{{ host }}"',
        '    username: "{{ user }}"',
        'jobs:',
        '  - id: j1',
        '    node: n1',
        '    commands:',
        '      - type: Run',
        '        command: echo {{ pods }} {{ pods | upper }} {{ pods | shquote }}',
        '',
      ].join('\n'),
    );
    const { nodes, jobs, variables } = await loadScenario(file, {
      variables: { host: 'fit01', user: 'root' },
    });
    expect(String(nodes.get('n1'))).toBe('root@fit01');
    const job = jobs.get('j1');
    expect(job?.textLabel()).toBe('echo {{ pods }} {{ pods | upper }} {{ pods | shquote }}');
    variables.set('pods', "it's");
    const argv = (jobs.get('j1')?.commands[0] as Run | undefined)?.argv ?? [];
    expect(argv[0]).toBeInstanceOf(Deferred);
    expect((argv[0] as Deferred).render()).toBe(`echo it's IT'S 'it'\\''s'`);
  });

  it('refuses variable values that hold {{, {% or {#: values are data, not templates', async () => {
    const error = await loadScenario(fixture('loader3.yaml'), {
      variables: { msg: '{{ other }}', list: ['ok', '{% raw %}'], count: 'wc -l {# not a comment #}' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).problems.map((problem) => problem.path)).toEqual([
      '(variables).msg',
      '(variables).list[1]',
      '(variables).count',
    ]);
    expect((error as ScenarioError).message).toContain('a value may not hold {{, {% or {#');
  });

  it('a YAML error in a rendered template saved with saveIntermediate names a line of the saved file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
    temps.push(dir);
    const saved = join(dir, 'rendered.yaml');
    const error = await loadScenario(fixture('malformed/rendered-yaml-error.yaml.j2'), {
      variables: {},
      saveIntermediate: saved,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScenarioError);
    const first = (error as ScenarioError).problems[0]?.message ?? '';
    const located = /^YAML syntax error at (.+):(\d+):\d+ \(.+ rendered\): Block collections/.exec(first);
    expect(located?.[1]).toBe(saved);
    // line 8 of the template, below the saved file's 3-line header: the line the error names
    expect(located?.[2]).toBe('11');
    expect((await readFile(saved, 'utf8')).split('\n')[10]).toBe('      - type: Run');
  });

  it("takes apssh's allowed_exits for allowedExits", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
    const file = join(dir, 'exits.yaml');
    await writeFile(
      file,
      'nodes: [{ id: l, localnode: true }]\njobs:\n  - { id: j, node: l, commands: [{ type: Run, command: "exit 3", allowed_exits: [3, TERM] }] }\n',
    );
    const { scheduler, jobs } = await loadScenario(file);
    expect([...((jobs.get('j')?.commands[0] as Run | undefined)?.allowedExits ?? [])]).toEqual([3, 'TERM']);
    expect(await scheduler.run()).toBe(true);
  });

  it('reads YAML anchors, aliases and merge keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
    const file = join(dir, 'anchors.yaml');
    await writeFile(
      file,
      [
        'nodes:',
        '  - &base { id: n1, hostname: fit01, username: root, port: 2222 }',
        '  - <<: *base',
        '    id: n2',
        '    hostname: fit02',
        'jobs:',
        '  - id: j1',
        '    node: n2',
        '    commands: [{ type: Run, command: hostname }]',
        '',
      ].join('\n'),
    );
    const { nodes } = await loadScenario(file);
    expect(String(nodes.get('n2'))).toBe('root@fit02:2222');
  });
});

describe('durations', () => {
  it('parses ms, s, m, h and numbers of milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration(250)).toBe(250);
    expect(() => parseDuration('30 sec')).toThrow(RangeError);
    expect(() => parseDuration(-1)).toThrow(RangeError);
  });
});

describe('JSON Schema', () => {
  it('docs/scenario.schema.json is what scripts/write-json-schema.ts writes', async () => {
    expect(await readFile(JSON_SCHEMA_PATH, 'utf8')).toBe(jsonSchemaText());
  });
});

/** Malformed scenario → every expected problem (`path: message`); `<file>` stands for the file's path. */
const MALFORMED: Record<string, string[]> = {
  'template-error.yaml.j2': ['(root): template error at <file>:3:11: filter not found: nosuchfilter'],
  // the shell pipe `dmesg | head` on line 9 is not the filter
  'template-filter-after-pipe.yaml.j2': ['(root): template error at <file>:11:33: filter not found: head'],
  'template-unclosed.yaml.j2': ['(root): template error at <file>:9:23: expected variable end'],
  'template-condition-undecided.yaml.j2': [
    '(root): template error at <file>:9:4: the condition count > 3 uses "count", which has no value yet (give it a value: --var count=…; a value captured during the run cannot choose what the scenario holds)',
  ],
  // nunjucks says only "unexpected end of file"
  'template-unclosed-for.yaml.j2': [
    '(root): template error at <file>:3:1: unexpected end of file (this {% for %} is never closed: expected {% endfor %})',
  ],
  'template-shell-length.yaml.j2': [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expansion the message quotes
    '(root): template error at <file>:10:24: expected end of comment, got end of file ({# opens a Jinja comment: write a shell ${#name} as {% raw %}${#name}{% endraw %})',
  ],
  'template-syntax-error.yaml.j2': ['(root): template error at <file>:11:4: unknown block tag: endfo'],
  'rendered-yaml-error.yaml.j2': [
    '(root): YAML syntax error at <file>:8:7 (a line of the rendered template): Block collections are not allowed within flow collections',
    '(root): YAML syntax error at <file>:9:1 (a line of the rendered template): Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  'missing-variable.yaml.j2': [
    'nodes[0].hostname: expected a string, got a mapping',
    '(variables): no value for "gateway", "message" (kept as {{ name }} by the pre-render; captures get theirs at run time)',
  ],
  'run-multiline-command.yaml': [
    'jobs[0].commands[0].command: a Run command is one line (its words are joined with spaces): use RunString with script_body for several lines',
  ],
  'allowed-exits-not-list.yaml': ['jobs[0].commands[0].allowedExits: expected a list, got 1'],
  'allowed-exits-twice.yaml': [
    'jobs[0].commands[0].allowed_exits: give allowedExits or allowed_exits (its apssh name), not both',
  ],
  'bad-capture-name.yaml': [
    'jobs[0].commands[0].capture: expected a variable name (letters, digits and _), got "host-name"',
  ],
  'bad-duration.yaml': [
    'jobs[0].timeout: expected a duration like "30s", "500ms", "2m" or "1h", got "30 sec"',
  ],
  // `yes` is a boolean, as PyYAML reads it (and `off` the policy off)
  'bad-host-key-policy.yaml': ['nodes[0].hostKeyPolicy: expected one of strict, accept-new, off, got true'],
  'command-missing-type.yaml': [
    'jobs[0].commands[0].type: missing (expected one of Run, RunScript, RunString, Push, Pull)',
  ],
  'command-not-mapping.yaml': ['jobs[0].commands[0]: expected a mapping, got "echo hi"'],
  'command-unknown-key.yaml': [
    'jobs[0].commands[0].cmd: unknown key; expected one of type, command, argv, pty, env, label, verbose, allowedExits, allowed_exits, capture, x11',
    'jobs[0].commands[0]: Run needs command (a string) or argv (a list)',
  ],
  'commands-empty.yaml': ['jobs[0].commands: expected at least 1 item, got an empty list'],
  'commands-not-list.yaml': ['jobs[0].commands: expected a list, got "echo hi"'],
  'connection-budget.yaml': [
    'nodes[0].keepaliveInterval: expected a duration like "30s", "500ms", "2m" or "1h", got "often"',
    'nodes[0].maxSessions: expected a number >= 1, got 0',
    'nodes[0].maxConnections: expected a number <= 64, got 65',
    'nodes[0].idleClose: expected a number >= 0, got -1',
    'nodes[1].maxConnections: not allowed on a localnode',
  ],
  'critical-not-boolean.yaml': ['jobs[0].critical: expected a boolean (true or false), got "maybe"'],
  'duplicate-job-id.yaml': ['jobs[1].id: duplicate job id "j1" (first defined at jobs[0])'],
  'duplicate-node-id.yaml': ['nodes[1].id: duplicate node id "n1" (first defined at nodes[0])'],
  'empty-file.yaml': ['(root): expected a mapping, got null'],
  'env-bad-name.yaml': [
    'jobs[0].commands[0].env.BAD NAME: expected an environment variable name (letters, digits and _, not first a digit)',
  ],
  // found only when the jobs were built, in one line with no path, before
  'empty-paths-bad-exits.yaml': [
    'jobs[0].commands[0].localpaths: expected at least 1 item, got an empty list',
    'jobs[0].commands[1].remotepaths: expected at least 1 item, got an empty list',
    'jobs[0].commands[2].allowedExits[1]: expected a number <= 255, got 999',
    'jobs[0].commands[2].allowedExits[2]: expected a number >= 0, got -1',
  ],
  'every-problem-at-once.yaml': [
    'nodes[0].gateway: gateway cycle: gw -> n1 -> gw',
    'nodes[1].port: expected a number >= 1, got 0',
    'nodes[2].id: duplicate node id "n1" (first defined at nodes[1])',
    'jobs[0].commands[0].type: expected one of Run, RunScript, RunString, Push, Pull, got "Runn"',
    'jobs[0].timeout: expected a duration like "30s", "500ms", "2m" or "1h", got "soon"',
    'jobs[0].required: unknown job "nope" (known: j1, j2)',
    'jobs[1].commands[0].localpaths: missing (expected a string or a list)',
    'jobs[1].commands[0].localpath: unknown key; did you mean "localpaths"?',
    'jobs[1].node: unknown node "n9" (known: gw, n1)',
  ],
  'gateway-cycle.yaml': ['nodes[0].gateway: gateway cycle: n1 -> n2 -> n1'],
  'go-template-in-command.yaml': [
    `jobs[0].commands[0].command: is rendered as a Jinja2 template at run time, and "docker ps --format '{{.Names}}'" is not one (line 1, column 23: unexpected token: .); a literal {{ (a Go template) is written {% raw %}{{.Names}}{% endraw %}`,
    'jobs[0].commands[1].argv[1]: is rendered as a Jinja2 template at run time, and "{{ pod }" is not one (line 1, column 8: expected variable end); a literal {{ (a Go template) is written {% raw %}{{.Names}}{% endraw %}',
    // a filter that does not exist, found before any job runs
    'jobs[0].commands[3].command: is rendered as a Jinja2 template at run time, and "echo {{ pod | nofilter }}" is not one (line 1, column 15: filter not found: nofilter)',
  ],
  'gateway-localnode.yaml': ['nodes[1].gateway: node "local" is a localnode: a gateway must be an SSH node'],
  'gateway-self.yaml': ['nodes[0].gateway: gateway cycle: n1 -> n1'],
  'job-missing-commands.yaml': ['jobs[0].commands: missing (expected a list)'],
  'job-unknown-node.yaml': ['jobs[0].node: unknown node "n2" (known: n1)'],
  'job-unknown-required-in-list.yaml': ['jobs[1].required[1]: unknown job "j9" (known: j0, j1)'],
  'job-unknown-required.yaml': ['jobs[0].required: unknown job "setup" (known: j1)'],
  'label-not-string.yaml': ['jobs[0].label: expected a string, got a list'],
  'localnode-with-hostname.yaml': ['nodes[0].hostname: not allowed on a localnode'],
  'missing-jobs.yaml': ['jobs: missing (expected a list)'],
  // found when connecting, before (the ssh_config file: taken for none, the alias for a host name)
  'missing-local-files.yaml': [
    'nodes[0].keys[0]: no such key file: no-such-key',
    'nodes[1].sshConfigFile: no such ssh config file: /no/such/ssh_config',
  ],
  'missing-nodes.yaml': ['nodes: missing (expected a list)'],
  'negative-duration.yaml': ['jobs[0].timeout: expected a number >= 0, got -5'],
  'template-outside-command.yaml': [
    'jobs[0].commands[0].env.FOO: holds {{ rs }} ("{{ rs }}"), but captures are rendered only in commands (command, argv, args, script_body): here it would be used as written',
    'jobs[0].commands[1].remotepath: holds {{ rs }} ("/tmp/out-{{ rs | upper }}"), but captures are rendered only in commands (command, argv, args, script_body): here it would be used as written',
    "jobs[0].commands[2].command: starts with {{ rs }}, but a RunScript's script path is not rendered (its arguments are): name the local script itself",
  ],
  'zero-duration.yaml': [
    'jobs[0].timeout: expected a duration above 0 (leave it out for no limit), got "0s"',
  ],
  'too-long-duration.yaml': [
    'nodes[0].connectTimeout: expected a duration of at most 596h (2147483647 ms, the longest a timer waits), got 2147483648',
    'scheduler.timeout: expected a duration of at most 596h (2147483647 ms, the longest a timer waits), got "600h"',
  ],
  'negative-retries.yaml': ['jobs[0].retries: expected a number >= 0, got -1'],
  'node-id-number.yaml': ['nodes[0].id: expected a string, got 3'],
  'node-missing-id.yaml': ['nodes[0].id: missing (expected a string)'],
  'node-unknown-key.yaml': [
    'nodes[0].hostnme: unknown key; did you mean "hostname"?',
    'nodes[0].hostname: missing (a node needs a hostname, or sshConfig, or localnode: true)',
  ],
  'nodes-not-list.yaml': ['nodes: expected a list, got a mapping'],
  'port-not-integer.yaml': ['nodes[0].port: expected an integer, got 22.5'],
  'port-out-of-range.yaml': ['nodes[0].port: expected a number <= 65535, got 70000'],
  'port-string.yaml': ['nodes[0].port: expected a number, got "ssh"'],
  'pull-remotepaths-number.yaml': ['jobs[0].commands[0].remotepaths: expected a string or a list, got 3'],
  'push-missing-remotepath.yaml': ['jobs[0].commands[0].remotepath: missing (expected a string)'],
  // said "expected a string or a string, got a list"
  'required-null-item.yaml': ['jobs[1].required[1]: expected a string, got null'],
  'required-cycle.yaml': ['jobs[0].required: requirement cycle: j1 -> j2 -> j1'],
  'run-command-and-argv.yaml': ['jobs[0].commands[0].argv: give command or argv, not both'],
  'run-empty-command.yaml': ['jobs[0].commands[0].command: empty command'],
  'run-missing-command.yaml': ['jobs[0].commands[0]: Run needs command (a string) or argv (a list)'],
  'runscript-missing-script.yaml': [
    'jobs[0].commands[0]: RunScript needs command (script and arguments) or local_script',
  ],
  'runstring-missing-body.yaml': ['jobs[0].commands[0].script_body: missing (expected a string)'],
  'scheduler-jobs-window-zero.yaml': [
    'scheduler.jobsWindow: expected a number >= 1, got 0',
    'scheduler.timeout: expected a duration like "30s", "500ms", "2m" or "1h", got "2 minutes"',
  ],
  'scheduler-unknown-key.yaml': ['scheduler.window: unknown key; expected one of jobsWindow, timeout, label'],
  'top-level-list.yaml': ['(root): expected a mapping, got a list'],
  'unknown-command-type.yaml': [
    'jobs[0].commands[0].type: expected one of Run, RunScript, RunString, Push, Pull, got "Runn"',
  ],
  'unknown-formatter.yaml': [
    'nodes[0].formatter: expected one of RawFormatter, HostFormatter, TimeHostFormatter, TerminalFormatter, CaptureFormatter, SubdirFormatter, JsonLinesFormatter, got "FancyFormatter"',
  ],
  'unknown-gateway.yaml': ['nodes[0].gateway: unknown node "faraday" (known: n1)'],
  // a value is cut in a message (a 100,000-character one made a line of all)
  'unknown-node-long.yaml': [
    `jobs[0].node: unknown node "${'x'.repeat(60)}…" (200 characters) (known: local)`,
  ],
  'unknown-top-key.yaml': ['schedular: unknown key; did you mean "scheduler"?'],
  // the second was dropped without a word (PyYAML's safe_load refuses it)
  'yaml-two-documents.yaml': [
    '(root): a second YAML document starts at <file>:3: a scenario is one document (expected no --- after the first)',
  ],
  'yaml-duplicate-key.yaml': ['(root): YAML syntax error at <file>:4:5: Map keys must be unique'],
  'yaml-alias-bomb.yaml': [
    '(root): YAML error in <file>: Excessive alias count indicates a resource exhaustion attack',
  ],
  'yaml-syntax-error.yaml': [
    '(root): YAML syntax error at <file>:8:7: Block collections are not allowed within flow collections',
    '(root): YAML syntax error at <file>:9:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
};

describe('malformed scenarios', () => {
  it('there are at least 30 fixtures, each in the table', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(fixture('malformed'))).sort();
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files).toEqual(Object.keys(MALFORMED).sort());
  });

  it.each(Object.entries(MALFORMED))('%s', async (name, expected) => {
    const file = `packages/cli/test/fixtures/malformed/${name}`;
    const error = await loadScenario(file).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error).toBeInstanceOf(JobGraphError);
    const scenarioError = error as ScenarioError;
    expect(scenarioError.code).toBe('ERR_CONFIG');
    const lines = expected.map((line) => line.replaceAll('<file>', file));
    expect(scenarioError.problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual(lines);
    expect(scenarioError.problems.every((problem) => problem.file === file)).toBe(true);
    const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
    expect(scenarioError.message).toBe([`${file}: ${count}`, ...lines.map((line) => `  ${line}`)].join('\n'));
  });

  it('a chain of 6,000 requirements loads (it overflowed the stack); a ring of 3,000 is one bounded line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-chain-'));
    const scenario = (n: number, next: (i: number) => number | undefined) =>
      [
        'nodes: [{ id: local, localnode: true }]',
        'jobs:',
        ...Array.from({ length: n }, (_, i) => {
          const required = next(i);
          return `  - { id: j${i}, node: local, commands: [{ type: Run, command: 'true' }]${required === undefined ? '' : `, required: j${required}`} }`;
        }),
        '',
      ].join('\n');
    await writeFile(
      join(dir, 'chain.yaml'),
      scenario(6000, (i) => (i < 5999 ? i + 1 : undefined)),
    );
    const loaded = await loadScenario(join(dir, 'chain.yaml'));
    expect(loaded.jobs.size).toBe(6000);
    await writeFile(
      join(dir, 'ring.yaml'),
      scenario(3000, (i) => (i + 1) % 3000),
    );
    const error = (await loadScenario(join(dir, 'ring.yaml')).catch(
      (caught: unknown) => caught,
    )) as ScenarioError;
    expect(error.problems.map((problem) => problem.message)).toEqual([
      'requirement cycle: j0 -> j1 -> j2 -> j3 -> j4 -> j5 -> … (2990 more) -> j2996 -> j2997 -> j2998 -> j2999 -> j0',
    ]);
    await rm(dir, { recursive: true, force: true });
  });

  it("a node's ssh_config that cannot be resolved is a problem of the scenario at its place (it was a bare error, exit 1)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-sshcfg-'));
    await writeFile(join(dir, 'sshcfg'), 'Host x\n  Port abc\n');
    await writeFile(
      join(dir, 's.yaml'),
      'nodes:\n  - { id: a, localnode: true }\n  - { id: b, sshConfig: x, sshConfigFile: sshcfg }\njobs: []\n',
    );
    const error = (await loadScenario(join(dir, 's.yaml')).catch(
      (caught: unknown) => caught,
    )) as ScenarioError;
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error.problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      `nodes[1].sshConfig: Cannot resolve the ssh config host "x": ${join(dir, 'sshcfg')} line 2: bad port "abc" in Port: expected 1 to 65535 or a service name`,
    ]);
    await rm(dir, { recursive: true, force: true });
  });

  it("yes, no, on, off are booleans as apssh's PyYAML reads them (localnode: yes was refused); y, n and quoted ones are text", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-yes-'));
    await writeFile(
      join(dir, 's.yaml'),
      'nodes: [{ id: l, localnode: Yes }]\njobs:\n  - { id: a, node: l, critical: no, forever: OFF, label: y, commands: [{ type: Run, command: "true" }] }\n  - { id: b, node: l, critical: on, label: "yes", commands: [{ type: Run, command: "true" }] }\n',
    );
    const { jobs } = await loadScenario(join(dir, 's.yaml'));
    expect([jobs.get('a')?.critical, jobs.get('a')?.forever, jobs.get('a')?.label]).toEqual([
      false,
      false,
      'y',
    ]);
    expect([jobs.get('b')?.critical, jobs.get('b')?.label]).toEqual([true, 'yes']);
    await writeFile(join(dir, 'off.yaml'), 'nodes: [{ id: n, hostname: h, hostKeyPolicy: off }]\njobs: []\n');
    await expect(loadScenario(join(dir, 'off.yaml'))).resolves.toBeDefined();
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing file is a ScenarioError too', async () => {
    await expect(loadScenario(fixture('no-such-file.yaml'))).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      problems: [{ path: '(root)' }],
    });
    expect(existsSync(fixture('no-such-file.yaml'))).toBe(false);
  });

  it('a device that never ends is refused after 16 MiB, not read until memory runs out', async () => {
    await expect(loadScenario('/dev/zero')).rejects.toMatchObject({
      problems: [
        { path: '(root)', message: 'cannot read the file: larger than 16 MiB (a device or a pipe?)' },
      ],
    });
  });

  it('a long value is shown cut in a message, with its length', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
    try {
      const file = join(dir, 'long.yaml');
      await writeFile(file, 'x'.repeat(100_000));
      await expect(loadScenario(file)).rejects.toMatchObject({
        problems: [
          { path: '(root)', message: `expected a mapping, got "${'x'.repeat(60)}…" (100000 characters)` },
        ],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
