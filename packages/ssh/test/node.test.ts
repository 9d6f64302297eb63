/**
 * SshNode and LocalNode against the real test bed.
 */
import { describe, expect, it } from 'vitest';
import { LocalNode, SshNode } from '../src/index.js';
import {
  bed,
  closeAfterEach,
  common,
  gatewayNode,
  loopbackNode,
  RecordingFormatter,
  recorder,
  targetNode,
} from './bed.js';

const track = closeAfterEach();

describe('SshNode on the loopback sshd', () => {
  it('runs a command, with stdout and stderr apart and the last partial line flushed', async () => {
    const node = track(loopbackNode());
    const result = await node.run('echo out; echo err >&2; printf tail');
    expect(result).toEqual({ exitCode: 0, signal: null });
    const formatter = recorder(node);
    expect(formatter.stdout()).toBe('out\ntail');
    expect(formatter.stderr()).toBe('err\n');
    expect(formatter.events.map((event) => event.kind)).toEqual([
      'connecting',
      'connected',
      'session-start',
      'session-stop',
    ]);
  });

  it('reports exit codes and signals (without SIG), and keeps one connection for many commands', async () => {
    const node = track(loopbackNode());
    expect(await node.run('exit 3')).toEqual({ exitCode: 3, signal: null });
    expect(await node.run('kill -TERM $$')).toEqual({ exitCode: null, signal: 'TERM' });
    expect(await node.run('exit 1000')).toEqual({ exitCode: 232, signal: null });
    expect(node.connectionCount).toBe(1);
    expect(node.isConnected()).toBe(true);
  });

  it("the shell's line numbers are the command's own plus one (they were plus 4); a syntax error shows the user's line alone", async () => {
    for (const request of [{}, { env: { A: 'x' } }, { stdin: 'input' }, { pty: true }]) {
      const node = track(loopbackNode());
      await node.run('echo "line $LINENO"\nnosuchcmd', request);
      const output = recorder(node).stdout() + recorder(node).stderr();
      expect(output, JSON.stringify(request)).toContain('line 2');
      expect(output, JSON.stringify(request)).toMatch(/line 3: nosuchcmd: command not found/);
    }
    const node = track(loopbackNode());
    await node.run('echo a; fi');
    const error = recorder(node).stderr();
    expect(error).toMatch(/syntax error near unexpected token `fi'/);
    expect(error).toContain('`echo a; fi');
    // nothing of what jobgraph put in front
    expect(error).not.toMatch(/JGPID|jgrun|exec 3/);
  });

  it('x11 without a DISPLAY here, a command line longer than a shell takes: said, not a silent or bare failure', async () => {
    const node = track(loopbackNode());
    const display = process.env.DISPLAY;
    delete process.env.DISPLAY;
    try {
      await expect(node.run('true', { x11: true })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringMatching(/^x11 on root@127\.0\.0\.1:\d+: DISPLAY is not set here/),
      });
    } finally {
      if (display !== undefined) process.env.DISPLAY = display;
    }
    await expect(node.run(`echo ${'x'.repeat(300_000)}`)).rejects.toMatchObject({
      message: expect.stringMatching(
        /the command line is \d+ bytes: a Linux shell takes at most 131072 in one argument/,
      ),
    });
    // the connection is fine after both
    expect(await node.run('true')).toEqual({ exitCode: 0, signal: null });
  });

  it('replaces invalid UTF-8 instead of breaking, and keeps the connection usable', async () => {
    const node = track(loopbackNode());
    const result = await node.run("printf 'a\\377b\\n'; head -c 100000 /dev/urandom; echo; echo still here");
    expect(result.exitCode).toBe(0);
    expect(recorder(node).stdout()).toContain('a\uFFFDb\n');
    expect(recorder(node).stdout().endsWith('still here\n')).toBe(true);
    expect((await node.run('true')).exitCode).toBe(0);
  });

  it('runs 100 concurrent commands on one connection (maxConnections 1): none is refused (MaxSessions 10)', async () => {
    const node = track(loopbackNode({ maxConnections: 1 }));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => node.run(`sleep 0.05; echo ${i}`)),
    );
    expect(results.every((result) => result.exitCode === 0)).toBe(true);
    const numbers = recorder(node)
      .stdout()
      .trim()
      .split('\n')
      .map(Number)
      .sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(node.connectionCount).toBe(1);
    expect(node.sessionsInUse).toBe(0);
  });

  it('passes env variables quoted, through the command line', async () => {
    const node = track(loopbackNode());
    await node.run('echo "$GREETING|$OTHER"', { env: { GREETING: "it's $HOME; `x`", OTHER: '2' } });
    expect(recorder(node).stdout()).toBe("it's $HOME; `x`|2\n");
  });

  it('kills the remote process group on cancellation, as root', async () => {
    const node = track(loopbackNode());
    const marker = `jobgraph-kill-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    const running = node.run(`sh -c 'sleep 300; echo never' ${marker} & sleep 300; echo never`, {
      signal: controller.signal,
    });
    // wait until both sleeps are there
    for (let i = 0; i < 100; i++) {
      const probe = new RecordingFormatter();
      const checker = track(loopbackNode({ formatter: probe }));
      await checker.run('pgrep -c -x sleep || true');
      if (Number(probe.stdout().trim()) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    controller.abort(new Error('stop it'));
    await expect(running).rejects.toThrow('stop it');
    const probe = new RecordingFormatter();
    const checker = track(loopbackNode({ formatter: probe }));
    await checker.run(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo gone`);
    expect(probe.stdout()).toBe('gone\n');
    expect(recorder(node).stdout()).not.toContain('never');
  });
});

