/**
 * Many hosts from one script, the parallel-ssh way, with `Fleet`: one command on every node at
 * once with per-host results, per-host arguments, the files of every node, a command that runs
 * "forever" stopped after a while with its partial output, and the results copied back without
 * name clashes. No scheduler: each step awaits the previous one (see gateway-experiment.ts for
 * the job-graph way; `fleet.jobs()` mixes the two).
 *
 * Against your own hosts (keys from your agent or ~/.ssh/id_*):
 *   JOBGRAPH_GATEWAY=user@gateway.example.org JOBGRAPH_NODES=root@fit01,root@fit02 \
 *     node --conditions=@jobgraph/source --import tsx examples/fleet.ts
 * Optional: JOBGRAPH_KEY (a private key file), JOBGRAPH_KNOWN_HOSTS, JOBGRAPH_HOST_KEY_POLICY
 * (strict | accept-new | off), JOBGRAPH_OUT (output directory), JOBGRAPH_SUDO=1 (also run
 * `id -u` under sudo: the nodes' user needs a NOPASSWD rule; JOBGRAPH_SUDO_PASSWORD for a password).
 * Without JOBGRAPH_GATEWAY the nodes are reached directly. Exits 1 if a step failed on a host.
 */
import { readFile } from 'node:fs/promises';
import { Fleet, type FleetResult, type HostKeyPolicy, type HostSettings } from '@jobgraph/ssh';

const env = process.env;
const out = env.JOBGRAPH_OUT ?? 'examples/out/fleet';
const defaults: HostSettings = {
  ...(env.JOBGRAPH_KEY ? { keys: [env.JOBGRAPH_KEY] } : {}),
  ...(env.JOBGRAPH_KNOWN_HOSTS ? { knownHosts: env.JOBGRAPH_KNOWN_HOSTS } : {}),
  hostKeyPolicy: (env.JOBGRAPH_HOST_KEY_POLICY ?? 'accept-new') as HostKeyPolicy,
  connectTimeout: 15_000,
  // a gateway written as a string is built once, with these same defaults, and shared
  ...(env.JOBGRAPH_GATEWAY ? { gateway: env.JOBGRAPH_GATEWAY } : {}),
};
const fleet = new Fleet((env.JOBGRAPH_NODES ?? 'root@fit01,root@fit02').split(','), { defaults });
let failures = 0;

/** One line per host: its output's first line, or why it has none. */
function report(
  step: string,
  results: readonly { host: string; ok: boolean; error?: Error }[],
  show: (r: never) => string,
) {
  console.log(`== ${step}`);
  for (const result of results) {
    if (!result.ok) failures++;
    const what = result.error?.message ?? show(result as never);
    console.log(`  ${result.host.padEnd(20)} ${result.ok ? 'ok    ' : 'FAILED'} ${what}`);
  }
}
const firstLine = (r: FleetResult) => `exit ${r.exitCode ?? r.signal}: ${r.stdout.split('\n')[0]}`;

try {
  // 1. one command everywhere; a host that is down is a result with an error, not an exception
  report('kernel', await fleet.run('uname -r', { timeout: 30_000 }), firstLine);

  // 2. per-host arguments (parallel-ssh's host_args): `{role}` and `{file}` are each host's own
  //    words, inserted shell-quoted; a map keyed by host name (a list in host order works too)
  // a remote name per host: the nodes of a testbed may share a file system (NFS homes)
  const marker = (name: string) => `/tmp/jobgraph-fleet-${name.replace(/[^A-Za-z0-9.-]/g, '_')}.role`;
  const hostArgs = Object.fromEntries(
    fleet.names.map((name, index) => [
      name,
      { role: index === 0 ? 'sender' : 'receiver', file: marker(name) },
    ]),
  );
  report('roles', await fleet.run('echo {role} > {file} && cat {file}', { hostArgs }), firstLine);

  // 3. the files of every node, over SFTP (no shell): read back what step 2 wrote
  report(
    'read back',
    await fleet.each((host) => host.node.fs.readText(marker(host.name))),
    (r: { value: string }) => r.value.trim(),
  );

  // 4. a command that would run forever: stopped after 2 s, its output so far kept
  const ticking = fleet.start('i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done');
  const { unfinished } = await ticking.join({ timeout: 2_000 });
  console.log(`== ticking: ${unfinished.length} still running after 2 s`);
  for (const result of unfinished) {
    console.log(
      `  ${result.host.padEnd(20)} ${result.stdout.split('\n').filter(Boolean).length} ticks so far`,
    );
  }
  await ticking.stop(); // their remote processes killed

  // 5. copies from every node, each under its own name: <name>_<host>
  const copies = await fleet.copyFrom((host) => marker(host.name), out);
  report('copy back', copies, (r: { destination: string }) => r.destination);
  const merged = await Promise.all(
    copies.filter((copy) => copy.ok).map(async (copy) => (await readFile(copy.destination, 'utf8')).trim()),
  );
  console.log(`merged ${merged.length} results: ${merged.join(', ')} (in ${out})`);

  // 6. under sudo, if asked (the password goes through stdin, never into an output or an error)
  if (env.JOBGRAPH_SUDO) {
    const sudo = env.JOBGRAPH_SUDO_PASSWORD ? { password: env.JOBGRAPH_SUDO_PASSWORD } : true;
    report('sudo id -u', await fleet.run('id -u', { sudo }), firstLine);
  }
  await fleet.run((host) => `rm -f ${marker(host.name)}`);
} finally {
  await fleet.close();
}
console.log(failures === 0 ? 'all steps ok on every host' : `${failures} host steps failed`);
process.exitCode = failures === 0 ? 0 : 1;
