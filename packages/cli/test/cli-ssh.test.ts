/**
 * `jobgraph ssh`, `push` and `pull`, spawned for real: the target grammar of apssh's test_targets1..6
 * and test_gwt1..9 (through -L and -n, offline), then runs against the test bed (a real sshd on
 * loopback, a gateway and two hosts reachable only through it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { localUsername } from '@jobgraph/ssh';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, eventually, jobgraph, pgrep, start, tempDir } from './binary.js';

const bed = inject('testbed');
const me = localUsername();
const lo = `${bed.loopback.hostname}:${bed.loopback.port}`;
const gw = bed.gateway.hostname;
const [t1, t2] = bed.targets;
/** Keys and host keys of the bed, strictly checked. */
const auth = ['-k', bed.keys.ed25519, '--known-hosts', bed.knownHosts, '--host-key-policy', 'strict'];

/** A HOME without ~/.ssh/config nor ~/.jobgraph, so that the machine's own files play no part. */
let home: string;
beforeAll(async () => {
  home = await tempDir('jobgraph-home-');
});
const offline = (...args: string[]) => jobgraph(args, { env: { HOME: home } });
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('the target grammar (apssh test_targets and test_gwt), with -L', () => {
  it('targets1: -l and one host', async () => {
    const out = await offline('ssh', '-L', '-l', 'root', '-t', 'localhost', 'hostname');
    expect(out).toMatchObject({ code: 0, stdout: 'root@localhost\n' });
  });

  it('targets2 and targets5: repeated -t, and a list in one -t', async () => {
    for (const args of [
      ['-t', 'localhost', '-t', '127.0.0.1'],
      ['-t', 'localhost 127.0.0.1'],
    ]) {
      const out = await offline('ssh', '-L', ...args, 'hostname');
      expect(lines(out.stdout)).toEqual([`${me}@localhost`, `${me}@127.0.0.1`]);
    }
  });

  it('targets3 and targets4: a file of user@host lines; its users win over -l', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'TARGETS3'), '# two hosts\napsshuser@localhost\napsshuser@127.0.0.1\n');
    for (const extra of [[], ['-l', 'other']]) {
      const out = await jobgraph(['ssh', '-L', ...extra, '-t', 'TARGETS3', 'hostname'], {
        cwd: dir,
        env: { HOME: home },
      });
      expect(lines(out.stdout)).toEqual(['apsshuser@localhost', 'apsshuser@127.0.0.1']);
    }
  });

  it('targets6: a directory of empty files named after the hosts, with -l', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'TARGETS-DIR'));
    await writeFile(join(dir, 'TARGETS-DIR', 'localhost'), '');
    await writeFile(join(dir, 'TARGETS-DIR', '127.0.0.1'), '');
    const out = await jobgraph(['ssh', '-L', '-l', 'apsshuser', '-t', 'TARGETS-DIR', 'id'], {
      cwd: dir,
      env: { HOME: home },
    });
    expect(lines(out.stdout)).toEqual(['apsshuser@127.0.0.1', 'apsshuser@localhost']);
  });

  it('finds target files under ~/.jobgraph/', async () => {
    const jobgraphDir = join(home, '.jobgraph');
    await mkdir(jobgraphDir, { recursive: true });
    await writeFile(join(jobgraphDir, 'mylab'), 'fit[01-02]\n');
    const out = await offline('ssh', '-L', '-t', 'mylab', 'id');
    expect(lines(out.stdout)).toEqual([`${me}@fit01`, `${me}@fit02`]);
  });

  it.each([
    ['gwt1', ['-t', 'localhost'], [`${me}@localhost`]],
    ['gwt2', ['-t', 'localhost', '-l', 'apsshuser'], ['apsshuser@localhost']],
    ['gwt3', ['-t', 'localhost', '-g', '127.0.0.1', '--debug'], [`${me}@127.0.0.1->${me}@localhost`]],
    [
      'gwt4',
      ['-t', 'localhost', '-l', 'apsshuser', '-g', '127.0.0.1'],
      ['apsshuser@127.0.0.1->apsshuser@localhost'],
    ],
    ['gwt5', ['-t', 'root@localhost', '-g', 'root@127.0.0.1'], ['root@127.0.0.1->root@localhost']],
    [
      'gwt6',
      ['-t', '127.0.0.1,127.0.0.3->127.0.0.2'],
      [`${me}@127.0.0.1`, `${me}@127.0.0.3->${me}@127.0.0.2`],
    ],
    [
      'gwt7',
      ['-t', '127.0.0.1 127.0.0.3->127.0.0.2', '-g', 'apsshuser@127.0.0.10'],
      [`apsshuser@127.0.0.10->${me}@127.0.0.1`, `${me}@127.0.0.3->${me}@127.0.0.2`],
    ],
    [
      'gwt8',
      ['-t', 'None->127.0.0.1 127.0.0.3->127.0.0.2', '-g', 'apsshuser@127.0.0.10'],
      [`${me}@127.0.0.1`, `${me}@127.0.0.3->${me}@127.0.0.2`],
    ],
    [
      'gwt9',
      ['-t', 'None→127.0.0.1 127.0.0.3→127.0.0.2', '-g', 'apsshuser@127.0.0.10'],
      [`${me}@127.0.0.1`, `${me}@127.0.0.3->${me}@127.0.0.2`],
    ],
  ])('%s', async (_name, args, expected) => {
    const out = await offline('ssh', '-L', ...args, 'id');
    expect(out.code).toBe(0);
    expect(lines(out.stdout)).toEqual(expected);
  });

  it('ranges, ports and gateway chains (what apssh lacks)', async () => {
    const out = await offline(
      'ssh',
      '-L',
      '-t',
      'fit[01-03]:2222 node{1..2}',
      '-t',
      'a->b@c:2200->d',
      '-x',
      'fit02',
      'id',
    );
    expect(lines(out.stdout)).toEqual([
      `${me}@fit01:2222`,
      `${me}@fit03:2222`,
      `${me}@node1`,
      `${me}@node2`,
      `${me}@a->b@c:2200->${me}@d`,
    ]);
  });

  it('a reader that goes away early (| head -1) does not crash it', async () => {
    const pipeline = `node ${bin} ssh -L -t 'fit[1-9000]' id | head -1; echo "exit \${PIPESTATUS[0]}" >&2`;
    const out = await new Promise<{ stdout: string; stderr: string }>((resolvePromise) => {
      execFile(
        'bash',
        ['-c', pipeline],
        { env: { ...process.env, HOME: home }, timeout: 60_000 },
        (_error, stdout, stderr) => resolvePromise({ stdout, stderr }),
      );
    });
    expect(out.stdout).toBe(`${me}@fit1\n`);
    expect(out.stderr).toBe('exit 0\n');
  });

  it('-n prints the selection, the exclusions and what would run, without connecting', async () => {
    const out = await offline('ssh', '-n', '-t', 'fit[01-03]', '-x', 'fit02', '-g', 'gw', 'uname', '-a');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      [
        '2 target(s) selected, 1 excluded',
        `  ${me}@gw->${me}@fit01`,
        `  ${me}@gw->${me}@fit03`,
        'excluded:',
        `  ${me}@gw->${me}@fit02`,
        'would run: uname -a',
        '',
      ].join('\n'),
    );
  });

  it('-L and -n also work for push and pull', async () => {
    const push = await offline('push', '-L', '-t', 'fit[1-2]', 'a.txt', '@:/tmp/');
    expect(lines(push.stdout)).toEqual([`${me}@fit1`, `${me}@fit2`]);
    // -L needs no paths
    const bare = await offline('pull', '-L', '-t', 'fit[1-2]');
    expect(bare).toMatchObject({ code: 0, stdout: `${me}@fit1\n${me}@fit2\n` });
    const pull = await offline('pull', '-n', '-t', 'fit[1-2]', '@:/var/log/syslog', 'logs/{host}.log');
    // placeholders are shown expanded, target by target
    expect(pull.stdout).toContain(
      `would run: on each target\n  ${me}@fit1: pull /var/log/syslog into logs/fit1.log\n`,
    );
    expect(pull.stdout).toContain(`  ${me}@fit2: pull /var/log/syslog into logs/fit2.log\n`);
  });
});