describe('connection failures: one-line errors with a code, nothing hangs', () => {
  it('refused connection → ERR_SSH_CONNECT naming the node', async () => {
    const node = new SshNode({ hostname: '127.0.0.1', port: 1, ...common() });
    await expect(node.run('true')).rejects.toMatchObject({
      code: 'ERR_SSH_CONNECT',
      message: 'Cannot connect to root@127.0.0.1:1: connection refused',
    });
  });

  it('a timeout longer than a timer can wait is refused up front (it would fire at once)', () => {
    expect(() => new SshNode({ hostname: 'h', connectTimeout: 3_000_000_000 })).toThrow(
      'Invalid SshNode option connectTimeout: expected a positive number of milliseconds, at most 2147483647, got 3000000000',
    );
    expect(() => new SshNode({ hostname: 'h', keepaliveInterval: 3_000_000_000 })).toThrow(
      'Invalid SshNode option keepaliveInterval: expected a number of milliseconds from 0 to 2147483647, got 3000000000',
    );
  });

  it('unknown key → ERR_SSH_AUTH', async () => {
    const node = loopbackNode({ keys: [], agent: false });
    // no key given: the default keys of this machine (none authorized on the bed)
    await expect(node.run('true')).rejects.toMatchObject({ code: 'ERR_SSH_AUTH' });
  });

  it('changed host key → ERR_HOST_KEY with the fix, even with accept-new', async () => {
    const { writeFile } = await import('node:fs/promises');
    const forged = `${bed.workDir}/known_hosts_forged`;
    const otherKey = (bed.hostKeys.gw ?? '').split(' ').slice(0, 2).join(' ');
    await writeFile(forged, `[127.0.0.1]:${bed.loopback.port} ${otherKey}\n`);
    const node = loopbackNode({ knownHosts: forged, hostKeyPolicy: 'accept-new' });
    const error = await node.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_HOST_KEY' });
    expect((error as Error).message).toMatch(/host key of \[127\.0\.0\.1\]:\d+ has changed/);
    expect((error as Error).message).toContain('ssh-keygen -R');
    expect((error as Error).message).not.toContain('\n');
  });

  it('unknown host with strict → refused; with accept-new → accepted and recorded', async () => {
    const { readFile, rm } = await import('node:fs/promises');
    const fresh = `${bed.workDir}/known_hosts_fresh_${process.pid}`;
    await rm(fresh, { force: true });
    await expect(loopbackNode({ knownHosts: fresh }).run('true')).rejects.toMatchObject({
      code: 'ERR_HOST_KEY',
    });
    const node = track(loopbackNode({ knownHosts: fresh, hostKeyPolicy: 'accept-new' }));
    expect((await node.run('true')).exitCode).toBe(0);
    expect(await readFile(fresh, 'utf8')).toContain(`[127.0.0.1]:${bed.loopback.port} ssh-ed25519 `);
    const again = track(loopbackNode({ knownHosts: fresh }));
    expect((await again.run('true')).exitCode).toBe(0);
  });

  it('verifies against hashed known_hosts entries', async () => {
    const node = track(loopbackNode({ knownHosts: bed.knownHostsHashed }));
    expect((await node.run('true')).exitCode).toBe(0);
  });
});

