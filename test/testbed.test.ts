/**
 * Proves that the test bed (test/testbed/) is real, with the OpenSSH client: the loopback sshd, the
 * gateway and the two targets that only the gateway reaches. The bed is started by the vitest globalSetup.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const bed = inject('testbed');
const [t1, t2] = bed.targets;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a bounded time (SIGKILL after `timeoutMs`), collecting its output. */
function run(
  command: string,
  args: string[],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `ssh` with only command-line options (`-F /dev/null`: no ~/.ssh/config, and ssh leaves ~/.ssh alone).
 */
function sshDirect(
  host: { hostname: string; port: number },
  options: { key: string; knownHosts: string; extra?: string[] },
  command: string,
  env?: NodeJS.ProcessEnv,
): Promise<Ran> {
  return run(
    'ssh',
    [
      '-F',
      '/dev/null',
      // First: for each option ssh keeps the first value it is given.
      ...(options.extra ?? []),
      '-i',
      options.key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${options.knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-p',
      String(host.port),
      `root@${host.hostname}`,
      command,
    ],
    20_000,
    env,
  );
}

/** `ssh -F <the bed's ssh_config>` (options apply to both hops of `-J`). */
function sshBed(args: string[], config = bed.sshConfig): Promise<Ran> {
  return run('ssh', ['-F', config, ...args]);
}

/** Where a TCP connection to host:port from this (root) namespace ends: 'connected', an error code, or 'timeout'. */
function tcpConnect(host: string, port: number, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: string): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.on('connect', () => done('connected'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

let scratch = '';
beforeAll(async () => {
  // Inside the bed's work dir, so that a killed run's scratch goes with the bed.
  scratch = await mkdtemp(path.join(bed.workDir, 'scratch-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('the test bed', () => {
  it('each namespace host has its own /root and /tmp: one path holds three different files; the work dir is shared', async () => {
    const name = `jg-own-${process.pid}-${Date.now()}`;
    const hosts = [
      { alias: 'jgtb-gw', host: bed.gateway },
      { alias: 'jgtb-t1', host: t1 },
      { alias: 'jgtb-t2', host: t2 },
    ];
    for (const { alias } of hosts) {
      const wrote = await sshBed([
        alias,
        `hostname > /tmp/${name} && hostname > /root/${name} && cat ${bed.knownHosts} >/dev/null`,
      ]);
      expect(wrote.code, wrote.stderr).toBe(0);
    }
    try {
      for (const { alias, host } of hosts) {
        // the same path on each host: its own file (scp, as Pull would, from each)
        const local = path.join(scratch, `${name}-${alias}`);
        const copied = await run('scp', ['-F', bed.sshConfig, '-q', `${alias}:/tmp/${name}`, local]);
        expect(copied.code, copied.stderr).toBe(0);
        expect(await readFile(local, 'utf8')).toBe(`${host.nodename}\n`);
        // seen from this machine in the host's disk, not in this machine's /tmp or /root
        expect(await readFile(path.join(host.disk as string, 'root', name), 'utf8')).toBe(
          `${host.nodename}\n`,
        );
      }
      await expect(readFile(`/tmp/${name}`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(readFile(`/root/${name}`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(bed.loopback.disk).toBeNull();
    } finally {
      for (const { host } of hosts) {
        await rm(path.join(host.disk as string, 'tmp', name), { force: true });
        await rm(path.join(host.disk as string, 'root', name), { force: true });
      }
    }
  });

  it('describes itself as JSON', () => {
    expect(JSON.parse(JSON.stringify(bed))).toEqual(bed);
    expect(bed.netns).toBe(true);
    expect(bed.loopback).toMatchObject({ hostname: '127.0.0.1', username: 'root' });
    expect(bed.gateway).toMatchObject({ hostname: '10.231.1.2', port: 22, username: 'root' });
    expect(t1).toMatchObject({ hostname: '10.231.2.2', port: 22 });
    expect(t2).toMatchObject({ hostname: '10.231.3.2', port: 22 });
    // Every host has its own host key.
    const keys = Object.values(bed.hostKeys);
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(4);
  });

  it('the loopback sshd runs commands, with each authorized client key', async () => {
    for (const key of [bed.keys.ed25519, bed.keys.rsa]) {
      const ran = await sshDirect(bed.loopback, { key, knownHosts: bed.knownHosts }, 'echo hello; id -u');
      expect(ran.stderr).toBe('');
      expect(ran).toMatchObject({ code: 0, stdout: 'hello\n0\n' });
    }
  });

  it('the loopback sshd accepts the passphrase-protected key once it is unlocked', async () => {
    const options = { key: bed.keys.ed25519Pass, knownHosts: bed.knownHosts };
    // Locked (BatchMode: no prompt): refused.
    const locked = await sshDirect(bed.loopback, options, 'true');
    expect(locked.code).toBe(255);
    expect(locked.stderr).toContain('Permission denied');
    // Unlocked through SSH_ASKPASS.
    const askpass = path.join(scratch, 'askpass');
    await writeFile(askpass, `#!/bin/sh\necho '${bed.keys.passphrase}'\n`, { mode: 0o700 });
    const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
    const unlocked = await sshDirect(
      bed.loopback,
      { ...options, extra: ['-o', 'BatchMode=no', '-o', 'NumberOfPasswordPrompts=1'] },
      'echo unlocked',
      env,
    );
    expect(unlocked).toMatchObject({ code: 0, stdout: 'unlocked\n' });
  });

  it('the loopback sshd serves sftp', async () => {
    const local = path.join(scratch, 'up.txt');
    const remote = path.join(scratch, 'remote.txt');
    const back = path.join(scratch, 'down.txt');
    await writeFile(local, 'through sftp\n');
    const batch = path.join(scratch, 'batch');
    await writeFile(batch, `put ${local} ${remote}\nget ${remote} ${back}\n`);
    const ran = await run('sftp', [
      '-F',
      bed.sshConfig,
      '-b',
      batch,
      '-P',
      String(bed.loopback.port),
      `root@${bed.loopback.hostname}`,
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(await readFile(back, 'utf8')).toBe('through sftp\n');
  });

  it('sessions skip root’s .bashrc (SetEnv SHLVL=1)', async () => {
    const ran = await sshBed(['jgtb-lo', 'echo "[$PYENV_ROOT]"']);
    expect(ran).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('the hashed known_hosts verifies every host too', async () => {
    const hashed = await readFile(bed.knownHostsHashed, 'utf8');
    const lines = hashed.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^\|1\|/);
    expect(hashed).not.toContain('127.0.0.1');
    expect(hashed).not.toContain('10.231.');

    const options = { key: bed.keys.ed25519, knownHosts: bed.knownHostsHashed };
    expect(await sshDirect(bed.loopback, options, 'true')).toMatchObject({ code: 0 });
    expect(await sshDirect(bed.gateway, options, 'true')).toMatchObject({ code: 0 });
    const config = path.join(scratch, 'ssh_config_hashed');
    const text = await readFile(bed.sshConfig, 'utf8');
    await writeFile(
      config,
      text.replace(`UserKnownHostsFile ${bed.knownHosts}`, `UserKnownHostsFile ${bed.knownHostsHashed}`),
    );
    const viaGateway = await sshBed(
      ['-J', `root@${bed.gateway.hostname}`, `root@${t1.hostname}`, 'hostname'],
      config,
    );
    expect(viaGateway).toMatchObject({ code: 0, stdout: `${t1.nodename}\n` });
  });

  it('a host key that is not the listed one is refused', async () => {
    // The loopback's address with the gateway's key: StrictHostKeyChecking must refuse.
    const wrong = path.join(scratch, 'known_hosts_wrong');
    await writeFile(wrong, `[127.0.0.1]:${bed.loopback.port} ${bed.hostKeys.gw}\n`);
    const ran = await sshDirect(bed.loopback, { key: bed.keys.ed25519, knownHosts: wrong }, 'true');
    expect(ran.code).toBe(255);
    expect(ran.stderr).toContain('HOST IDENTIFICATION HAS CHANGED');
  });

  it('the gateway is reachable directly, is its own host, and does not forward IP', async () => {
    const ran = await sshDirect(
      bed.gateway,
      { key: bed.keys.ed25519, knownHosts: bed.knownHosts },
      'hostname; cat /proc/sys/net/ipv4/ip_forward; ip -4 -o addr show',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const [name, forward, ...addresses] = ran.stdout.trim().split('\n');
    expect(name).toBe(bed.gateway.nodename);
    expect(name).not.toBe(bed.loopback.nodename);
    expect(forward).toBe('0');
    const text = addresses.join('\n');
    for (const own of ['10.231.1.2/24', '10.231.2.1/24', '10.231.3.1/24']) expect(text).toContain(own);
    expect(text).not.toContain('10.231.1.1/');
  });

  for (const index of [0, 1] as const) {
    const target = bed.targets[index];
    const other = bed.targets[1 - index] ?? target;

    it(`target ${target.name} is not reachable directly from the root namespace`, async () => {
      // The root namespace has an unreachable route for the bed's block: connect fails at once.
      const outcome = await tcpConnect(target.hostname, target.port);
      expect(['EHOSTUNREACH', 'ENETUNREACH']).toContain(outcome);
      const ran = await sshDirect(target, { key: bed.keys.ed25519, knownHosts: bed.knownHosts }, 'true');
      expect(ran.code).toBe(255);
    });

    it(`target ${target.name} is reachable through the gateway, as a separate host`, async () => {
      const ran = await sshBed([
        '-J',
        `root@${bed.gateway.hostname}`,
        `root@${target.hostname}`,
        'hostname; ip -4 -o addr show',
      ]);
      expect(ran.code, ran.stderr).toBe(0);
      const [name, ...addresses] = ran.stdout.trim().split('\n');
      expect(name).toBe(target.nodename);
      const text = addresses.join('\n');
      expect(text).toContain(`inet ${target.hostname}/24`);
      expect(text).not.toContain(`inet ${other.hostname}/`);
      expect(text).not.toContain(`inet ${bed.gateway.hostname}/`);
      expect(addresses).toHaveLength(2); // lo and its link to the gateway, nothing of the machine
      // The alias from the bed's ssh_config goes the same way.
      expect(await sshBed([`jgtb-${target.name}`, 'hostname'])).toMatchObject({
        code: 0,
        stdout: `${target.nodename}\n`,
      });
    });

    it(`target ${target.name} cannot reach target ${other.name} (the gateway does not route)`, async () => {
      const ran = await sshBed([
        `jgtb-${target.name}`,
        `timeout 5 bash -c 'exec 3<>/dev/tcp/${other.hostname}/22' && echo reached || echo unreachable`,
      ]);
      expect(ran).toMatchObject({ code: 0, stdout: 'unreachable\n' });
    });
  }

  it('every sshd keeps the default MaxSessions (10), with the bed settings', async () => {
    for (const host of [bed.loopback, bed.gateway, t1, t2]) {
      const ran = await run('/usr/sbin/sshd', ['-T', '-f', host.sshdConfig]);
      expect(ran.code, ran.stderr).toBe(0);
      const settings = ran.stdout.split('\n');
      expect(settings).toContain('maxsessions 10');
      expect(settings).toContain('maxstartups 100:30:200');
      expect(settings).toContain('permitrootlogin without-password');
      expect(settings).toContain('passwordauthentication no');
      expect(settings).toContain('subsystem sftp internal-sftp');
    }
  });
});