describe('bad command lines: one line on stderr, exit code 2', () => {
  it.each([
    [['ssh', '-t', 'h', '-w', 'x', 'id'], '-w expects an integer from 0 to 1000000'],
    [['ssh', '-t', 'h', '-c', '0', 'id'], '-c expects a positive duration'],
    [['ssh', '-t', 'h', '--timeout', 'soon', 'id'], '--timeout expects a positive duration'],
    // beyond what a timer can wait (it would fire at once)
    [['ssh', '-t', 'h', '--timeout', '600h', 'id'], '--timeout expects a positive duration (at most 596h)'],
    [['ssh', '-t', 'h', '-c', '3000000', 'id'], '-c expects a positive duration (at most 596h)'],
    [['ssh', '-t', 'h', '--host-key-policy', 'maybe', 'id'], 'Allowed choices are strict, accept-new, off'],
    [['ssh', '-t', 'h', '-p', '70000', 'id'], '-p expects an integer from 1 to 65535'],
    [['ssh', '-t', 'h', '--bogus', 'id'], "unknown option '--bogus'"],
    [['ssh', 'id'], 'no target: give at least one with -t'],
    [['ssh', '-t', 'h'], 'no command: give the command to run after the options'],
    [['ssh', '-t', 'h', ''], 'empty command: give the command to run after the options'],
    [['ssh', '-t', 'h', ' ', ''], 'empty command: give the command to run after the options'],
    [['ssh', '-t', 'h', '-s', '', 'arg'], '-s: the script is empty: give a script file, or the script text'],
    [['ssh', '-t', 'a@b@c', 'id'], 'bad target "a@b@c": "a@b@c" has more than one @'],
    [['ssh', '-t', 'fit[9-1]', 'id'], 'bad target "fit[9-1]": the range 9-1 goes down'],
    [['ssh', '-t', 'h', '-g', 'None->x', 'id'], '-g does not take None->'],
    [['ssh', '-t', 'h', '-x', 'h', 'id'], 'no target left: all 1 are excluded by -x'],
    [['ssh', '-t', 'h', '--mark', 'id'], '--mark writes into the output directory: give -o DIR or -d'],
    [['ssh', '-t', 'h', '-i', 'inc.sh', 'id'], '-i (includes) goes with -s (script)'],
    [
      ['ssh', '-t', 'h', '-F', '/nonexistent/config', 'id'],
      '-F /nonexistent/config: no such ssh config file',
    ],
    // a ~/.ssh/config made for ssh left no way out
    [
      ['ssh', '-t', 'root@10.0.0.1', '-F', 'packages/cli/test/fixtures/ssh-config-match-exec', '-L'],
      'jobgraph never runs commands from an ssh config (supported: all, host, originalhost, user, localuser, canonical, final) (-F none reads no ssh config)',
    ],
    [
      ['ssh', '-t', 'h', '-k', '/nonexistent/key', 'id'],
      '-k: Cannot load the private key /nonexistent/key: no such file',
    ],
    // a device that never ends was read until memory ran out
    [
      ['ssh', '-t', 'h', '-k', '/dev/zero', 'id'],
      '-k: Cannot load the private key /dev/zero: larger than 1 MiB (a device or a pipe?)',
    ],
    [
      ['ssh', '-t', 'h', '--host-args', '/dev/zero', 'echo {0}'],
      '--host-args /dev/zero: cannot read it: larger than 64 MiB (a device or a pipe?)',
    ],
    [['push', '-t', 'h', 'a.txt', '/tmp/'], '/tmp/ is not remote: it should start with @:'],
    [['push', '-t', 'h', '@:a', '@:/tmp/'], '@:a: only the last path is remote when pushing'],
    [['pull', '-t', 'h', 'a.txt', 'here/'], 'a.txt is not remote: it should start with @:'],
    [['pull', '-t', 'h', '@:x', '@:y'], '@:y: the last path is local when pulling'],
    [
      ['pull', '-t', 'a,b', '@:x', 'here/'],
      "would overwrite one host's files with another's: put {host} or {fqdn}",
    ],
    [
      ['pull', '-t', 'h', '@:x', 'here/{hots}'],
      'unknown placeholder {hots}: expected {host}, {fqdn}, {user} or {port}',
    ],
    [
      ['pull', '-t', 'h bob@h', '@:x', 'here/{host}'],
      `${me}@h and bob@h would both pull into here/h: put {user} in the local path too`,
    ],
    [
      // containers of one host, told apart by their ports
      ['pull', '-t', 'h:2201 h:2202', '@:x', 'here/{host}'],
      `${me}@h:2201 and ${me}@h:2202 would both pull into here/h: put {port} in the local path too`,
    ],
    [
      ['pull', '-t', 'h', '@:a/x', '@:b/x', 'here/'],
      'a/x and b/x have the same name: pulled into here/ together, one would overwrite the other',
    ],
    [
      ['ssh', '-t', '', 'id'],
      'bad target "": an empty target: expected a host, a list, a file or a directory',
    ],
    [['ssh', '-t', ',', '-L'], 'no target: -t "," names none'],
    [['ssh', '-t', 'h', '-l', 'x;rm', 'id'], '-l expects a user name'],
    [['ssh', '-t', 'h', '-f', '{hots}: {line}', 'id'], '-f {hots}: {line}: unknown placeholder {hots}'],
    // two includes of one name raced for one remote file, one silently winning
    [
      [
        'ssh',
        '-t',
        'h',
        '-K',
        '-i',
        'packages/cli/test/fixtures/scripts/hello.sh',
        '-i',
        'packages/cli/test/fixtures/scripts/other/hello.sh',
        '-s',
        'x',
      ],
      'has the same name, and both would be copied to ~/.jobgraph-remote/hello.sh: rename one',
    ],
  ])('%j', async (args, message) => {
    const out = await offline(...args);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stdout).toBe('');
    expect(lines(out.stderr)).toHaveLength(1);
    expect(out.stderr).toMatch(/^jobgraph: /);
    expect(out.stderr).toContain(message);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bare word that names a directory here is read as its targets, and said (a pull into {host}/ made it)', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'fit01'));
    await writeFile(join(dir, 'fit01', 'hostname'), '');
    const out = await jobgraph(['ssh', '-L', '-t', 'fit01'], { cwd: dir });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`${me}@hostname\n`);
    expect(out.stderr).toBe(
      `jobgraph: fit01: read as the targets named by the files of the directory ${join(dir, 'fit01')} (write user@fit01 to mean the host)\n`,
    );
    // a path with a slash is meant as a directory: nothing said
    expect((await jobgraph(['ssh', '-L', '-t', './fit01'], { cwd: dir })).stderr).toBe('');
  });

  it('a malformed targets file names its file and line', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'nodes.txt'), 'fit01 fit02\n# a comment\nfit03 root@@fit04\n');
    const out = await jobgraph(['ssh', '-t', 'nodes.txt', 'id'], { cwd: dir, env: { HOME: home } });
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(
      `jobgraph: ${join(dir, 'nodes.txt')}:3: bad target "root@@fit04": "root@@fit04" has more than one @: expected [user@]host[:port]\n`,
    );
  });

  it('-D adds the stack trace', async () => {
    const out = await offline('ssh', '-D', '-t', 'a@b@c', 'id');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/\n\s+at /);
  });

  it('--help of each subcommand shows its options and examples; -V its version', async () => {
    for (const command of ['ssh', 'push', 'pull']) {
      const out = await offline(command, '--help');
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('--target <targets>');
      expect(out.stdout).toContain('Examples:');
      expect(out.stdout).toContain(`jobgraph ${command} -t`);
    }
    const version = await offline('ssh', '-V');
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('refuses to go on without any key unless -K', async () => {
    const out = await jobgraph(['ssh', '-t', lo, 'id'], { env: { HOME: home, SSH_AUTH_SOCK: '' } });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('no usable key');
    const tried = await jobgraph(['ssh', '-K', '-c', '10', '--known-hosts', bed.knownHosts, '-t', lo, 'id'], {
      env: { HOME: home, SSH_AUTH_SOCK: '' },
    });
    // the server refuses a client without a key: the target is unreachable, not a crash
    expect(tried.code).toBe(1);
    expect(tried.stderr).toContain('1 unreachable');
  });

  it('says which default key it left out for being encrypted', async () => {
    const encryptedHome = await tempDir('jobgraph-home-');
    await mkdir(join(encryptedHome, '.ssh'));
    await writeFile(join(encryptedHome, '.ssh', 'id_ed25519'), await readFile(bed.keys.ed25519Pass));
    const env = { HOME: encryptedHome, SSH_AUTH_SOCK: '' };
    const out = await jobgraph(['ssh', '-t', lo, 'id'], { env });
    expect(out).toMatchObject({ code: 2 });
    expect(out.stderr).toBe(
      `jobgraph: no usable key: no ssh-agent key and ${join(encryptedHome, '.ssh', 'id_ed25519')} encrypted (ssh-add it); give -k FILE, or -K to try anyway\n`,
    );
    const tried = await jobgraph(['ssh', '-K', '-c', '10', '--known-hosts', bed.knownHosts, '-t', lo, 'id'], {
      env,
    });
    expect(tried.code).toBe(1);
    expect(tried.stderr).toContain('left out for being encrypted');
  });
});

