/**
 * The options `jobgraph ssh` gained with Fleet (issue 11): --stdin, --encoding, --idle-timeout,
 * --host-args, --sudo and --sudo-password-file, spawned for real against the test bed; and
 * their bad values, each a one-line usage error. And the fan-out itself, one Fleet for every
 * target: two accounts of one host side by side, -w as Fleet's concurrency, Ctrl-C with targets
 * still waiting their turn.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, eventually, jobgraph, pgrep, start, tempDir } from './binary.js';

const bed = inject('testbed');
const lo = `${bed.loopback.hostname}:${bed.loopback.port}`;
const gw = bed.gateway.hostname;
const [t1] = bed.targets;
const behind = `${gw}->${t1.hostname}`;
/** Keys and host keys of the bed, strictly checked. */
const auth = ['-k', bed.keys.ed25519, '--known-hosts', bed.knownHosts, '--host-key-policy', 'strict'];
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});

describe('--stdin', () => {
  it("a file's bytes are every target's stdin: cat gives them back byte for byte", async () => {
    const input = Buffer.concat([
      Buffer.from('first line\nsecond\n'),
      Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a]),
    ]);
    await writeFile(join(dir, 'input.bin'), input);
    const out = join(dir, 'stdin-out');
    const run = await jobgraph(
      ['ssh', ...auth, '--stdin', 'input.bin', '-o', out, '-t', lo, '-t', behind, 'cat'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(out, lo))).toEqual(input);
    expect(await readFile(join(out, t1.hostname))).toEqual(input);
  });

  it("- is jobgraph's own stdin, read once for all the targets", async () => {
    const pipeline = `printf 'piped in\\n' | node ${bin} ssh ${auth.join(' ')} --stdin - -f '{host}={linenl}' -t ${lo} -t '${behind}' cat`;
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-c', pipeline], { timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      });
    });
    expect(out.code, out.stderr).toBe(0);
    // (host columns are padded to the longest)
    expect(lines(out.stdout.replaceAll(/ +=/g, '=')).sort()).toEqual(
      [`${bed.loopback.hostname}=piped in`, `${t1.hostname}=piped in`].sort(),
    );
  });
});

describe('--stdin - on a terminal', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('is refused rather than waited on', async () => {
    // script(1) gives jobgraph a terminal as its stdin
    const command = `node ${bin} ssh -K -F none -t fit01 --stdin - id`;
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } },
        (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code), stdout }),
      );
    });
    expect(out.code).toBe(2);
    expect(out.stdout).toContain('jobgraph: --stdin -: the standard input is a terminal');
  });
});

describe('output', () => {
  it('is shown as it comes, never held: 120 MB through -r in a 48 MB heap', async () => {
    // base64 of 90,000,000 bytes: 120,000,000 characters in lines of 76. Into a file: a pipe that
    // fills up would queue the writes in memory (the terminal does not slow the SSH channel down)
    const expected = 120_000_000 + Math.ceil(120_000_000 / 76);
    const file = join(dir, 'big.out');
    const pipeline =
      `NODE_OPTIONS=--max-old-space-size=48 node ${bin} ssh ${auth.join(' ')} -r -t ${lo} ` +
      `'head -c 90000000 /dev/zero | base64' > ${file}; echo "exit $?"; stat -c %s ${file}; rm ${file}`;
    const out = await new Promise<string>((resolve) => {
      execFile('bash', ['-c', pipeline], { timeout: 60_000 }, (_error, stdout) => resolve(stdout));
    });
    expect(lines(out)).toEqual(['exit 0', String(expected)]);
  });
});

