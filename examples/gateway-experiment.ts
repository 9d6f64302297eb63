/**
 * A testbed experiment: a gateway, nodes behind it, a script on each node, its result
 * pulled back into a per-host file, and a local job that merges them.
 *
 *   check gateway ─┬─▶ fit01: RunString, Pull ─┐
 *                  ├─▶ fit02: RunString, Pull ─┼─▶ merge (local)
 *                  └─▶ fit03: RunString, Pull ─┘
 *
 * Against your own hosts (keys from your agent or ~/.ssh/id_*):
 *   JOBGRAPH_GATEWAY=user@gateway.example.org JOBGRAPH_NODES=root@fit01,root@fit02,root@fit03 \
 *     node --conditions=@jobgraph/source --import tsx examples/gateway-experiment.ts
 * Optional: JOBGRAPH_KEY (a private key file), JOBGRAPH_KNOWN_HOSTS, JOBGRAPH_HOST_KEY_POLICY
 * (strict | accept-new | off), JOBGRAPH_PORT (the nodes' port), JOBGRAPH_OUT (output directory).
 * It prints the debrief and writes the job graph and the topology as SVG in the output directory.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Job, Scheduler } from '@jobgraph/core';
import { type HostKeyPolicy, Pull, RunString, SshJob, SshNode, topologyAsSvgfile } from '@jobgraph/ssh';

function target(spec: string): { username: string; hostname: string } {
  const [username, hostname] = spec.includes('@') ? spec.split('@', 2) : ['root', spec];
  return { username: username ?? 'root', hostname: hostname ?? spec };
}

const env = process.env;
const out = env.JOBGRAPH_OUT ?? 'examples/out/gateway-experiment';
const common = {
  ...(env.JOBGRAPH_KEY ? { keys: [env.JOBGRAPH_KEY] } : {}),
  ...(env.JOBGRAPH_KNOWN_HOSTS ? { knownHosts: env.JOBGRAPH_KNOWN_HOSTS } : {}),
  hostKeyPolicy: (env.JOBGRAPH_HOST_KEY_POLICY ?? 'accept-new') as HostKeyPolicy,
  connectTimeout: 15_000,
};

const gateway = new SshNode({ ...target(env.JOBGRAPH_GATEWAY ?? 'inria_r2lab@faraday.inria.fr'), ...common });
const nodes = (env.JOBGRAPH_NODES ?? 'root@fit01,root@fit02,root@fit03').split(',').map(
  (spec) =>
    new SshNode({
      ...target(spec),
      ...common,
      gateway,
      ...(env.JOBGRAPH_PORT ? { port: Number(env.JOBGRAPH_PORT) } : {}),
    }),
);

// Writes what the node looks like, in one line, to the file named by its argument.
const probe = `#!/bin/sh
echo "$(hostname) $(uname -r) load=$(cut -d' ' -f1 /proc/loadavg)" > "$1"
cat "$1"
`;

await mkdir(out, { recursive: true });
const scheduler = new Scheduler({ label: 'gateway experiment', critical: false, timeout: 120_000 });
const check = new SshJob({ node: gateway, command: 'hostname', label: 'check gateway', scheduler });
const files: string[] = [];
const probes = nodes.map((node) => {
  const file = join(out, `probe-${node.hostname}.txt`);
  // a remote name per host: nodes of a testbed may share a file system (NFS homes)
  const remote = `jobgraph-probe-${node.hostname}.txt`;
  files.push(file);
  return new SshJob({
    node,
    commands: [new RunString(probe, [remote], { remoteName: 'probe.sh' }), new Pull(remote, file)],
    required: check,
    scheduler,
  });
});
const merge = new Job(
  async () => {
    const lines = await Promise.all(files.map(async (file) => (await readFile(file, 'utf8')).trim()));
    await writeFile(join(out, 'merged.txt'), `${lines.join('\n')}\n`);
    return lines.length;
  },
  { label: 'merge results', required: probes, scheduler },
);

const ok = await scheduler.run();
process.stdout.write(scheduler.debrief());
if (merge.isDone() && merge.raisedException() === undefined) {
  process.stdout.write(`merged ${merge.result()} results into ${join(out, 'merged.txt')}\n`);
}
process.stdout.write(`job graph: ${await scheduler.exportAsSvgfile(join(out, 'jobs.svg'))}\n`);
process.stdout.write(`topology: ${await topologyAsSvgfile(scheduler, join(out, 'topology.svg'))}\n`);
process.exitCode = ok ? 0 : 1;