describe('Ctrl-C while connecting', () => {
  it('a host that never answers the handshake: exit 130 at once, not after the connect timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const accepted = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
    try {
      // a connect timeout of 10 minutes: only Ctrl-C can end this run before the spawn limit
      const { child, done } = start(
        ['ssh', '-K', '-F', 'none', '-c', '10m', '-t', `127.0.0.1:${port}`, 'id'],
        {
          env: { HOME: home, SSH_AUTH_SOCK: '' },
          limitMs: 30_000,
        },
      );
      await accepted;
      child.kill('SIGINT');
      const out = await done;
      expect(out.code).toBe(130);
      expect(out.stderr).toContain('1 cancelled (interrupted)');
      expect(out.stderr).not.toContain('Connection failed');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('against the test bed', () => {
  it('exit 0 iff every target returned 0; a summary line counts succeeded, failed, unreachable', async () => {
    const ok = await jobgraph(['ssh', ...auth, '-t', lo, '-t', `${gw}->${t1.hostname}`, 'hostname']);
    expect(ok.code, ok.stderr).toBe(0);
    // host columns are padded to the longest name
    expect(lines(ok.stdout.replaceAll(/ +:/g, ':')).sort()).toEqual(
      [`root@${bed.loopback.hostname}:${bed.loopback.nodename}`, `root@${t1.hostname}:${t1.nodename}`].sort(),
    );
    expect(ok.stderr).toBe('jobgraph ssh: 2 target(s): 2 succeeded, 0 failed, 0 unreachable\n');

    const mixed = await jobgraph([
      'ssh',
      ...auth,
      '-c',
      '10',
      '-t',
      `${lo} ${gw}:2`,
      '-t',
      `${gw}->${t1.hostname}`,
      `test "$(hostname)" = ${t1.nodename} || exit 3`,
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(`Connection failed to root@${gw}:2`);
    expect(mixed.stderr).toContain(`jobgraph ssh: root@${lo}: exit code 3\n`);
    expect(mixed.stderr).toContain('jobgraph ssh: 3 target(s): 1 succeeded, 1 failed, 1 unreachable\n');
  });

  it('reaches hosts that only the gateway sees: gw->host, -g, and -F aliases with ProxyJump', async () => {
    const written = await jobgraph(['ssh', ...auth, '-r', '-t', `${gw}->${t1.hostname}`, 'hostname']);
    expect(written).toMatchObject({ code: 0, stdout: `${t1.nodename}\n` });
    const option = await jobgraph(['ssh', ...auth, '-r', '-g', gw, '-t', t2.hostname, 'hostname']);
    expect(option).toMatchObject({ code: 0, stdout: `${t2.nodename}\n` });
    const config = await jobgraph(
      ['ssh', '-F', bed.sshConfig, '-r', '-t', 'jgtb-t{1..2}', '-w', '1', 'hostname'],
      {
        env: { HOME: home },
      },
    );
    expect(config.code, config.stderr).toBe(0);
    expect(lines(config.stdout).sort()).toEqual([t1.nodename, t2.nodename].sort());
  });

  it('-o DIR --mark: per-host output files, 0ok/ and 1failed/ with the result, then a second pass on 1failed', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const run = await jobgraph(
      [
        'ssh',
        ...auth,
        '-c',
        '10',
        '-o',
        out,
        '--mark',
        '-t',
        `${lo},${gw}:2`,
        '-g',
        gw,
        '-t',
        `None->${lo} ${t1.hostname}`,
        `echo out; echo err >&2; test "$(hostname)" = ${t1.nodename}`,
      ],
      { cwd: dir },
    );
    // ${lo} written twice: once through -g (unreachable from the gateway's side), once direct;
    // their files are named apart: the user, then the gateway, are added only where names clash
    const viaGateway = `root@${gw}->root@${lo}`;
    const direct = `root@${lo}`;
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`${out}\n`);
    expect(await readFile(join(out, t1.hostname), 'utf8')).toBe('out\n');
    expect(await readFile(join(out, `${t1.hostname}.err`), 'utf8')).toBe('err\n');
    expect(await readFile(join(out, direct), 'utf8')).toBe('out\n');
    // no file for the unreachable ones, nor for the gateway itself
    expect((await readdir(out)).sort()).toEqual(
      ['0ok', '1failed', direct, `${direct}.err`, t1.hostname, `${t1.hostname}.err`].sort(),
    );
    expect(await readdir(join(out, '0ok'))).toEqual([t1.hostname]);
    expect(await readFile(join(out, '0ok', t1.hostname), 'utf8')).toBe('0\n');
    expect((await readdir(join(out, '1failed'))).sort()).toEqual([`${gw}:2`, viaGateway, direct].sort());
    expect(await readFile(join(out, '1failed', direct), 'utf8')).toBe('1\n');
    for (const unreachable of [`${gw}:2`, viaGateway]) {
      expect(await readFile(join(out, '1failed', unreachable), 'utf8')).toMatch(
        /^unreachable: Cannot connect to/,
      );
    }

    const second = await jobgraph(['ssh', '-L', '-t', join(out, '1failed'), 'id']);
    expect(lines(second.stdout).sort()).toEqual([`root@${gw}:2`, viaGateway, direct].sort());
  });

  it('-o names files after ssh config aliases, so that a second pass on 1failed keeps their ProxyJump', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const config = ['-F', bed.sshConfig];
    const first = await jobgraph(
      ['ssh', ...config, '-o', out, '--mark', '-t', 'jgtb-t1 jgtb-t2', `test "$(hostname)" = ${t2.nodename}`],
      { env: { HOME: home } },
    );
    expect(first.code).toBe(1);
    expect((await readdir(out)).sort()).toEqual(['0ok', '1failed', 'jgtb-t1', 'jgtb-t2'].sort());
    expect(await readdir(join(out, '1failed'))).toEqual(['jgtb-t1']);
    const second = await jobgraph(['ssh', ...config, '-r', '-t', join(out, '1failed'), 'hostname'], {
      env: { HOME: home },
    });
    expect(second).toMatchObject({ code: 0, stdout: `${t1.nodename}\n` });
  });

  it('a command killed by a signal says which, in the error line and in its mark; -o in the way of a file says so', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const run = await jobgraph(['ssh', ...auth, '-o', out, '--mark', '-t', lo, 'kill -9 $$']);
    expect(run.code).toBe(1);
    // (it said: ended by a signal, or lost its connection)
    expect(run.stderr).toContain(`jobgraph ssh: root@${lo}: killed by signal KILL`);
    expect(await readFile(join(out, '1failed', lo), 'utf8')).toBe('failed: killed by signal KILL\n');
    await writeFile(join(dir, 'afile'), '');
    const blocked = await jobgraph(['ssh', ...auth, '-o', join(dir, 'afile', 'sub'), '-t', lo, 'true']);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain(
      'cannot make the output directory: a file is in its way, where a directory should be',
    );
  });

  it('-o at an existing file is refused before anything runs', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'taken'), 'keep me\n');
    const out = await jobgraph(['ssh', ...auth, '-o', 'taken', '-t', lo, 'echo lost'], { cwd: dir });
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(
      'jobgraph: -o taken: cannot make the output directory: a file of that name exists\n',
    );
    expect(await readFile(join(dir, 'taken'), 'utf8')).toBe('keep me\n');
  });

  it("-o into an earlier run's directory: an unreachable target's old files go; a mark that cannot be written costs no summary", async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const down = '127.0.0.1:1';
    await mkdir(join(out, '0ok', lo), { recursive: true });
    await writeFile(join(out, down), 'pass 1 output\n');
    await writeFile(join(out, `${down}.err`), 'pass 1 errors\n');
    // the output of ${lo} in a pass 1 that named it longer (another account of it beside it)
    await writeFile(join(out, `root@${lo}`), 'pass 1, under its longer name\n');
    const run = await jobgraph(['ssh', ...auth, '-o', out, '--mark', '-t', `${lo},${down}`, 'echo now']);
    // the old files read as this run's (an unreachable target prints nothing to replace them)
    expect(existsSync(join(out, down))).toBe(false);
    expect(existsSync(join(out, `${down}.err`))).toBe(false);
    expect(existsSync(join(out, `root@${lo}`))).toBe(false);
    expect(await readFile(join(out, lo), 'utf8')).toBe('now\n');
    // the mark of ${lo} cannot be written (a directory holds its place): the others are, and the
    // summary and the errors are printed before it is said
    expect(await readFile(join(out, '1failed', down), 'utf8')).toMatch(/^unreachable: /);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('jobgraph ssh: 2 target(s): 1 succeeded, 0 failed, 1 unreachable');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^jobgraph: cannot write every --mark in .*: EISDIR/,
    );
  });

  it('-d writes into a directory named after the minute it started; -v shows the connections', async () => {
    const dir = await tempDir();
    const out = await jobgraph(['ssh', ...auth, '-d', '--mark', '-v', '-t', lo, 'echo dated'], { cwd: dir });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d\n$/);
    const dated = join(dir, out.stdout.trim());
    expect(await readFile(join(dated, lo), 'utf8')).toContain('dated\n');
    expect(await readFile(join(dated, '0ok', lo), 'utf8')).toBe('0\n');
    expect(out.stderr).toContain('jobgraph ssh: working on 1 target(s)');
    expect(out.stderr).toContain('jobgraph ssh: running the command on 1 target(s), all at once\n');
    expect(out.stderr).toMatch(/jobgraph ssh: root@\S+: succeeded \(exit code 0\) after \d+\.\d\d s\n/);
  });

  it('-s runs a local script with its includes, or a script text; arguments stay words', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'inc.sh'), 'greeting=from-include\n');
    await writeFile(
      join(dir, 'myscript.sh'),
      '#!/bin/sh\n. "$(dirname "$0")/inc.sh"\necho "$greeting [$1] [$2]"\n',
    );
    const file = await jobgraph(
      ['ssh', ...auth, '-r', '-t', lo, '-s', '-i', 'inc.sh', 'myscript.sh', 'one', 'two three'],
      {
        cwd: dir,
      },
    );
    expect(file).toMatchObject({ code: 0, stdout: 'from-include [one] [two three]\n' });
    const body = await jobgraph([
      'ssh',
      ...auth,
      '-r',
      '-t',
      lo,
      '-s',
      'echo "exchanged [$2] [$1]"',
      'one',
      'two three',
    ]);
    expect(body).toMatchObject({ code: 0, stdout: 'exchanged [two three] [one]\n' });
    // with -v, apssh's warning that no such file exists, so the word is the script text
    const told = await jobgraph(['ssh', ...auth, '-v', '-r', '-t', lo, '-s', 'echo body-text']);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr).toContain(
      'jobgraph ssh: no file echo body-text: its text is the script (RunString)\n',
    );
  });

  it('-f, --time and -r choose how lines are shown', async () => {
    // {user} is `user@` (apssh's), so that '{user}{host}' reads as a login
    const format = await jobgraph(['ssh', ...auth, '-f', '<{user}|{fqdn}> {linenl}', '-t', lo, 'echo fmt']);
    expect(format.stdout).toBe(`<root@|${bed.loopback.hostname}> fmt\n`);
    // apssh's -tc is accepted for --time
    const time = await jobgraph(['ssh', ...auth, '-tc', '-t', lo, 'echo tc']);
    expect(time.stdout).toMatch(
      new RegExp(`^\\d\\d-\\d\\d-\\d\\d:${bed.loopback.hostname.replaceAll('.', '\\.')}\\s*:tc\\n$`),
    );
  });

  it('-r and -o pass binary output intact; a prefixed last line without newline is ended', async () => {
    // 0xff 0xfe are no UTF-8: a text decoding would turn them into U+FFFD
    const binary = `printf '\\377\\376\\000A\\n\\200'`;
    const expected = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a, 0x80]);
    const raw = await jobgraph(['ssh', ...auth, '-r', '-t', lo, binary]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdoutBytes).toEqual(expected);
    const dir = await tempDir();
    const files = await jobgraph(['ssh', ...auth, '-o', join(dir, 'out'), '-t', lo, binary]);
    expect(files.code, files.stderr).toBe(0);
    expect(await readFile(join(dir, 'out', lo))).toEqual(expected);
    // two hosts whose output ends without a newline: each on its own line
    const two = await jobgraph([
      'ssh',
      ...auth,
      '-t',
      lo,
      '-t',
      `${gw}->${t1.hostname}`,
      "printf 'no newline'",
    ]);
    expect(two.code, two.stderr).toBe(0);
    // (host columns are padded to the longest)
    expect(
      lines(two.stdout)
        .map((line) => line.replace(/ +:/, ':'))
        .sort(),
    ).toEqual([`root@${bed.loopback.hostname}:no newline`, `root@${t1.hostname}:no newline`].sort());
    expect(two.stdout.endsWith('\n')).toBe(true);
  });

  it('--timeout stops a command that takes too long, as a failure of that target', async () => {
    const out = await jobgraph(['ssh', ...auth, '--timeout', '1s', '-t', lo, 'sleep 31.25']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/jobgraph ssh: root@\S+: .*(timed out|timeout)/i);
    // gone as soon as the command has ended: the remote process is killed before the connection closes
    expect(await pgrep('^sleep 31.25')).toEqual([]);
  });

  it('push and pull with {host}: one local file per host, through the gateway too', async () => {
    const dir = await tempDir();
    const tag = `jgcopy-${process.pid}-${Date.now()}`;
    await mkdir(join(dir, 'src'));
    for (const host of [bed.loopback.hostname, t1.hostname]) {
      await writeFile(join(dir, 'src', `${host}.txt`), `for ${host}\n`);
    }
    const targets = ['-t', lo, '-t', `${gw}->${t1.hostname}`];
    // the bed's hosts share one file system: the remote names are per host
    const push = await jobgraph(['push', ...auth, ...targets, 'src/{host}.txt', `@:/tmp/${tag}-{host}.txt`], {
      cwd: dir,
    });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('jobgraph push: 2 target(s): 2 succeeded, 0 failed, 0 unreachable\n');
    const pull = await jobgraph(['pull', ...auth, ...targets, `@:/tmp/${tag}-{host}.txt`, 'pulled/{host}/'], {
      cwd: dir,
    });
    expect(pull.code, pull.stderr).toBe(0);
    for (const host of [bed.loopback.hostname, t1.hostname]) {
      expect(await readFile(join(dir, 'pulled', host, `${tag}-${host}.txt`), 'utf8')).toBe(`for ${host}\n`);
    }
    const missing = await jobgraph(['push', ...auth, '-t', lo, 'nothere.txt', '@:/tmp/'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothere.txt');
    expect(missing.stderr).toContain('1 failed');
  });

  it('pull: a local directory that cannot be made fails that target alone', async () => {
    const dir = await tempDir();
    // a file where the loopback's directory would go
    await mkdir(join(dir, 'pf'));
    await writeFile(join(dir, 'pf', bed.loopback.hostname), 'in the way\n');
    const targets = ['-t', lo, '-t', `${gw}->${t1.hostname}`];
    const pull = await jobgraph(['pull', ...auth, ...targets, '@:/etc/hostname', 'pf/{host}/'], { cwd: dir });
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain(
      `cannot make the local directory pf/${bed.loopback.hostname}/: a file is in the way`,
    );
    expect(pull.stderr).toContain('jobgraph pull: 2 target(s): 1 succeeded, 1 failed, 0 unreachable');
    expect((await readFile(join(dir, 'pf', t1.hostname, 'hostname'), 'utf8')).length).toBeGreaterThan(0);
  });

  it('push -r and pull -r copy directories', async () => {
    const dir = await tempDir();
    const tag = `jgtree-${process.pid}-${Date.now()}`;
    await mkdir(join(dir, tag, 'sub'), { recursive: true });
    await writeFile(join(dir, tag, 'sub', 'leaf.txt'), 'leaf\n');
    const push = await jobgraph(['push', ...auth, '-r', '-t', lo, tag, '@:/tmp/'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    const pull = await jobgraph(['pull', ...auth, '-r', '-t', lo, `@:/tmp/${tag}`, 'back/{host}/'], {
      cwd: dir,
    });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await readFile(join(dir, 'back', bed.loopback.hostname, tag, 'sub', 'leaf.txt'), 'utf8')).toBe(
      'leaf\n',
    );
  });

  it('Ctrl-C mid-run: exit 130, the remote processes killed, on direct and gateway targets', async () => {
    const marker = `sleep 47.${process.pid % 1000}`;
    // anchored: the command lines of jobgraph itself hold the marker too
    const remote = `^${marker}`;
    const { child, done } = start(['ssh', ...auth, '-t', lo, '-t', `${gw}->${t1.hostname}`, marker]);
    expect(await eventually(async () => (await pgrep(remote)).length >= 2)).toBe(true);
    child.kill('SIGINT');
    const out = await done;
    expect(out.code).toBe(130);
    expect(out.stderr).toContain('interrupted');
    expect(out.stderr).toContain('2 cancelled (interrupted)');
    expect(await pgrep(remote)).toEqual([]);
  });

  it('the reader of the output goes away (| head -2): the run stops as ssh does, exit 141, the remote processes killed', async () => {
    const marker = `yes jgpipe-${process.pid}`;
    const remote = `^${marker}`;
    // the shell's pipeline: head leaves after two lines, and jobgraph's next writes get EPIPE
    const script = `"$0" "$@" | head -2 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`;
    const args = ['ssh', ...auth, '-t', lo, '-t', `${gw}->${t1.hostname}`, marker];
    const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', script, process.execPath, bin, ...args],
        { timeout: 60_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
      );
    });
    // it went on reading and dropping the output, at full CPU, until the timeout
    expect(out.stderr).toContain('status=141');
    expect(out.stderr).toContain('the output was closed');
    expect(out.stderr).toContain('2 cancelled (interrupted)');
    expect(await eventually(async () => (await pgrep(remote)).length === 0, 10_000)).toBe(true);
  }, 90_000);
});
