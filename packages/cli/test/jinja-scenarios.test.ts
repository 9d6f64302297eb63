/**
 * Scenario files written for apssh run unchanged (issue 15): a `.yaml.j2` in apssh's style — a
 * dict of nodes looped with `.items()`, `nodes.values() | join(' ')`, a `required:` list built by
 * a loop, `>` folded labels, RunScript with `local_script` and `args`, RunString with
 * `script_body`, `{% include %}` and `{% import %}` next to the scenario — loaded, drawn with
 * `jobgraph graph` and dry-run; and what stays unsupported fails in one line that names the file,
 * the line and column, and the construct.
 */
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SshNode } from '@jobgraph/ssh';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/index.js';
import { jobgraph, root, tempDir } from './binary.js';

const fixtures = join(root, 'packages/cli/test/fixtures/apssh-style');
const oai = join(fixtures, 'oai-k8s.yaml.j2');
const VARIABLES = {
  gateway: 'faraday.inria.fr',
  leader: 'sopnode-l1',
  verbose: true,
  nodes: { amf: 'fit01', gnb: 'fit02', ue: 'fit03' },
};
const VAR_ARGS = [
  ...['--var', 'gateway=faraday.inria.fr', '--var', 'leader=sopnode-l1', '--var', 'verbose=True'],
  ...['--var', 'nodes={amf: fit01, gnb: fit02, ue: fit03}'],
];