describe('--encoding and --idle-timeout', () => {
  it('--encoding latin1 decodes the output, shown as UTF-8 in every format; without it, -r gives the bytes', async () => {
    const command = "printf 'caf\\351 \\340 la cr\\350me\\n'";
    const latin1 = await jobgraph([
      'ssh',
      ...auth,
      '--encoding',
      'latin1',
      '-f',
      '<{linenl}',
      '-t',
      lo,
      command,
    ]);
    expect(latin1).toMatchObject({ code: 0, stdout: '<café à la crème\n' });
    const raw = await jobgraph(['ssh', ...auth, '--encoding', 'latin1', '-r', '-t', lo, command]);
    expect(raw).toMatchObject({ code: 0, stdout: 'café à la crème\n' });
    const out = join(dir, 'latin1-out');
    const files = await jobgraph(['ssh', ...auth, '--encoding', 'LATIN1', '-o', out, '-t', lo, command]);
    expect(files.code, files.stderr).toBe(0);
    expect(await readFile(join(out, lo), 'utf8')).toBe('café à la crème\n');
    const bytes = await jobgraph(['ssh', ...auth, '-r', '-t', lo, command]);
    expect(bytes.stdoutBytes).toEqual(Buffer.from('caf\xe9 \xe0 la cr\xe8me\n', 'latin1'));
  });

  it('--idle-timeout stops a silent command: that target fails, the remote process is gone', async () => {
    const marker = `sleep 30.${process.pid % 1000}7`;
    const began = Date.now();
    const out = await jobgraph([
      'ssh',
      ...auth,
      '--idle-timeout',
      '1',
      '-t',
      lo,
      '-t',
      behind,
      `echo started; ${marker}`,
    ]);
    // bounded, not timed: the command itself would take 30 s
    expect(Date.now() - began).toBeLessThan(25_000);
    expect(out.code).toBe(1);
    // in the CLI's words: the option to change is --idle-timeout
    expect(out.stderr).toContain('Command stopped after 1000 ms without output (--idle-timeout)');
    expect(out.stderr).toContain('jobgraph ssh: 2 target(s): 0 succeeded, 2 failed, 0 unreachable');
    // the output before the silence is shown
    expect(out.stdout).toContain('started');
    expect(await pgrep(`^${marker}`)).toEqual([]);
  });
});

describe('-s and --timeout', () => {
  it('--timeout bounds the connection, the script copy and the command: one that expires before the connection counts the target unreachable, not a command killed', async () => {
    // 10 ms: less than an SSH handshake takes (the copy's bound once connected: fleet-concurrency.test.ts)
    const out = await jobgraph(['ssh', ...auth, '--timeout', '10ms', '-t', lo, '-s', 'echo never']);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('Cannot connect to root@127.0.0.1:');
    expect(out.stderr).toContain("no connection within the command's timeout of 10 ms");
    expect(out.stderr).toContain('1 target(s): 0 succeeded, 0 failed, 1 unreachable');
    // a silent host, as the prober met it: it said "Command ran past its timeout …, killed: hostname"
    const silent = await silentHost();
    try {
      const stuck = await jobgraph(['ssh', ...auth, '--timeout', '1s', '-t', silent.target, 'hostname']);
      expect(stuck.stderr).toContain("no connection within the command's timeout of 1000 ms");
      expect(stuck.stderr).toContain('0 failed, 1 unreachable');
    } finally {
      silent.close();
    }
  });
});

/** A host that accepts TCP connections and never says a word (no SSH banner). */
async function silentHost(): Promise<{ target: string; close(): void }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** The names in `~/.jobgraph-remote` of the bed's root (one file system for every host of the bed) that start with `prefix`. */
async function remoteCopies(prefix: string): Promise<string[]> {
  const out = await jobgraph(['ssh', ...auth, '-r', '-t', lo, 'ls -a .jobgraph-remote']);
  expect(out.code, out.stderr).toBe(0);
  return lines(out.stdout).filter((name) => name.startsWith(prefix));
}

