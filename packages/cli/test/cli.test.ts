/**
 * The `jobgraph` binary, spawned for real (`node packages/cli/bin/jobgraph.js …`): run and graph,
 * offline on fixtures and against the test bed (real sshd on loopback, a gateway and targets behind it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killMatching, pgrep } from './binary.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = 'packages/cli/bin/jobgraph.js';
const bed = inject('testbed');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the binary with cwd /work/main (the repository root). */
function start(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Outcome>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

function jobgraph(...args: string[]): Promise<Outcome> {
  return start(args).done;
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});
/** A scenario file in a new directory: one local node `l`, and `jobs` (YAML list items). */
async function localScenario(name: string, jobs: string): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const file = join(dir, name);
  await writeFile(file, `nodes:\n  - id: l\n    localnode: true\njobs:\n${jobs}`);
  return { dir, file };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobgraph-cli-'));
  temps.push(dir);
  return dir;
}

/** The loopback node of the bed, as a YAML node entry. */
function loopbackNode(id = 'loopback'): string {
  return `  - id: ${id}
    hostname: ${bed.loopback.hostname}
    port: ${bed.loopback.port}
    username: root
    keys: [${bed.keys.ed25519}]
    knownHosts: ${bed.knownHosts}
    hostKeyPolicy: strict
    connectTimeout: 10s`;
}

