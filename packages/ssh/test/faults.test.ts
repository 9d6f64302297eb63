/**
 * Faults: every one ends the command (or the job) with a one-line error naming the node
 * and the cause, and nothing hangs. Real sshd where it can show the fault; an in-process
 * server where a real sshd cannot misbehave on demand (a stalled handshake, passwords).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Scheduler } from '@jobgraph/core';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Run, SshJob, SshNode } from '../src/index.js';
import { ssh2Transport } from '../src/transport/ssh2.js';
import type { Transport } from '../src/transport/transport.js';
import { bed, common, loopbackNode, RecordingFormatter, recorder } from './bed.js';

function oneLine(error: unknown): string {
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('faults against the real sshd', () => {
  it('unknown user → ERR_SSH_AUTH naming user@host', async () => {
    const node = loopbackNode({ username: 'nobody-jobgraph' });
    const error = await node.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_AUTH' });
    expect(oneLine(error)).toMatch(
      /^Cannot connect to nobody-jobgraph@127\.0\.0\.1:\d+: authentication refused/,
    );
  });

  it('unreachable host → ERR_SSH_CONNECT, quickly', async () => {
    const node = new SshNode({ hostname: '10.231.99.99', ...common({ connectTimeout: 5_000 }) });
    const error = await node.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect(oneLine(error)).toMatch(
      /^Cannot connect to root@10\.231\.99\.99: (host unreachable|no answer within)/,
    );
  });

  it('passphrase keys: right passphrase connects, missing or wrong one → ERR_SSH_KEY', async () => {
    const good = loopbackNode({ keys: [{ path: bed.keys.ed25519Pass, passphrase: bed.keys.passphrase }] });
    expect((await good.run('true')).exitCode).toBe(0);
    await good.close();
    const wrong = loopbackNode({ keys: [{ path: bed.keys.ed25519Pass, passphrase: 'not it' }] });
    const error = await wrong.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_KEY' });
    expect(oneLine(error)).toContain(bed.keys.ed25519Pass);
    const missing = loopbackNode({ keys: [bed.keys.ed25519Pass] });
    expect(await missing.run('true').catch((caught: unknown) => caught)).toMatchObject({
      code: 'ERR_SSH_KEY',
    });
    const absent = loopbackNode({ keys: ['/nonexistent/key'] });
    const absentError = await absent.run('true').catch((caught: unknown) => caught);
    expect(oneLine(absentError)).toBe('Cannot load the private key /nonexistent/key: no such file');
  });

  it('a refusal on the default keys says what was offered, and which default key was left out encrypted', async () => {
    const { copyFile, mkdir, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const home = await mkdtemp(join(tmpdir(), 'jobgraph-home-'));
    const saved = process.env.HOME;
    try {
      await mkdir(join(home, '.ssh'));
      // the bed's key, fine but encrypted: without an agent or a passphrase, nothing is offered
      await copyFile(bed.keys.ed25519Pass, join(home, '.ssh', 'id_ed25519'));
      process.env.HOME = home;
      const node = loopbackNode({ keys: [] });
      const error = await node.run('true').catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ERR_SSH_AUTH' });
      expect(oneLine(error)).toMatch(
        new RegExp(
          `^Cannot connect to root@127\\.0\\.0\\.1:\\d+: authentication refused \\(offered: nothing: no key, agent or password\\); ` +
            `left out for being encrypted: ${join(home, '.ssh', 'id_ed25519').replace(/\./g, '\\.')} \\(load it into ssh-agent`,
        ),
      );
    } finally {
      process.env.HOME = saved;
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a refusal names the keys it offered', async () => {
    const node = loopbackNode({ username: 'nobody-jobgraph' });
    const error = await node.run('true').catch((caught: unknown) => caught);
    expect(oneLine(error)).toMatch(/authentication refused \(offered: key \S+ed25519\S*\)$/);
    expect(oneLine(error)).toContain(`key ${bed.keys.ed25519})`);
  });

  it('an RSA key works as well', async () => {
    const node = loopbackNode({ keys: [bed.keys.rsa] });
    expect((await node.run('true')).exitCode).toBe(0);
    await node.close();
  });

  it('a job whose per-job timeout expires kills its remote command and fails with ERR_JOB_TIMEOUT', async () => {
    const node = loopbackNode();
    const marker = `jobgraph-timeout-${process.pid}-${Date.now()}`;
    const job = new SshJob({ node, command: `sleep 300 # ${marker}`, timeout: 1_000, critical: false });
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    expect(await scheduler.run()).toBe(true);
    expect(job.raisedException()).toMatchObject({ code: 'ERR_JOB_TIMEOUT' });
    const probe = new RecordingFormatter();
    const checker = loopbackNode({ formatter: probe });
    await checker.run(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo gone`);
    expect(probe.stdout()).toBe('gone\n');
    await checker.close();
    await node.close();
  });

  it('a command cancelled while its channel opens still has its remote process killed', async () => {
    const marker = `jobgraph-opening-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    // Abort right after the exec request went out: sshd starts the process, the client sees the
    // channel open only after the abort (Ctrl-C pressed at that moment, in the CLI).
    const transport: Transport = {
      ...ssh2Transport,
      async connect(request) {
        const connection = await ssh2Transport.connect(request);
        const exec = connection.exec.bind(connection);
        connection.exec = (command, options) => {
          const opening = exec(command, options);
          if (command.includes(marker)) controller.abort(new Error('cancelled while opening'));
          return opening;
        };
        return connection;
      },
    };
    const node = loopbackNode({ transport });
    const error = await node
      .run(`sleep 300 # ${marker}`, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: 'cancelled while opening' });
    const probe = new RecordingFormatter();
    const checker = loopbackNode({ formatter: probe });
    await checker.run(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo gone`);
    expect(probe.stdout()).toBe('gone\n');
    await checker.close();
    await node.close();
  });

  it('a failing job does not stop a non-critical neighbour, and nothing is left open', async () => {
    const broken = new SshNode({ hostname: '127.0.0.1', port: 1, ...common() });
    const fine = loopbackNode();
    const a = new SshJob({ node: broken, command: 'true', critical: false, label: 'broken' });
    const b = new SshJob({ node: fine, commands: [new Run('echo fine')], label: 'fine' });
    const scheduler = new Scheduler({ critical: false, jobs: [a, b] });
    expect(await scheduler.run()).toBe(true);
    expect(a.raisedException()).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect(b.result()).toBe(0);
    expect(recorder(fine).stdout()).toBe('fine\n');
    expect(fine.isConnected()).toBe(false);
  });
});

describe('faults a real sshd will not show on demand', () => {
  let silent: Server;
  let silentPort = 0;
  let server: InstanceType<typeof ssh2.Server>;
  let serverPort = 0;

  beforeAll(async () => {
    // accepts TCP connections and never says a word: a stalled handshake
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const hostKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === 'alice' && ctx.password === 'secret') ctx.accept();
        else ctx.reject(['password']);
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('exec', (acceptExec) => {
            const channel = acceptExec();
            channel.write('hello from the fake server\n');
            channel.exit(0);
            channel.end();
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    silent?.close();
    server?.close();
  });

  it('a stalled handshake ends within connectTimeout with ERR_SSH_CONNECT', async () => {
    const node = new SshNode({
      hostname: '127.0.0.1',
      port: silentPort,
      ...common({ connectTimeout: 1_000 }),
    });
    const error = await node.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect(oneLine(error)).toBe(`Cannot connect to root@127.0.0.1:${silentPort}: no answer within 1000 ms`);
  });

  it('a stalled handshake: the waiting command stops on its signal, close() drops the attempt at once', async () => {
    // a connect timeout far beyond the test's own: only the signal and close() can end this
    const sockets: import('node:net').Socket[] = [];
    const stalled = createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // read, so that the client's FIN is seen
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const port = (stalled.address() as { port: number }).port;
    const accepted = new Promise<void>((resolve) => stalled.once('connection', () => resolve()));
    const formatter = new RecordingFormatter();
    const node = new SshNode({
      hostname: '127.0.0.1',
      port,
      ...common({ connectTimeout: 600_000 }),
      formatter,
    });
    try {
      const controller = new AbortController();
      const running = node.run('true', { signal: controller.signal }).catch((caught: unknown) => caught);
      await accepted;
      controller.abort(new Error('stopped by the test'));
      expect(await running).toMatchObject({ message: 'stopped by the test' });
      const closedOnTheServer = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()));
      await node.close();
      await closedOnTheServer;
      expect(node.isConnected()).toBe(false);
      // closing is not a connection failure worth reporting
      expect(formatter.events.map((event) => event.kind)).not.toContain('connect-failed');
    } finally {
      for (const socket of sockets) socket.destroy();
      stalled.close();
    }
  });

  it('a caller whose signal has already aborted starts no connection', async () => {
    const formatter = new RecordingFormatter();
    const node = new SshNode({ hostname: '127.0.0.1', port: silentPort, ...common(), formatter });
    const controller = new AbortController();
    controller.abort(new Error('gone before asking'));
    await expect(node.sftp(controller.signal)).rejects.toThrow('gone before asking');
    // nothing was started that would stay open (or fail unhandled) once everyone has left
    expect(formatter.events.map((event) => event.kind)).not.toContain('connecting');
    expect(node.isConnected()).toBe(false);
  });

  it('password authentication: the right password connects, a wrong one → ERR_SSH_AUTH', async () => {
    const options = {
      hostname: '127.0.0.1',
      port: serverPort,
      username: 'alice',
      keys: [],
      agent: false as const,
    };
    const formatter = new RecordingFormatter();
    const good = new SshNode({ ...options, password: 'secret', hostKeyPolicy: 'off', formatter });
    expect(await good.run('anything')).toEqual({ exitCode: 0, signal: null });
    expect(formatter.stdout()).toBe('hello from the fake server\n');
    await good.close();
    const bad = new SshNode({ ...options, password: 'wrong', hostKeyPolicy: 'off', formatter });
    const error = await bad.run('anything').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_AUTH' });
    expect(oneLine(error)).toBe(
      `Cannot connect to alice@127.0.0.1:${serverPort}: authentication refused (offered: a password)`,
    );
    // the password never appears in messages
    expect((error as Error).message).not.toContain('wrong');
  });
});

describe('ssh-agent', () => {
  it('authenticates with a key held by an agent, and loadAgentKeys lists it', async () => {
    const { spawn, execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadAgentKeys } = await import('../src/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'jobgraph-agent-'));
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      // the socket appears once the agent listens (bounded wait)
      const { existsSync } = await import('node:fs');
      for (let i = 0; i < 100 && !existsSync(socket); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await loadAgentKeys(socket)).toEqual([]);
      await promisify(execFile)('ssh-add', [bed.keys.ed25519], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
      });
      const keys = await loadAgentKeys(socket);
      expect(keys.map((key) => key.type)).toEqual(['ssh-ed25519']);
      const node = loopbackNode({ keys: [], agent: socket });
      expect((await node.run('echo via agent')).exitCode).toBe(0);
      expect(recorder(node).stdout()).toBe('via agent\n');
      await node.close();
      expect(await loadAgentKeys('/nonexistent/agent.sock')).toEqual([]);
    } finally {
      agent.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