describe('-s: each target copies the script in its turn; the copy is removed after the run', () => {
  let silent: Awaited<ReturnType<typeof silentHost>>;
  beforeAll(async () => {
    silent = await silentHost();
  });
  afterAll(() => silent.close());

  it("a target that never answers holds up no other target's command", async () => {
    const tag = `jg-turn-${process.pid}-${Date.now()}`;
    const ran = `/tmp/${tag}.ran`;
    await writeFile(join(dir, `${tag}.sh`), `#!/bin/sh\ntouch ${ran}\n`);
    // a connect timeout of a minute: the silent target's copy cannot end before it
    const { child, done } = start(
      ['ssh', ...auth, '-c', '60', '-v', '-t', silent.target, '-t', lo, '-s', `${tag}.sh`],
      { cwd: dir, limitMs: 90_000 },
    );
    // the good target's script ran while the silent one still waits for its handshake
    expect(await eventually(async () => existsSync(ran), 20_000)).toBe(true);
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const out = await done;
    expect(out.code).toBe(130);
    expect(out.stderr).toContain(`jobgraph ssh: root@${lo}: succeeded (exit code 0)`);
    expect(out.stderr).toContain(`jobgraph ssh: root@${silent.target}: cancelled\n`);
    expect(out.stderr).toContain('1 succeeded, 0 failed, 0 unreachable, 1 cancelled (interrupted)');
    // removed after Ctrl-C too
    expect(await remoteCopies(tag)).toEqual([]);
    await jobgraph(['ssh', ...auth, '-t', lo, `rm -f ${ran}`]);
  }, 60_000);

  it('a target that cannot be reached is unreachable, as without -s: its connection failed, not its copy', async () => {
    const out = join(dir, 'silent-out');
    const run = await jobgraph([
      'ssh',
      ...auth,
      '-c',
      '1',
      '-o',
      out,
      '--mark',
      '-t',
      silent.target,
      '-t',
      lo,
      '-s',
      'echo reached',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('2 target(s): 1 succeeded, 0 failed, 1 unreachable');
    expect(await readFile(join(out, '1failed', silent.target), 'utf8')).toMatch(
      /^unreachable: Cannot connect to root@127\.0\.0\.1:\d+: no answer within 1000 ms\n$/,
    );
    expect(await readFile(join(out, lo), 'utf8')).toBe('reached\n');
  });

  it("the run's copy is gone after the run, after a failure and after --timeout; includes stay", async () => {
    const tag = `jg-copy-${process.pid}-${Date.now()}`;
    // $1: the include, $2: the exit code, $3: how long to sleep first
    await writeFile(join(dir, `${tag}.sh`), '#!/bin/sh\n. "$(dirname "$0")/$1"\npause "$3"\nexit "$2"\n');
    await writeFile(join(dir, `${tag}.inc`), 'pause() { sleep "$1"; }\n');
    // through the gateway too (the hosts of the bed share root's home)
    const run = (options: string[], ...args: string[]) =>
      jobgraph(
        [
          'ssh',
          ...auth,
          ...options,
          '-t',
          lo,
          '-t',
          behind,
          '-i',
          `${tag}.inc`,
          '-s',
          `${tag}.sh`,
          `${tag}.inc`,
          ...args,
        ],
        { cwd: dir },
      );
    const ok = await run([], '0', '0');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await remoteCopies(tag)).toEqual([`${tag}.inc`]);
    const failed = await run([], '3', '0');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('exit code 3');
    expect(await remoteCopies(tag)).toEqual([`${tag}.inc`]);
    const slow = await run(['--timeout', '2', '-v'], '0', '30');
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('ran past its timeout of 2000 ms');
    expect(slow.stderr).toContain("jobgraph ssh: removing the script's copy from 2 target(s)\n");
    expect(await remoteCopies(tag)).toEqual([`${tag}.inc`]);
    await jobgraph(['ssh', ...auth, '-t', lo, `rm -f .jobgraph-remote/${tag}.inc`]);
  });
});

describe('--host-args', () => {
  it('a list gives each target its entry, in target order', async () => {
    await writeFile(join(dir, 'list.yaml'), '- [alpha, 1]\n- [beta, "two words"]\n');
    const out = join(dir, 'list-out');
    const run = await jobgraph(
      ['ssh', ...auth, '--host-args', 'list.yaml', '-o', out, '-t', lo, '-t', behind, 'echo {0}/{1}'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(out, lo), 'utf8')).toBe('alpha/1\n');
    expect(await readFile(join(out, t1.hostname), 'utf8')).toBe('beta/two words\n');
  });

  it('a map keyed by target name (JSON too); values are quoted, {{ }} are braces', async () => {
    await writeFile(
      join(dir, 'map.json'),
      JSON.stringify({
        [lo]: { role: "it's; rm -rf x" },
        [t1.hostname]: { role: 'db' },
        elsewhere: { role: 'x' },
      }),
    );
    const out = join(dir, 'map-out');
    const run = await jobgraph(
      [
        'ssh',
        ...auth,
        '--host-args',
        'map.json',
        '-o',
        out,
        '-t',
        lo,
        '-t',
        behind,
        'echo {{literal}} {role}',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(out, lo), 'utf8')).toBe("{literal} it's; rm -rf x\n");
    expect(await readFile(join(out, t1.hostname), 'utf8')).toBe('{literal} db\n');
  });

  it('a map written for a first pass serves a second one on fewer targets, named more briefly', async () => {
    // pass 1 had root@ and another account of the loopback side by side: their names were long
    await writeFile(join(dir, 'passes.yaml'), `root@${lo}: first\nnobody@${lo}: other\n`);
    const run = await jobgraph(
      ['ssh', ...auth, '--host-args', 'passes.yaml', '-r', '-t', `root@${lo}`, 'echo {0}'],
      {
        cwd: dir,
      },
    );
    // (it said: no entry for the target 127.0.0.1:…)
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('first\n');
  });

  it("with -s, the script's arguments take the placeholders, each staying one word", async () => {
    await writeFile(join(dir, 'roles.yaml'), `${lo}: web server\n${t1.hostname}: db\n`);
    const run = await jobgraph(
      [
        'ssh',
        ...auth,
        '--host-args',
        'roles.yaml',
        '-f',
        '{host}={linenl}',
        '-t',
        lo,
        '-t',
        behind,
        '-s',
        'echo "$# [$1] [$2]"',
        '--role={0}',
        '{{x}}',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    // (host columns are padded to the longest)
    expect(lines(run.stdout.replaceAll(/ +=/g, '=')).sort()).toEqual(
      [`${bed.loopback.hostname}=2 [--role=web server] [{x}]`, `${t1.hostname}=2 [--role=db] [{x}]`].sort(),
    );
  });

  it('-n shows each target with its entry, without connecting', async () => {
    await writeFile(join(dir, 'dry.yaml'), '- one\n- two\n');
    const out = await jobgraph(['ssh', '-n', '--host-args', 'dry.yaml', '-t', 'fit01,fit02', 'echo {0}'], {
      cwd: dir,
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('would run: echo {0}\nwith the arguments of dry.yaml:\n');
    expect(out.stdout).toMatch(/@fit01: "one"\n.*@fit02: "two"\n/);
  });
});

describe('bad inputs: one line on stderr, exit code 2, nothing run', () => {
  beforeAll(async () => {
    await writeFile(join(dir, 'one.yaml'), '- only-one\n');
    await writeFile(join(dir, 'partial.yaml'), 'fit01: a\n');
    await writeFile(join(dir, 'broken.yaml'), 'a: [b\n');
    await writeFile(join(dir, 'scalar.yaml'), 'just words\n');
    await writeFile(join(dir, 'nested.yaml'), '- [a, [b]]\n- c\n');
    await writeFile(join(dir, 'fine.yaml'), '- a\n- b\n');
    await writeFile(join(dir, 'empty-password'), '\nsecond line\n');
  });

  it.each([
    [['--encoding', 'klingon'], '--encoding klingon: unknown encoding: expected a label TextDecoder knows'],
    [
      ['--host-args', 'one.yaml'],
      '--host-args one.yaml: a list of 1 for 2 target(s): expected one entry per target',
    ],
    [['--host-args', 'partial.yaml'], '--host-args partial.yaml: no entry for the target fit02'],
    [['--host-args', 'missing.yaml'], '--host-args missing.yaml: cannot read it: no such file'],
    [['--host-args', 'broken.yaml'], '--host-args broken.yaml: not YAML nor JSON'],
    [['--host-args', 'scalar.yaml'], '--host-args scalar.yaml: "just words": expected a list'],
    [['--host-args', 'nested.yaml'], '--host-args nested.yaml: entry 1[1] is a list: expected a word'],
    [['--host-args', 'fine.yaml', '--', 'echo', 'none'], 'the command has no placeholder to fill'],
    [
      ['--host-args', 'fine.yaml', '--', 'echo', '{1}'],
      'the command uses {1}, which the entry of fit01 does not give ("a")',
    ],
    [['--stdin', 'missing.bin'], '--stdin missing.bin: cannot read it: no such file'],
    [['--stdin', '.'], '--stdin .: cannot read it: it is a directory'],
    [['--idle-timeout', 'never'], '--idle-timeout expects a positive duration'],
    [
      ['--sudo-password-file', 'missing-password'],
      '--sudo-password-file missing-password: cannot read it: no such file',
    ],
    [
      ['--sudo-password-file', 'empty-password'],
      '--sudo-password-file empty-password: its first line is empty',
    ],
  ])('%j', async (options, message) => {
    const command = options.includes('--') ? [] : ['echo', '{0}'];
    // -K: no key needed, and nothing connects: fit01 and fit02 do not exist
    const out = await jobgraph(['ssh', '-K', '-F', 'none', '-t', 'fit01,fit02', ...options, ...command], {
      cwd: dir,
    });
    expect(out.code, out.stderr).toBe(2);
    expect(out.stdout).toBe('');
    expect(lines(out.stderr)).toHaveLength(1);
    expect(out.stderr).toMatch(/^jobgraph: /);
    expect(out.stderr).toContain(message);
  });
});

describe('--sudo, as the non-root sudo users of the bed', () => {
  const { withPassword, noPassword } = bed.sudo;

  it('NOPASSWD: --sudo runs the command as root, a script too', async () => {
    const run = await jobgraph([
      'ssh',
      ...auth,
      '-l',
      noPassword.username,
      '--sudo',
      '-r',
      '-t',
      lo,
      'id -u',
    ]);
    expect(run).toMatchObject({ code: 0, stdout: '0\n' });
    const script = await jobgraph([
      'ssh',
      ...auth,
      '-l',
      noPassword.username,
      '--sudo',
      '-r',
      '-t',
      behind,
      '-s',
      'echo "$(id -u) [$1]"',
      'an arg',
    ]);
    expect(script).toMatchObject({ code: 0, stdout: '0 [an arg]\n' });
    const without = await jobgraph(['ssh', ...auth, '-l', noPassword.username, '-r', '-t', lo, 'id -u']);
    expect(without.stdout).not.toBe('0\n');
  });

  it('a root command stopped by --idle-timeout is killed through sudo: no process left', async () => {
    const marker = `sleep 30.${process.pid % 1000}3`;
    const out = await jobgraph([
      'ssh',
      ...auth,
      '-l',
      noPassword.username,
      '--sudo',
      '--idle-timeout',
      '1',
      '-t',
      lo,
      marker,
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('without output (--idle-timeout)');
    expect(await pgrep(`^${marker}`)).toEqual([]);
  });

  it('with a password from a file: root, the stdin after it intact, the password shown nowhere', async () => {
    const passwordFile = join(dir, 'sudo-password');
    await writeFile(passwordFile, `${withPassword.password}\nignored second line\n`, { mode: 0o600 });
    await writeFile(join(dir, 'after.txt'), 'the real input\n');
    const args = ['ssh', ...auth, '-l', withPassword.username, '--sudo-password-file', passwordFile];
    const out = join(dir, 'sudo-out');
    const run = await jobgraph(
      [...args, '--stdin', 'after.txt', '-o', out, '-t', lo, '-t', behind, 'id -u; cat'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    for (const name of [lo, t1.hostname]) {
      expect(await readFile(join(out, name), 'utf8')).toBe('0\nthe real input\n');
    }
    // -D: every event, the nodes, and stack traces if anything failed
    const debug = await jobgraph([...args, '-D', '-t', lo, 'id -u'], { cwd: dir });
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stdout).toMatch(/:0\n$/);
    for (const text of [run.stdout, run.stderr, debug.stdout, debug.stderr]) {
      expect(text).not.toContain(withPassword.password);
    }
    const dry = await jobgraph([...args, '-n', '-t', lo, 'id -u']);
    expect(dry.stdout).toContain('under sudo (password from a file)');
    expect(dry.stdout + dry.stderr).not.toContain(withPassword.password);
  });

  it('a password needed but not given, or a wrong one: that target fails at once with why', async () => {
    const missing = await jobgraph([
      'ssh',
      ...auth,
      '-l',
      withPassword.username,
      '--sudo',
      '-t',
      lo,
      'id -u',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('sudo needs a password there');
    // the CLI's way to give it, not the library's option
    expect(missing.stderr).toContain('(expected a NOPASSWD rule, or use --sudo-password-file)');
    expect(missing.stderr).not.toContain('sudo: {');
    const wrongFile = join(dir, 'wrong-password');
    await writeFile(wrongFile, 'not-the-password\n', { mode: 0o600 });
    const wrong = await jobgraph([
      'ssh',
      ...auth,
      '-l',
      withPassword.username,
      '--sudo-password-file',
      wrongFile,
      '-t',
      lo,
      'id -u',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('sudo refused the password');
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password');
  });
});

describe('one fleet for every target', () => {
  const { noPassword } = bed.sudo;
  const root = `root@${lo}`;
  const other = `${noPassword.username}@${lo}`;

  it('two accounts of one host are two targets: their own names, files, arguments and script copies', async () => {
    await writeFile(join(dir, 'accounts.yaml'), `${root}: first\n${other}: second\n`);
    const out = join(dir, 'accounts-out');
    const run = await jobgraph(
      [
        'ssh',
        ...auth,
        '--host-args',
        'accounts.yaml',
        '-o',
        out,
        '--mark',
        '-t',
        root,
        '-t',
        other,
        '-s',
        'echo "$(id -un) [$1]"',
        '{0}',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(out, root), 'utf8')).toBe('root [first]\n');
    expect(await readFile(join(out, other), 'utf8')).toBe(`${noPassword.username} [second]\n`);
    expect(await readFile(join(out, '0ok', other), 'utf8')).toBe('0\n');
  });

  it('-w 1: one target at a time, the next one when the first is done', async () => {
    // each command holds a directory of the one machine while it runs: two at once would clash (exit 9)
    const lock = `/tmp/jg-window-${process.pid}-${Date.now()}`;
    const command = `mkdir ${lock} || exit 9; sleep 0.5; rmdir ${lock}`;
    const run = await jobgraph(['ssh', ...auth, '-w', '1', '-v', '-t', root, '-t', other, command]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('jobgraph ssh: running the command on 2 target(s), at most 1 at once\n');
    expect(run.stderr).toContain('jobgraph ssh: 2 target(s): 2 succeeded, 0 failed, 0 unreachable\n');
  });

  it('Ctrl-C with -w 1: the running command killed, the waiting target never started, both cancelled', async () => {
    const marker = `sleep 41.${process.pid % 1000}`;
    const { child, done } = start(['ssh', ...auth, '-w', '1', '-v', '-t', root, '-t', other, marker]);
    expect(await eventually(async () => (await pgrep(`^${marker}`)).length >= 1)).toBe(true);
    child.kill('SIGINT');
    const out = await done;
    expect(out.code).toBe(130);
    expect(out.stderr).toContain(
      'jobgraph ssh: 2 target(s): 0 succeeded, 0 failed, 0 unreachable, 2 cancelled (interrupted)',
    );
    expect(out.stderr).toContain(`jobgraph ssh: ${root}: cancelled\n`);
    expect(out.stderr).toContain(`jobgraph ssh: ${other}: cancelled\n`);
    // the second target's command was never sent: one session started in all
    expect(out.stderr.match(/Session started for/g)).toHaveLength(1);
    expect(await pgrep(`^${marker}`)).toEqual([]);
  });
});
