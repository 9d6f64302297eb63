/**
 * Scenario files against the test bed (real sshd on loopback, a gateway and targets behind it).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandNode, SshNode } from '@jobgraph/ssh';
import { afterAll, describe, expect, it } from 'vitest';
import { bed } from '../../ssh/test/bed.js';
import { loopbackConnections, until } from '../../ssh/test/probes.js';
import { loadScenario } from '../src/index.js';

const temps: string[] = [];
const opened: CommandNode[] = [];
afterAll(async () => {
  for (const node of opened) await node.close();
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobgraph-scenario-'));
  temps.push(dir);
  return dir;
}

/** The keys every node of the bed needs, as YAML lines (indented for a node entry). */
function access(indent = '    '): string {
  return [
    'username: root',
    `keys: [${bed.keys.ed25519}]`,
    `knownHosts: ${bed.knownHosts}`,
    'hostKeyPolicy: strict',
    'connectTimeout: 10s',
    'formatter: CaptureFormatter',
  ]
    .map((line) => `${indent}${line}`)
    .join('\n');
}

describe('scenarios on the test bed', () => {
  it('a capture on a target behind the gateway, used by a later command through {{ name }}', async () => {
    const dir = await tempDir();
    const target = bed.targets[0];
    const file = join(dir, 'capture.yaml');
    await writeFile(
      file,
      `nodes:
  - id: loopback
    hostname: ${bed.loopback.hostname}
    port: ${bed.loopback.port}
${access()}
  - id: gateway
    hostname: ${bed.gateway.hostname}
    port: ${bed.gateway.port}
${access()}
  - id: target
    hostname: ${target.hostname}
    port: ${target.port}
    gateway: gateway
${access()}
jobs:
  - id: answer
    node: target
    commands:
      - type: Run
        command: echo from-$(hostname)-$((6 * 7))
        capture: answer
  - id: use
    node: loopback
    required: answer
    timeout: 20s
    commands:
      - type: Run
        command: echo got {{ answer }}
        capture: echoed
      - type: RunString
        script_body: |
          #!/bin/sh
          echo "$1" > {{ dir }}/written.txt
        args: ["{{ answer | upper }}"]
`,
    );
    const { scheduler, nodes, variables } = await loadScenario(file, { variables: { dir } });
    opened.push(...nodes.values());
    expect(await scheduler.run()).toBe(true);
    const answer = variables.get('answer');
    expect(answer).toMatch(/^from-.+-42$/);
    expect(variables.get('echoed')).toBe(`got ${String(answer)}`);
    expect((await readFile(join(dir, 'written.txt'), 'utf8')).trim()).toBe(String(answer).toUpperCase());
  });

  it('a node with maxSessions 1 and maxConnections 2: of 3 jobs, 2 run at once on 2 connections (counted on sshd), the third waits', async () => {
    // the connections of the tests above are closed first: `ss` then sees only this node's
    await Promise.all(opened.splice(0).map((node) => node.close()));
    const dir = await tempDir();
    const flag = join(dir, 'go');
    const file = join(dir, 'budget.yaml');
    const job = (index: number) => `  - id: w${index}
    node: busy
    commands:
      - type: Run
        command: "i=0; while [ ! -e ${flag} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"
`;
    await writeFile(
      file,
      `nodes:
  - id: busy
    hostname: ${bed.loopback.hostname}
    port: ${bed.loopback.port}
    maxSessions: 1
    maxConnections: 2
    idleClose: 0
${access()}
jobs:
${[0, 1, 2].map(job).join('')}`,
    );
    const { scheduler, nodes } = await loadScenario(file);
    opened.push(...nodes.values());
    const node = nodes.get('busy') as SshNode;
    const run = scheduler.run();
    await until(() => node.sessionsInUse === 2);
    expect(node.openConnections).toBe(2);
    expect(await loopbackConnections()).toBe(2);
    // the third has no channel: without maxConnections it would have opened a third connection
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(node.connectionCount).toBe(2);
    expect(node.sessionsInUse).toBe(2);
    await writeFile(flag, '');
    expect(await run).toBe(true);
    expect(node.connectionCount).toBe(2);
  });

  it('examples/scenarios/gateway-experiment.yaml.j2 runs on the bed', async () => {
    const out = join(await tempDir(), 'out');
    const example = resolve(import.meta.dirname, '../../../examples/scenarios/gateway-experiment.yaml.j2');
    const { scheduler, nodes, jobs } = await loadScenario(example, {
      variables: {
        gateway: { hostname: bed.gateway.hostname, username: 'root', port: bed.gateway.port },
        nodes: bed.targets.map((target) => target.hostname),
        username: 'root',
        port: bed.targets[0].port,
        key: bed.keys.ed25519,
        known_hosts: bed.knownHosts,
        host_key_policy: 'strict',
        out,
      },
    });
    opened.push(...nodes.values());
    expect(jobs.size).toBe(5);
    expect(await scheduler.run()).toBe(true);
    const merged = (await readFile(join(out, 'merged.txt'), 'utf8')).trim().split('\n');
    expect(merged).toHaveLength(2);
    for (const line of merged) expect(line).toMatch(/ load=/);
  });
});