describe('a scenario in apssh style', () => {
  it('loads: nodes from a dict loop, commands joined from its values, a required list built by a loop, folded labels', async () => {
    const { jobs, nodes } = await loadScenario(oai, { variables: VARIABLES });
    expect([...nodes.keys()]).toEqual(['faraday', 'leader', 'amf', 'gnb', 'ue']);
    expect(String(nodes.get('gnb'))).toBe('root@faraday.inria.fr->root@fit02');
    expect([...jobs.keys()]).toEqual([
      'load_images',
      'rejoin_amf',
      'rejoin_gnb',
      'rejoin_ue',
      'prepare',
      'attach_ue',
    ]);
    const load = jobs.get('load_images');
    expect(load?.commands.map((command) => command.labelLine())).toEqual([
      'rhubarbe load fit01 fit02 fit03 -i kubernetes',
      'rhubarbe wait fit01 fit02 fit03',
    ]);
    expect(jobs.get('rejoin_gnb')?.label).toBe(
      'reset the data interface of fit02 (GNB) and join the cluster of sopnode-l1',
    );
    const prepare = jobs.get('prepare');
    expect([...(prepare?.required ?? [])].map((job) => job.label).sort()).toEqual(
      ['fit01', 'fit02', 'fit03'].map((host) => expect.stringContaining(host)),
    );
    expect(prepare?.label).toBe('prepare the demo from fit01');
    expect(prepare?.commands.map((command) => command.labelLine())).toEqual([
      'RunScript: demo.sh init oai5g',
      'RunString: for arg in "$@"... start fit01,fit02,fit03',
    ]);
    expect(jobs.get('attach_ue')?.commands[0]?.labelLine()).toBe('echo fit03:oai5g');
    expect(nodes.get('faraday')).toMatchObject({ verbose: true });
  });

  it('is drawn by jobgraph graph and dry-run by jobgraph run, with the variables on the command line', async () => {
    const dir = await tempDir('jobgraph-jinja-');
    const svg = join(dir, 'oai.svg');
    const graph = await jobgraph(['graph', oai, ...VAR_ARGS, '-o', svg]);
    expect(graph.stderr).toBe('');
    expect(graph.code).toBe(0);
    const drawn = await readFile(svg, 'utf8');
    for (const label of [
      'load the k8s image on 3 FIT nodes',
      'prepare the demo from fit01',
      'attach the UE on fit03',
    ])
      expect(drawn).toContain(label);
    const dry = await jobgraph(['run', oai, ...VAR_ARGS, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('scenario: 6 job(s) on 5 node(s)');
    expect(dry.stdout).toContain('1. Run: rhubarbe load fit01 fit02 fit03 -i kubernetes');
    expect(dry.stdout).toContain('requires: rejoin_amf, rejoin_gnb, rejoin_ue');
    expect(dry.stdout).toContain(`script: ${join(fixtures, 'demo.sh')}`);
    expect(dry.stdout).not.toMatch(/undefined|\[object Object\]/);
  });

  it('includes and imports files next to the scenario, loop variables and `is in` included', async () => {
    const { jobs, nodes } = await loadScenario(join(fixtures, 'with-include.yaml.j2'), {
      variables: { gateway: 'faraday', nodes: { amf: 'fit01', gnb: 'fit02' } },
    });
    expect([...nodes.keys()]).toEqual(['faraday', 'amf', 'gnb']);
    expect(String(nodes.get('amf'))).toBe('root@faraday->root@fit01');
    expect(jobs.get('gnb_up')?.commands[0]?.labelLine()).toBe('ip link set gnb up');
    // the included file's `is not in`, rewritten as the template's own
    expect(['amf', 'gnb'].map((id) => (nodes.get(id) as SshNode).verbose)).toEqual([true, false]);
  });
});

/** A scenario whose one command holds `template` (at line 7, column 22), with `hosts` a list. */
const scenarioWith = (template: string) =>
  `nodes:\n  - id: a\n    hostname: h\njobs:\n  - id: j\n    node: a\n    commands:\n      - type: Run\n        command: echo ${template}\n`;

describe('what stays unsupported, and mistakes, fail in one line', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a list comprehension',
      '{{ [h for h in hosts] | join(" ") }}',
      /:9:\d+: a list comprehension .* is not supported/,
    ],
    ['{% do %}', '{% do hosts.append(1) %}', /:9:\d+: \{% do … %\} \(a Jinja2 extension\) is not supported/],
    [
      'a method Python has and jobgraph not',
      '{{ hosts.copy() }}',
      /:9:\d+: hosts\.copy\(\) is not supported/,
    ],
    ['an unknown filter', '{{ hosts | shuffle }}', /:9:\d+: filter not found: shuffle/],
  ];
  it.each(cases)('%s', async (_what, template, expected) => {
    const dir = await tempDir('jobgraph-jinja-');
    const file = join(dir, 'bad.yaml.j2');
    await writeFile(file, scenarioWith(template));
    const outcome = await jobgraph(['run', file, '--var', 'hosts=[x, y]', '--dry-run']);
    expect(outcome.code).toBe(2);
    const lines = outcome.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(expected);
    expect(lines[1]).toContain(`template error at ${file}:`);
    expect(outcome.stderr).not.toMatch(/\n\s+at |undefined or falsey|parseAggregate/);
  });

  it('an error in an included or imported file is placed in that file, and nothing crashes', async () => {
    const dir = await tempDir('jobgraph-jinja-');
    await writeFile(join(dir, 'syntax.j2'), 'line one\n{{ 1 + }}\n');
    await writeFile(join(dir, 'filter.j2'), '  - id: b\n    hostname: "{{ gateway | nosuch }}"\n');
    await writeFile(join(dir, 'open.j2'), '  - id: c\n{% if gateway %}\n    hostname: h\n');
    const head = 'nodes:\n  - id: a\n    hostname: h\n';
    const cases: [string, string][] = [
      // nunjucks threw this one in a later tick, after the render had returned null: a crash
      ['{% include "syntax.j2" %}', `template error at ${join(dir, 'syntax.j2')}:2:8: unexpected token: }}`],
      [
        '{% import "syntax.j2" as m %}',
        `template error at ${join(dir, 'syntax.j2')}:2:8: unexpected token: }}`,
      ],
      [
        '{% include "filter.j2" %}',
        `template error at ${join(dir, 'filter.j2')}:2:29: filter not found: nosuch`,
      ],
      [
        '{% include "open.j2" %}',
        `template error at ${join(dir, 'open.j2')}:2:1: parseIf: expected elif, else, or endif, got end of file (this {% if %} is never closed: expected {% endif %})`,
      ],
      [
        '{% include "main.yaml.j2" %}',
        `template error in ${join(dir, 'main.yaml.j2')} (included): templates included 100 deep: does ${join(dir, 'main.yaml.j2')} include itself?`,
      ],
      [
        '{% extends "nope.j2" %}',
        `template error at ${join(dir, 'main.yaml.j2')}:4:1: template not found: nope.j2 (include and import read files from ${dir}, the scenario's directory)`,
      ],
      [
        '{% include "nope.j2" %}',
        `template error at ${join(dir, 'main.yaml.j2')}:4:1: template not found: nope.j2 (include and import read files from ${dir}, the scenario's directory)`,
      ],
    ];
    // a link to a device, or a file too large: refused before it is read (it was read for good)
    await symlink('/dev/zero', join(dir, 'zero.j2'));
    cases.push([
      '{% include "zero.j2" %}',
      `template error at ${join(dir, 'main.yaml.j2')}:4:1: template "zero.j2" is not a regular file (expected a file of text)`,
    ]);
    for (const [tag, expected] of cases) {
      const file = join(dir, 'main.yaml.j2');
      await writeFile(file, `${head}${tag}\njobs: []\n`);
      const outcome = await jobgraph(['run', file, '--var', 'gateway=gw', '--dry-run']);
      expect(outcome.code, tag).toBe(2);
      expect(outcome.stderr.trim().split('\n'), tag).toEqual([
        `jobgraph: ${file}: 1 problem`,
        `  (root): ${expected}`,
      ]);
    }
  });

  it('a loop over a variable given no value names it, where it is used', async () => {
    const dir = await tempDir('jobgraph-jinja-');
    const file = join(dir, 'loop.yaml.j2');
    await writeFile(
      file,
      'nodes:\n  - id: a\n    hostname: h\njobs:\n{% for f, h in nodez.items() %}\n  - id: j_{{ f }}\n    node: a\n    commands: [{type: Run, command: echo {{ h }}}]\n{% endfor %}\n',
    );
    const outcome = await jobgraph(['run', file, '--var', 'nodes={a: b}', '--dry-run']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.trim().split('\n')[1]).toBe(
      `  (root): template error at ${file}:5:16: undefined variable "nodez" in a for loop (give it a value: --var nodez=…)`,
    );
  });

  it('a loop over a variable given no value in an included file is placed in that file', async () => {
    const dir = await tempDir('jobgraph-jinja-');
    const file = join(dir, 'main.yaml.j2');
    await writeFile(file, 'nodes:\n  - id: a\n    hostname: h\njobs:\n{% include "part.j2" %}\n');
    await writeFile(
      join(dir, 'part.j2'),
      '  - id: b\n    node: a\n    commands: [{type: Run, command: "true"}]\n{% for h in hostz %}\n  - id: j_{{ h }}\n{% endfor %}\n',
    );
    const outcome = await jobgraph(['run', file, '--dry-run']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.trim().split('\n')[1]).toBe(
      `  (root): template error at ${join(dir, 'part.j2')}:4:13: undefined variable "hostz" in a for loop (give it a value: --var hostz=…)`,
    );
  });
});