/** Polls `check` every 100 ms, at most `tries` times. @returns whether it became true */
async function eventually(check: () => Promise<boolean>, tries = 200): Promise<boolean> {
  for (let attempt = 0; attempt < tries; attempt += 1) {
    if (await check()) return true;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  return false;
}

describe('jobgraph, offline', () => {
  it('--version and -V print the package version', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const result = await jobgraph(flag);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
    expect((await jobgraph('run', '-V')).stdout.trim()).toBe(version);
  });

  it('--help lists run and graph; each subcommand has its help with examples', async () => {
    const result = await jobgraph('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\s+run \[options\] <scenario>/m);
    expect(result.stdout).toMatch(/^\s+graph \[options\] <scenario>/m);
    for (const command of ['run', 'graph']) {
      const help = await jobgraph(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: jobgraph ${command}`);
      expect(help.stdout).toContain('Examples:');
    }
    expect((await jobgraph('run', '--help')).stdout).toContain('--dry-run');
  });

  it('run --dry-run prints every job, its node chain and its commands, and connects nowhere', async () => {
    const result = await jobgraph('run', 'packages/cli/test/fixtures/loader3.yaml', '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const id of ['remote_run', 'remote_script', 'local_run', 'local_script']) {
      expect(result.stdout).toContain(`job ${id}:`);
    }
    expect(result.stdout).toContain('node: root@localhost');
    expect(result.stdout).toContain('1. Run: hostname');
    expect(result.stdout).toContain('RunScript: hello.sh remote');
    expect(result.stdout).toContain('requires: local_run, remote_script');
  });

  it('run --dry-run shows a gateway chain, --var values (nested, lists, numbers) and run-time templates', async () => {
    const dir = await tempDir();
    const file = join(dir, 'plan.yaml.j2');
    await writeFile(
      file,
      `nodes:
  - id: gw
    hostname: {{ gateway.hostname }}
    username: {{ gateway.username }}
  - id: amf
    hostname: {{ nodes.amf }}
    port: {{ port }}
    gateway: gw
jobs:
{% for word in words %}
  - id: say{{ loop.index }}
    node: amf
    commands:
      - type: Run
        command: echo {{ word }} {{ later }}
{% endfor %}
`,
    );
    const result = await jobgraph(
      'run',
      file,
      '--dry-run',
      '--var',
      'gateway.hostname=faraday.inria.fr',
      '--var',
      'gateway.username=inria_r2lab',
      '--var',
      'nodes.amf=fit01',
      '--var',
      'port=2222',
      '--var',
      'words=[alpha, beta]',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('node: inria_r2lab@faraday.inria.fr->');
    expect(result.stdout).toContain('@fit01:2222');
    expect(result.stdout).toContain('job say1:');
    expect(result.stdout).toContain('1. Run: echo alpha {{ later }}');
    expect(result.stdout).toContain('1. Run: echo beta {{ later }}');
  });

  it('run --dry-run shows what one-line labels leave out: script bodies, paths, env names, captures', async () => {
    const { dir, file } = await localScenario(
      'details.yaml',
      `  - id: a
    node: l
    commands:
      - type: Run
        command: hostname
        capture: host
        env: { TOKEN: not-for-the-plan }
      - type: RunString
        script_body: |
          set -e
          rm -rf /tmp/scratch-{{ host }}
        args: ["{{ host }}"]
      - type: Push
        localpaths: [a.txt, b.txt]
        remotepath: /tmp/dest
`,
    );
    const result = await jobgraph('run', file, '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const plan = result.stdout.split('\n');
    const at = plan.indexOf('  1. Run: hostname');
    expect(plan.slice(at, at + 10)).toEqual([
      '  1. Run: hostname',
      '       env: TOKEN (values not shown)',
      '       captures: host',
      '  2. RunString: set -e {{ host }}',
      '       body:',
      '       | set -e',
      '       | rm -rf /tmp/scratch-{{ host }}',
      `  3. Push: ${join(dir, 'a.txt')} ... (2 total) onto /tmp/dest`,
      `       from: ${join(dir, 'a.txt')}, ${join(dir, 'b.txt')}`,
      '       to: /tmp/dest',
    ]);
    expect(result.stdout).not.toContain('not-for-the-plan');
  });

  it('graph -o out.svg writes an SVG with the job labels; .dot too; --topology', async () => {
    const dir = await tempDir();
    const svg = join(dir, 'out.svg');
    const result = await jobgraph('graph', 'packages/cli/test/fixtures/loader3.yaml', '-o', svg);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const text = await readFile(svg, 'utf8');
    expect(text).toContain('<svg');
    expect(text).toContain('hostname');
    expect(text).toContain('hello.sh remote');
    const dot = join(dir, 'out.dot');
    expect((await jobgraph('graph', 'packages/cli/test/fixtures/loader3.yaml', '-o', dot)).code).toBe(0);
    expect(await readFile(dot, 'utf8')).toMatch(/^digraph/);
    const topology = join(dir, 'topology.dot');
    const topo = await jobgraph(
      'graph',
      'packages/cli/test/fixtures/loader3.yaml',
      '--topology',
      '-o',
      topology,
    );
    expect(topo.code).toBe(0);
    expect(await readFile(topology, 'utf8')).toContain('root@localhost');
    // a directory that is not there: one line, exit 2, as `run --graph` (a raw ENOENT, exit 1)
    const nowhere = await jobgraph(
      'graph',
      'packages/cli/test/fixtures/loader3.yaml',
      '-o',
      '/nonexistent-dir/x.svg',
    );
    expect({ code: nowhere.code, stderr: nowhere.stderr }).toEqual({
      code: 2,
      stderr: 'jobgraph: cannot write -o /nonexistent-dir/x.svg: no such directory /nonexistent-dir\n',
    });
  });

  it('a malformed scenario: exit 2, every problem on stderr, no stack trace (unless -D)', async () => {
    const file = 'packages/cli/test/fixtures/malformed/every-problem-at-once.yaml';
    for (const command of [
      ['run', file],
      ['graph', file, '-o', join(tmpdir(), 'never-written.svg')],
    ]) {
      const result = await jobgraph(...command);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^jobgraph: .*every-problem-at-once\.yaml: \d+ problems$/);
      expect(result.stderr).toContain('jobs[1].node: unknown node "n9"');
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
    const debug = await jobgraph('run', file, '-D');
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it('usage errors: one line on stderr, exit 2', async () => {
    const cases: string[][] = [
      ['run', 'packages/cli/test/fixtures/loader3.yaml', '--bogus'],
      ['frobnicate'],
      ['run'],
      ['graph', 'packages/cli/test/fixtures/loader3.yaml'],
      ['graph', 'packages/cli/test/fixtures/loader3.yaml', '-o', 'out.txt'],
      ['run', 'packages/cli/test/fixtures/loader3.yaml', '--dry-run', '--var', 'novalue'],
    ];
    for (const args of cases) {
      const result = await jobgraph(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^jobgraph: [^\n]+\n$/);
    }
    expect((await jobgraph('run', 'x.yaml', '--bogus')).stderr).toBe("jobgraph: unknown option '--bogus'\n");
  });

  it('no colours when NO_COLOR is set or stderr is not a terminal', async () => {
    const result = await start(['run', 'missing.yaml'], { NO_COLOR: '', FORCE_COLOR: '1' }).done;
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('\u001b[');
  });
});

describe('jobgraph run, on the test bed', () => {
  it('runs a scenario: exit 0, the debrief on stdout, --graph and --topology written', async () => {
    const dir = await tempDir();
    const file = join(dir, 'hello.yaml');
    await writeFile(
      file,
      `nodes:
${loopbackNode()}
jobs:
  - id: hello
    node: loopback
    commands:
      - type: Run
        command: echo hello
`,
    );
    const graph = join(dir, 'g.svg');
    const topology = join(dir, 't.svg');
    const result = await jobgraph('run', file, '--graph', graph, '--topology', topology, '-v');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello');
    expect(result.stdout).toContain('echo hello');
    expect(result.stderr).toContain('SCHEDULER: entering run()');
    expect(await readFile(graph, 'utf8')).toContain('echo hello');
    expect(await readFile(topology, 'utf8')).toContain(`root@${bed.loopback.hostname}`);
  });

  it('exit 1 when a critical job fails', async () => {
    const dir = await tempDir();
    const file = join(dir, 'fail.yaml');
    await writeFile(
      file,
      `nodes:
${loopbackNode()}
jobs:
  - id: fail
    node: loopback
    commands:
      - type: Run
        command: exit 3
`,
    );
    const result = await jobgraph('run', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('exit 3');
  });

  it('examples/scenarios/gateway-experiment.yaml.j2 with --var, as its README shows', async () => {
    const out = join(await tempDir(), 'out');
    const [t1, t2] = bed.targets;
    const vars = [
      `gateway.hostname=${bed.gateway.hostname}`,
      'gateway.username=root',
      `gateway.port=${bed.gateway.port}`,
      `nodes=[${t1.hostname}, ${t2.hostname}]`,
      'username=root',
      `port=${t1.port}`,
      `key=${bed.keys.ed25519}`,
      `known_hosts=${bed.knownHosts}`,
      'host_key_policy=strict',
      `out=${out}`,
    ].flatMap((assignment) => ['--var', assignment]);
    const example = 'examples/scenarios/gateway-experiment.yaml.j2';
    const plan = await jobgraph('run', example, '--dry-run', ...vars);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`root@${bed.gateway.hostname}`);
    expect(plan.stdout).toContain(`->root@${t1.hostname}`);
    const result = await jobgraph('run', example, ...vars);
    expect(result.code, result.stderr).toBe(0);
    const merged = (await readFile(join(out, 'merged.txt'), 'utf8')).trim().split('\n');
    expect(merged).toHaveLength(2);
  }, 90_000);

  it("--report's events.jsonl holds the same events as the --log, the connections' closing included", async () => {
    const dir = await tempDir();
    const file = join(dir, 'one.yaml');
    await writeFile(
      file,
      `nodes:\n${loopbackNode()}\njobs:\n  - id: one\n    node: loopback\n    commands: [{ type: Run, command: echo hello }]\n`,
    );
    const log = join(dir, 'run.jsonl');
    const result = await jobgraph('run', file, '--log', log, '--log-output', '--report', join(dir, 'report'));
    expect(result.code, result.stderr).toBe(0);
    const types = async (path: string) =>
      (await readFile(path, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { type: string }).type);
    const logged = await types(log);
    expect(logged).toContain('ssh:close');
    expect(await types(join(dir, 'report', 'events.jsonl'))).toEqual(logged);
  }, 60_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s stops the run: exit %i, the remote process killed',
    async (signal, code) => {
      const dir = await tempDir();
      const marker = `jobgraph-cli-${signal}-${process.pid}-${Date.now()}`;
      const file = join(dir, 'sleep.yaml');
      await writeFile(
        file,
        `nodes:
${loopbackNode()}
jobs:
  - id: sleep
    node: loopback
    commands:
      - type: Run
        command: sleep 300; echo ${marker}
`,
      );
      const { child, done } = start(['run', file]);
      try {
        const running = await eventually(async () => (await pgrep(marker)).length > 0);
        expect(running).toBe(true);
        child.kill(signal);
        const result = await done;
        expect(result.code, result.stderr).toBe(code);
        expect(result.stderr).toContain(signal === 'SIGINT' ? 'interrupted' : `${signal} received`);
        // the debrief is printed, naming the cancelled job
        expect(result.stdout).toContain('sleep');
        expect(await eventually(async () => (await pgrep(marker)).length === 0, 100)).toBe(true);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await killMatching(marker);
      }
    },
    60_000,
  );

  it('run --graph draws the results: each job filled by its status, named on its last line', async () => {
    const { dir, file } = await localScenario(
      'states.yaml',
      `  - id: ok
    node: l
    label: fine
    commands: [{ type: Run, command: "true" }]
  - id: bad
    node: l
    required: ok
    commands: [{ type: Run, command: "false" }]
  - id: never
    node: l
    required: bad
    commands: [{ type: Run, command: "true" }]
`,
    );
    const graph = join(dir, 'after.dot');
    const result = await jobgraph('run', file, '--graph', graph);
    expect(result.code).toBe(1);
    const dot = await readFile(graph, 'utf8');
    expect(dot).toMatch(/fillcolor="palegreen",label="1: fine\nroot@LOCALNODE\ntrue\n\[done\]"/);
    expect(dot).toContain('fillcolor="lightpink"');
    expect(dot).toContain('[failed]');
    expect(dot).toContain('[idle]');
    // the same scenario drawn without a run has no states
    const before = join(dir, 'before.dot');
    expect((await jobgraph('graph', file, '-o', before)).code).toBe(0);
    expect(await readFile(before, 'utf8')).not.toContain('fillcolor');
  });

  it('the graph file is written even for a dry run', async () => {
    const dir = await tempDir();
    const graph = join(dir, 'plan.png');
    const result = await jobgraph('run', 'packages/cli/test/fixtures/loader3.yaml', '-n', '--graph', graph);
    expect(result.code).toBe(0);
    expect((await stat(graph)).size).toBeGreaterThan(0);
  });
});
