/**
 * Fleet.fromHosts: host names that are ssh_config aliases, resolved through a config file the
 * test writes (pointing at the bed), mixed with names the config does not mention.
 */
import { basename, dirname } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost, type HostSettings, LocalNode, type SshNode } from '../src/index.js';
import { bed, fleetSettings, gatewaySpec, RecordingFormatter } from './bed.js';
import { configFiles } from './config-files.js';

const { config } = configFiles('jg-fleet-config-');
const [t1, t2] = bed.targets;
const defaults: HostSettings = fleetSettings({ gateway: gatewaySpec });

const fleets: Fleet[] = [];
async function track(fleet: Promise<Fleet>): Promise<Fleet> {
  fleets.push(await fleet);
  return fleet;
}
afterAll(async () => {
  await Promise.all(fleets.map((fleet) => fleet.close()));
});

/** The bed's hosts under aliases: each block says everything (no `Host *`, so other names stay plain). */
function bedConfig(): Promise<string> {
  const credentials = [
    '  User root',
    `  IdentityFile ${bed.keys.ed25519}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${bed.knownHosts}`,
    '  StrictHostKeyChecking yes',
  ];
  return config(
    'Host jg-lo',
    `  HostName ${bed.loopback.hostname}`,
    `  Port ${bed.loopback.port}`,
    ...credentials,
    'Host jg-gw',
    `  HostName ${bed.gateway.hostname}`,
    `  Port ${bed.gateway.port}`,
    ...credentials,
    'Host jg-t1',
    `  HostName ${t1.hostname}`,
    `  Port ${t1.port}`,
    '  ProxyJump jg-gw',
    ...credentials,
  );
}