describe('gateways: targets reachable only through the gateway', () => {
  it('a target is unreachable directly', async () => {
    const direct = new SshNode({ hostname: bed.targets[0].hostname, ...common({ connectTimeout: 3_000 }) });
    await expect(direct.run('true')).rejects.toMatchObject({ code: 'ERR_SSH_CONNECT' });
  });

  it('two targets behind one gateway connection: each is its own host', async () => {
    const gateway = track(gatewayNode());
    const t1 = track(targetNode(0, gateway));
    const t2 = track(targetNode(1, gateway));
    await Promise.all([t1.run('hostname'), t2.run('hostname')]);
    expect(recorder(t1).stdout()).toBe(`${bed.targets[0].nodename}\n`);
    expect(recorder(t2).stdout()).toBe(`${bed.targets[1].nodename}\n`);
    expect(gateway.connectionCount).toBe(1);
    expect(t1.toString()).toBe(`root@${bed.gateway.hostname}->root@${bed.targets[0].hostname}`);
    expect(t1.distance()).toBe(2);
  });

  it('a 4-hop chain (gw → t1 → gw → t2) reaches its end, one connection per hop', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    // from t1, the gateway is 10.231.2.1: same host key as 10.231.1.2, recorded under that name too
    const knownHosts = `${bed.workDir}/known_hosts_4hops_${process.pid}`;
    const gwKey = (bed.hostKeys.gw ?? '').split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `${await readFile(bed.knownHosts, 'utf8')}10.231.2.1 ${gwKey}\n`);
    const gw = track(gatewayNode({ knownHosts }));
    const t1 = track(targetNode(0, gw, { knownHosts }));
    const gwAgain = track(new SshNode({ hostname: '10.231.2.1', gateway: t1, ...common({ knownHosts }) }));
    const t2 = track(targetNode(1, gwAgain, { knownHosts }));
    expect(t2.distance()).toBe(4);
    expect((await t2.run('hostname')).exitCode).toBe(0);
    expect(recorder(t2).stdout()).toBe(`${bed.targets[1].nodename}\n`);
    expect([gw, t1, gwAgain, t2].map((node) => node.connectionCount)).toEqual([1, 1, 1, 1]);
    // closing the remotest first leaves nothing open
    for (const node of [t2, gwAgain, t1, gw]) await node.close();
    expect([gw, t1, gwAgain, t2].some((node) => node.isConnected())).toBe(false);
  });

  it('gateway down → the target fails with ERR_SSH_CONNECT naming the gateway', async () => {
    const gateway = new SshNode({ hostname: '127.0.0.1', port: 1, ...common() });
    const target = targetNode(0, gateway);
    const error = await target.run('true').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SSH_CONNECT' });
    expect((error as Error).message).toContain('127.0.0.1:1');
  });
});

describe('cancelled while sshd refuses the channel (its MaxSessions, 10, below ours)', () => {
  it("rejects with the cancel's reason, as at every other moment (it was an ERR_SSH_CHANNEL)", async () => {
    const node = track(loopbackNode({ shareConnection: false, maxSessions: 20, maxConnections: 1 }));
    await node.run('true');
    // ten run on sshd (each says so once its channel is open: a slot of ours is taken before
    // that), two more are refused and retried
    let up = 0;
    const busy = Array.from({ length: 12 }, () =>
      node.run('echo up; sleep 3', { onLine: () => (up += 1) }).catch(() => undefined),
    );
    for (let i = 0; i < 500 && up < 10; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(up).toBe(10);
    const controller = new AbortController();
    const pending = node.run('echo never', { signal: controller.signal }).catch((error: unknown) => error);
    setTimeout(() => controller.abort(new Error('my cancel reason')), 200);
    expect(await pending).toBe(controller.signal.reason);
    await Promise.all(busy);
  });
});

describe('an onLine callback that throws', () => {
  it('the command runs to its end, then rejects with the error; the connection and other commands are untouched (SSH and local)', async () => {
    const ssh = track(loopbackNode());
    const other = track(loopbackNode()); // shares the connection
    for (const node of [ssh, new LocalNode({ formatter: new RecordingFormatter() })]) {
      let calls = 0;
      const bystander = other.run('sleep 0.5; echo still here');
      const thrown = await node
        .run('echo one; echo two; echo three', {
          onLine: () => {
            calls += 1;
            throw new Error('a bug in the callback');
          },
        })
        .catch((error: unknown) => error);
      expect(thrown).toMatchObject({ message: 'a bug in the callback' });
      expect(calls).toBe(1);
      // the formatter saw every line all the same
      expect(recorder(node).stdout()).toContain('one\ntwo\nthree\n');
      expect(await bystander).toEqual({ exitCode: 0, signal: null });
      expect(await node.run('true')).toEqual({ exitCode: 0, signal: null });
    }
  });
});

describe('LocalNode', () => {
  it('runs commands with the same output handling', async () => {
    const formatter = new RecordingFormatter();
    const node = new LocalNode({ formatter });
    expect(await node.run('echo out; echo err >&2; printf tail; exit 4')).toEqual({
      exitCode: 4,
      signal: null,
    });
    expect(formatter.stdout()).toBe('out\ntail');
    expect(formatter.stderr()).toBe('err\n');
    expect(node.toString()).toMatch(/@LOCALNODE$/);
    expect(node.distance()).toBe(0);
  });

  it('a signal aborted before the call: a rejection with its reason (never a synchronous throw), nothing run', async () => {
    const formatter = new RecordingFormatter();
    const node = new LocalNode({ formatter });
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    let running: Promise<unknown> | undefined;
    expect(() => {
      running = node.run('echo ran', { signal: controller.signal });
    }).not.toThrow();
    await expect(running).rejects.toThrow('too late');
    expect(formatter.stdout()).toBe('');
  });

  it('kills the whole process group on cancellation', async () => {
    const node = new LocalNode({ formatter: new RecordingFormatter() });
    const controller = new AbortController();
    const marker = `jobgraph-local-${process.pid}-${Date.now()}`;
    const running = node.run(`sh -c 'sleep 300' ${marker} & sleep 300`, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort(new Error('enough'));
    await expect(running).rejects.toThrow('enough');
    const probe = new RecordingFormatter();
    await new LocalNode({ formatter: probe }).run(`pgrep -f '[${marker[0]}]${marker.slice(1)}' || echo gone`);
    expect(probe.stdout()).toBe('gone\n');
  });
});