describe('Fleet.fromHosts', () => {
  it('aliases resolved through the config, a name it does not mention as a plain host; names as written', async () => {
    const sshConfig = await bedConfig();
    const fleet = await track(
      Fleet.fromHosts(
        ['jg-lo', 'jg-t1', t2.hostname, new LocalNode({ formatter: new RecordingFormatter() })],
        {
          sshConfig,
          defaults,
          // the defaults' gateway applies to a host without ProxyJump, as ssh -J would: not to this one
          hosts: { 'jg-lo': { gateway: null } },
        },
      ),
    );
    expect(fleet.names).toEqual(['jg-lo', 'jg-t1', t2.hostname, 'LOCALNODE']);
    const [lo, viaConfig, plain] = [...fleet].map((host) => host.node as SshNode);
    expect(lo).toMatchObject({
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      gateway: undefined,
    });
    // jg-t1's gateway is the config's ProxyJump, not the defaults' gateway (built by the fleet, shared)
    expect(viaConfig?.gateway).toMatchObject({ hostname: bed.gateway.hostname, port: bed.gateway.port });
    expect(viaConfig?.gateway).not.toBe(plain?.gateway);
    expect(plain?.gateway).toMatchObject({ hostname: bed.gateway.hostname });
    const results = await fleet.run('hostname');
    expect(results.map((r) => r.error?.message ?? r.stdout)).toEqual([
      `${bed.loopback.nodename}\n`,
      `${t1.nodename}\n`,
      `${t2.nodename}\n`,
      expect.any(String),
    ]);
  });

  it('precedence: per-host settings, then the string’s user and port, then the config, then the defaults', async () => {
    const sshConfig = await config('Host web', '  HostName web.example.org', '  User deploy', '  Port 2200');
    const fleet = await track(
      Fleet.fromHosts(['web', 'alice@web:2300', 'other'], {
        sshConfig,
        defaults: { username: 'fallback', port: 2022, connectTimeout: 1_234 },
        hosts: { 'web:2300': { port: 2400 } },
      }),
    );
    // the second one's name is as written; its settings are keyed by that name
    expect(fleet.names).toEqual(['web', 'web:2300', 'other']);
    const [web, alice, other] = [...fleet].map((host) => host.node as SshNode);
    expect(web).toMatchObject({
      hostname: 'web.example.org',
      username: 'deploy',
      port: 2200,
      connectTimeout: 1_234,
    });
    expect(alice).toMatchObject({ hostname: 'web.example.org', username: 'alice', port: 2400 });
    expect(other).toMatchObject({ hostname: 'other', username: 'fallback', port: 2022 });
    expect([web, alice, other].every((node) => node?.isConnected() === false)).toBe(true);

    // an alias host's settings show no secret either
    const secret = await track(
      Fleet.fromHosts(['web'], {
        sshConfig,
        defaults: { password: 'secret-password', keys: [{ path: '/k', passphrase: 'secret-passphrase' }] },
      }),
    );
    expect(inspect([...secret], { depth: null })).not.toMatch(/secret-/);
    expect([...secret][0]?.settings).toMatchObject({ hostname: 'web.example.org', keys: ['/k'] });
    expect([...secret][0]?.settings).not.toHaveProperty('password');
  });

  it('toJSON writes an alias host as resolved, under its name; fromJSON rebuilds it without the config', async () => {
    const sshConfig = await bedConfig();
    const fleet = await track(
      Fleet.fromHosts(['jg-lo', 'jg-t1'], { sshConfig, defaults, hosts: { 'jg-lo': { gateway: null } } }),
    );
    const json = fleet.toJSON();
    expect(json.hosts[0]).toMatchObject({
      name: 'jg-lo',
      hostname: bed.loopback.hostname,
      port: bed.loopback.port,
      username: 'root',
      keys: [bed.keys.ed25519],
      agent: false,
      knownHosts: bed.knownHosts,
      hostKeyPolicy: 'strict',
    });
    expect(json.hosts[1]).toMatchObject({
      name: 'jg-t1',
      hostname: t1.hostname,
      keys: [bed.keys.ed25519],
      agent: false,
      // the ProxyJump's own IdentityFile and IdentitiesOnly, not left to fromJSON's extra
      gateway: {
        hostname: bed.gateway.hostname,
        port: bed.gateway.port,
        keys: [bed.keys.ed25519],
        agent: false,
      },
    });
    const text = JSON.stringify(json);
    // no credentials in extra: every hop logs in as the config said
    const bare = Fleet.fromJSON(text, { formatter: new RecordingFormatter() });
    try {
      const hops = await bare.run('hostname', { throwOnError: true });
      expect(hops.map((r) => r.stdout)).toEqual([`${bed.loopback.nodename}\n`, `${t1.nodename}\n`]);
    } finally {
      await bare.close();
      // a gateway from JSON is the caller's to close
      const { gateway } = ([...bare][1] as FleetHost).node as SshNode;
      if (gateway !== undefined) await gateway.close();
    }
    const rebuilt = Fleet.fromJSON(text, {
      formatter: new RecordingFormatter(),
      keys: [bed.keys.ed25519],
      agent: false,
    });
    fleets.push(rebuilt);
    expect(rebuilt.names).toEqual(['jg-lo', 'jg-t1']);
    expect(JSON.stringify(rebuilt.toJSON())).toBe(text);
    const results = await rebuilt.run('hostname', { throwOnError: true });
    expect(results.map((r) => r.stdout)).toEqual([`${bed.loopback.nodename}\n`, `${t1.nodename}\n`]);
  });

  it('bad input: a config error names the file and line; sshConfig on new Fleet() points to fromHosts', async () => {
    const sshConfig = await config('Host broken', '  ProxyCommand nc %h %p');
    await expect(Fleet.fromHosts(['fine', 'broken'], { sshConfig })).rejects.toMatchObject({
      code: 'ERR_SSH_CONFIG',
      message: `Cannot resolve the ssh config host "broken": ${sshConfig} line 2: ProxyCommand is not supported ("nc %h %p"); use ProxyJump [user@]host[:port] instead`,
    });
    expect(() => new Fleet(['web'], { sshConfig } as never)).toThrow(
      'Invalid Fleet option "sshConfig": host names are looked up in an ssh_config by await Fleet.fromHosts(hosts, options), not by new Fleet()',
    );
    await expect(Fleet.fromHosts(['web'], { sshConfig: 3 } as never)).rejects.toThrow(
      'Invalid Fleet option sshConfig: expected the path of an ssh_config file, got 3',
    );
    await expect(Fleet.fromHosts(['web'], { sshconfig: 'x' } as never)).rejects.toThrow(
      'Invalid Fleet option "sshconfig": expected one of defaults, hosts, sshConfig',
    );
    await expect(Fleet.fromHosts(['alice@web', 'bob@web:22'], { sshConfig })).rejects.toThrow(
      '"web" is given twice',
    );
    // a file given by name that is not there (a typo): each alias was taken for a host name
    await expect(Fleet.fromHosts(['web'], { sshConfig: '/no/such/ssh_config' })).rejects.toThrow(
      'Invalid Fleet option sshConfig: no such ssh_config file: /no/such/ssh_config',
    );
    // ~/ is the home, as for the resolver (checked before it was expanded)
    const home = process.env.HOME;
    try {
      process.env.HOME = dirname(sshConfig);
      await expect(
        Fleet.fromHosts(['web'], { sshConfig: `~/${basename(sshConfig)}` }),
      ).resolves.toBeDefined();
    } finally {
      process.env.HOME = home;
    }
  });

  it('an alias listed twice is one member with 2 connections', async () => {
    const sshConfig = await config('Host web', '  HostName web.example.org');
    const fleet = await track(Fleet.fromHosts(['web', 'web', 'other'], { sshConfig }));
    expect(fleet.names).toEqual(['web', 'other']);
    const [web, other] = [...fleet].map((host) => host.node as SshNode);
    expect(web).toMatchObject({ hostname: 'web.example.org', connections: 2 });
    expect(other).toMatchObject({ hostname: 'other', connections: 1 });
    expect(fleet.toJSON().hosts[0]).toMatchObject({ name: 'web', connections: 2 });
  });
});
