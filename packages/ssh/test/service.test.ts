/**
 * Service: the command lines it generates (exact, POSIX, injection-proof), then run for
 * real (locally with `sh -c`, and over SSH on the loopback test bed) against recording
 * `systemd-run`, `systemctl` and `journalctl` scripts, since systemd does not run here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Scheduler, Sequence } from '@jobgraph/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../src/commands/service.js';
import { type Renderable, type Run, SshError, SshJob, type SshNode, shellQuote } from '../src/index.js';
import { loopbackNode, recorder } from './bed.js';

/** A template whose value arrives later (what a Deferred does). */
class Later implements Renderable {
  value: string | undefined;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  render(): string {
    if (this.value === undefined) throw new Error(`${this.name} is not set yet`);
    return this.value;
  }
  toString(): string {
    return `{{${this.name}}}`;
  }
}

// ---------------------------------------------------------------------------------------
// Recording stand-ins for systemd: POSIX sh using builtins only (printf, read, [, case),
// so that a shadowing `rm` can record any injected `rm -rf /` without running it.

const CALL = '==CALL==';

function recordingScripts(dir: string): Record<string, string> {
  const head = (name: string) =>
    [
      '#!/bin/sh',
      `log=${shellQuote(join(dir, 'log'))}`,
      `state=${shellQuote(join(dir, 'state'))}`,
      `printf '%s\\0' '${CALL}' '${name}' "$@" >> "$log"`,
    ].join('\n');
  return {
    'systemd-run': `${head('systemd-run')}
unit=
for arg in "$@"; do
  case $arg in --unit=*) unit=\${arg#--unit=}; break;; esac
done
printf 'active\\n' > "$state/$unit"
printf 'Running as unit: %s.service\\n' "$unit"
exit 0
`,
    systemctl: `${head('systemctl')}
verb=$1; shift
quiet=no
if [ "$1" = --quiet ]; then quiet=yes; shift; fi
unit=$1
current=inactive
if [ -f "$state/$unit" ]; then read -r current < "$state/$unit"; fi
case $verb in
  is-active)
    [ $quiet = yes ] || printf '%s\\n' "$current"
    [ "$current" = active ] && exit 0
    exit 3;;
  stop) printf 'inactive\\n' > "$state/$unit"; exit 0;;
  status)
    printf '%s\\n' "* $unit.service - fake" '     Loaded: loaded (transient)' "     Active: $current"
    [ "$current" = active ] && exit 0
    exit 3;;
  *) exit 0;;
esac
`,
    journalctl: `${head('journalctl')}
printf '%s\\n' '-- fake journal --'
exit 0
`,
    rm: `${head('rm')}
exit 0
`,
  };
}

/** The recorded calls, each `[program, ...argv]`. */
function parseLog(text: string): string[][] {
  const calls: string[][] = [];
  for (const field of text.split('\0').slice(0, -1)) {
    if (field === CALL) calls.push([]);
    else calls.at(-1)?.push(field);
  }
  return calls;
}

// ---------------------------------------------------------------------------------------

describe('Service command lines', () => {
  it('minimal: systemd-run only, with no repeated spaces', () => {
    const service = new Service('sleep 100', { serviceId: 'zz', stopIfRunning: false });
    expect(service.startCommand().commandLine()).toBe(
      'systemd-run --unit=zz --service-type=simple sleep 100',
    );
    expect(service.stopCommand().commandLine()).toBe('systemctl stop zz');
    expect(service.statusCommand().commandLine()).toBe('systemctl status zz');
    expect(service.journalCommand().commandLine()).toBe('journalctl --unit zz');
  });

  it('a command with shell syntax runs whole in the unit, through /bin/sh -c; a plain one as it is', () => {
    const line = (command: string) =>
      new Service(command, { serviceId: 'zz', stopIfRunning: false }).startCommand().commandLine();
    expect(line("tcpdump -i eth0 -w 'my capture.pcap'")).toBe(
      "systemd-run --unit=zz --service-type=simple tcpdump -i eth0 -w 'my capture.pcap'",
    );
    // apssh's own way around it: the quotes keep the syntax from the login shell, as they did
    expect(line(`sh -c "while true; do date; done" 'a|b' x\\;y`)).toBe(
      `systemd-run --unit=zz --service-type=simple sh -c "while true; do date; done" 'a|b' x\\;y`,
    );
    // expansions are the login shell's, as in apssh (a system unit has no $HOME)
    for (const command of ['$HOME/bin/server -p 80', 'echo `id`', 'sh -c "echo $HOME"']) {
      expect(line(command)).toBe(`systemd-run --unit=zz --service-type=simple ${command}`);
    }
    for (const command of ['sleep 100; echo after', 'a && b', 'a | b', 'a > log', '(a)', 'a\nb']) {
      expect(line(command)).toBe(
        `systemd-run --unit=zz --service-type=simple /bin/sh -c ${shellQuote(command)}`,
      );
    }
  });

  it('defaults to stopping a running unit first', () => {
    const service = new Service('sleep 100', { serviceId: 'zz' });
    expect(service.startCommand().commandLine()).toBe(
      'systemctl is-active --quiet zz && systemctl stop zz; systemctl reset-failed zz >/dev/null 2>&1; ' +
        'systemd-run --unit=zz --service-type=simple sleep 100',
    );
  });

  it('tty + environ + stopIfRunning (apssh tcpdump example), environ quoted', () => {
    const service = new Service('tcpdump -i eth0 -w capture.pcap', {
      serviceId: 'tcpdump',
      tty: true,
      environ: { USER: 'root', GREETING: "it's" },
      stopIfRunning: true,
      systemdType: 'exec',
    });
    expect(service.startCommand().commandLine()).toBe(
      'systemctl is-active --quiet tcpdump && systemctl stop tcpdump; ' +
        'systemctl reset-failed tcpdump >/dev/null 2>&1; ' +
        "systemd-run --pty --setenv=USER='root' --setenv=GREETING='it'\\''s' --unit=tcpdump --service-type=exec " +
        'tcpdump -i eth0 -w capture.pcap',
    );
  });

  it('status with output, journal with since: quoted', () => {
    const service = new Service('env', { serviceId: 'echo-environ' });
    expect(service.statusCommand({ output: '/tmp/TICK-1.status' }).commandLine()).toBe(
      "systemctl status echo-environ > '/tmp/TICK-1.status'",
    );
    expect(service.journalCommand({ since: '5s ago' }).commandLine()).toBe(
      "journalctl --unit echo-environ --since '5s ago'",
    );
    expect(service.journalCommand({ since: "5s ago'; rm -rf /" }).commandLine()).toBe(
      "journalctl --unit echo-environ --since '5s ago'\\''; rm -rf /'",
    );
  });

  it('labels: user label wins, else "Service: <mode> <id>"; options reach the Run', () => {
    const service = new Service('sleep 1', { serviceId: 'tick' });
    expect(service.startCommand().getLabelLine()).toBe('Service: start tick');
    expect(service.stopCommand().getLabelLine()).toBe('Service: stop tick');
    expect(service.statusCommand({ output: 'x' }).getLabelLine()).toBe('Service: status tick');
    expect(service.journalCommand().getLabelLine()).toBe('Service: journal tick');
    const start = service.startCommand({ label: 'go', allowedExits: [3], env: { A: '1' } });
    expect(start.getLabelLine()).toBe('go');
    expect(start.isSuccess({ exitCode: 3, signal: null })).toBe(true);
    expect(start.env).toEqual({ A: '1' });
    expect(start.verbose).toBe(false);
    const verbose = new Service('sleep 1', { serviceId: 'tick', verbose: true });
    expect(verbose.startCommand().getLabelLine()).toBe('Service: start tick');
    expect(verbose.startCommand().verbose).toBe(true);
    expect(verbose.stopCommand({ verbose: false }).verbose).toBe(false);
  });

  it('renders a template command only when the Run runs, and shows it readable before', () => {
    const later = new Later('cmd');
    const service = new Service(later, { serviceId: 'deferred', stopIfRunning: false });
    const start = service.startCommand();
    expect(start.labelLine()).toBe('systemd-run --unit=deferred --service-type=simple {{cmd}}');
    expect(start.getLabelLine()).toBe('Service: start deferred');
    expect(() => start.commandLine()).toThrow('cmd is not set yet');
    later.value = 'sleep 5';
    expect(start.commandLine()).toBe('systemd-run --unit=deferred --service-type=simple sleep 5');
    later.value = 'sleep 6';
    expect(start.commandLine()).toBe('systemd-run --unit=deferred --service-type=simple sleep 6');
  });

  it('rejects an invalid serviceId, environ name, systemdType or command, with one-line messages', () => {
    const bad = (make: () => unknown) => {
      try {
        make();
      } catch (error) {
        expect(error).toBeInstanceOf(SshError);
        expect((error as SshError).code).toBe('ERR_INVALID_OPTION');
        expect((error as SshError).message).not.toContain('\n');
        return (error as SshError).message;
      }
      throw new Error('expected an error');
    };
    for (const serviceId of [
      'tick; rm -rf /',
      'a b',
      '$(id)',
      "it's",
      '-tick',
      '',
      'a\nb',
      'x'.repeat(256),
    ]) {
      expect(bad(() => new Service('true', { serviceId }))).toContain(
        'Expected serviceId to be a systemd unit name',
      );
    }
    expect(new Service('true', { serviceId: 'getty@tty1.service' }).serviceId).toBe('getty@tty1.service');
    expect(new Service('true', { serviceId: 'a:b_c.d-e' }).serviceId).toBe('a:b_c.d-e');
    expect(bad(() => new Service('true', { serviceId: 'x', environ: { 'A;B': '1' } }))).toContain(
      'environ names',
    );
    expect(bad(() => new Service('true', { serviceId: 'x', environ: { '1A': '1' } }))).toContain(
      'environ names',
    );
    expect(bad(() => new Service('true', { serviceId: 'x', environ: { A: 'a\0b' } }))).toContain('NUL');
    expect(bad(() => new Service('true', { serviceId: 'x', systemdType: 'simple; id' }))).toContain(
      'systemdType',
    );
    expect(bad(() => new Service('  ', { serviceId: 'x' }))).toContain('command');
    expect(bad(() => new Service('true', undefined as never))).toContain('options object');
    const service = new Service('true', { serviceId: 'x' });
    expect(bad(() => service.statusCommand({ output: '' }))).toContain('status output');
    expect(bad(() => service.journalCommand({ since: 'a\0' }))).toContain('NUL');
  });
});

describe('Service lines run under sh (dash) and bash, against recording scripts', () => {
  let dir: string;
  const nasty = 'a\'b $(touch CANARY) ; echo INJECTED `touch CANARY`\nsecond line \\ "q"';
  const since = "5s ago'; rm -rf /";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobgraph-service-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function setUp(shell: string): { bin: string; base: string } {
    const base = join(dir, shell);
    const bin = join(base, 'bin');
    mkdirSync(bin, { recursive: true });
    mkdirSync(join(base, 'state'), { recursive: true });
    for (const [name, text] of Object.entries(recordingScripts(base))) {
      writeFileSync(join(bin, name), text, { mode: 0o755 });
    }
    return { bin, base };
  }

  const service = new Service('sh -c "while true; do date; sleep 0.2; done" ', {
    serviceId: 'tick',
    tty: true,
    environ: { FOO: 'xxx-foo-xxx', BAR: nasty },
  });
  const lines = () => [
    service.startCommand().commandLine(),
    service.startCommand().commandLine(),
    service.statusCommand({ output: "status it's; x" }).commandLine(),
    service.stopCommand().commandLine(),
    service.journalCommand({ since }).commandLine(),
    new Service('sleep 1', { serviceId: 'zz', stopIfRunning: false }).startCommand().commandLine(),
  ];

  it.each(['bash', 'dash'])('every line parses with %s -n', (shell) => {
    for (const line of lines()) {
      const result = spawnSync(shell, ['-n', '-c', line], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
  });

  it.each(['sh', 'dash', 'bash'])(
    'with %s: values stay literal, the stop happens only when active',
    (shell) => {
      const { bin, base } = setUp(shell);
      for (const line of lines().slice(0, 5)) {
        const result = spawnSync(shell, ['-c', line], {
          cwd: base,
          encoding: 'utf8',
          env: { PATH: `${bin}:/usr/bin:/bin` },
          // not a socket on stdin: bash would read ~/.bashrc as if started by sshd
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      }
      const run = [
        'systemd-run',
        '--pty',
        '--setenv=FOO=xxx-foo-xxx',
        `--setenv=BAR=${nasty}`,
        '--unit=tick',
        '--service-type=simple',
        'sh',
        '-c',
        'while true; do date; sleep 0.2; done',
      ];
      expect(parseLog(readFileSync(join(base, 'log'), 'utf8'))).toEqual([
        // first start: not active, so no stop
        ['systemctl', 'is-active', '--quiet', 'tick'],
        ['systemctl', 'reset-failed', 'tick'],
        run,
        // second start: active, so stopped first
        ['systemctl', 'is-active', '--quiet', 'tick'],
        ['systemctl', 'stop', 'tick'],
        ['systemctl', 'reset-failed', 'tick'],
        run,
        ['systemctl', 'status', 'tick'],
        ['systemctl', 'stop', 'tick'],
        ['journalctl', '--unit', 'tick', '--since', since],
      ]);
      // no `rm` was called, nothing was touched, the status went to the file of that very name
      expect(existsSync(join(base, 'CANARY'))).toBe(false);
      expect(readFileSync(join(base, "status it's; x"), 'utf8')).toContain('Active: active');
    },
  );
});

describe('Service over SSH on the loopback test bed (recording systemd stand-ins)', () => {
  let node: SshNode;
  let dir = '';
  let bin = '';
  // set once the remote directory is known: an injection would leave a CANARY in it
  let nasty = '';
  const since = "5s ago'; rm -rf /";

  /** Runs a line on the node, returns its stdout. */
  async function remote(line: string): Promise<string> {
    const formatter = recorder(node);
    const start = formatter.lines.length;
    const result = await node.run(line);
    expect(result.exitCode).toBe(0);
    return formatter.lines
      .slice(start)
      .filter((output) => output.stream === 'stdout')
      .map((output) => output.linenl)
      .join('');
  }

  beforeAll(async () => {
    node = loopbackNode();
    const home = (await remote('printf "%s\\n" "$HOME"')).trim();
    expect(home.startsWith('/')).toBe(true);
    dir = `${home}/jobgraph-service-${process.pid}-${Date.now()}`;
    bin = `${dir}/bin`;
    nasty = `x'y $(touch ${dir}/CANARY); \`touch ${dir}/CANARY\` ;\nz`;
    const writes = Object.entries(recordingScripts(dir)).map(
      ([name, text]) => `printf '%s' ${shellQuote(text)} > ${shellQuote(`${bin}/${name}`)}`,
    );
    await remote(
      [
        `mkdir -p ${shellQuote(bin)} ${shellQuote(`${dir}/state`)}`,
        ...writes,
        `chmod 755 ${shellQuote(bin)}/*`,
      ].join(' && '),
    );
  });

  afterAll(async () => {
    if (node === undefined) return;
    if (/\/jobgraph-service-\d+-\d+$/.test(dir)) await node.run(`rm -rf ${shellQuote(dir)}`);
    await node.close();
  });

  it('start, status, restart, stop, journal: the argv systemd-run and systemctl see', async () => {
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const service = new Service('sh -c "while true; do date; sleep 0.2; done > /tmp/TICK.out"', {
      serviceId: 'tick',
      environ: { FOO: 'xxx-foo-xxx', BAR: nasty },
    });
    const scheduler = new Scheduler({ timeout: 20_000 });
    const statusFile = `${dir}/status it's; x`;
    const job = (command: Run) => new SshJob({ node, keepConnection: true, command });
    new Sequence(
      [
        job(service.startCommand({ env })),
        job(service.statusCommand({ env, output: statusFile })),
        job(service.startCommand({ env })),
        job(service.stopCommand({ env })),
        job(service.journalCommand({ env, since })),
      ],
      { scheduler },
    );
    expect(await scheduler.run()).toBe(true);
    expect(recorder(node).stdout()).toContain('-- fake journal --\n');

    const log = Buffer.from(await remote(`base64 < ${shellQuote(`${dir}/log`)}`), 'base64').toString('utf8');
    const run = [
      'systemd-run',
      '--setenv=FOO=xxx-foo-xxx',
      `--setenv=BAR=${nasty}`,
      '--unit=tick',
      '--service-type=simple',
      'sh',
      '-c',
      'while true; do date; sleep 0.2; done > /tmp/TICK.out',
    ];
    expect(parseLog(log)).toEqual([
      ['systemctl', 'is-active', '--quiet', 'tick'],
      ['systemctl', 'reset-failed', 'tick'],
      run,
      ['systemctl', 'status', 'tick'],
      ['systemctl', 'is-active', '--quiet', 'tick'],
      ['systemctl', 'stop', 'tick'],
      ['systemctl', 'reset-failed', 'tick'],
      run,
      ['systemctl', 'stop', 'tick'],
      ['journalctl', '--unit', 'tick', '--since', since],
    ]);
    const status = await remote(`cat ${shellQuote(statusFile)}`);
    expect(status).toContain('Loaded: loaded');
    expect(status).toContain('Active: active');
    // nothing injected ran: no CANARY (and no `rm` in the log above)
    expect((await remote(`ls -A ${shellQuote(dir)}`)).split('\n').filter(Boolean).sort()).toEqual(
      ['bin', 'log', 'state', "status it's; x"].sort(),
    );
  });

  it('a template command is rendered when the start Run runs, from a value set by an earlier job', async () => {
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const later = new Later('command');
    const service = new Service(later, { serviceId: 'later@1', stopIfRunning: false });
    const start = service.startCommand({ env });
    expect(start.labelLine()).toBe('systemd-run --unit=later@1 --service-type=simple {{command}}');
    await remote(`: > ${shellQuote(`${dir}/log`)}`);
    const scheduler = new Scheduler({ timeout: 20_000 });
    new Sequence(
      [
        new Job(async () => {
          later.value = 'sleep 42';
        }),
        new SshJob({ node, keepConnection: true, command: start }),
      ],
      { scheduler },
    );
    expect(await scheduler.run()).toBe(true);
    const log = Buffer.from(await remote(`base64 < ${shellQuote(`${dir}/log`)}`), 'base64').toString('utf8');
    expect(parseLog(log)).toEqual([
      ['systemd-run', '--unit=later@1', '--service-type=simple', 'sleep', '42'],
    ]);
  });

  it('a command with shell syntax is the unit whole (/bin/sh -c): nothing of it runs in the session', async () => {
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const marker = `${dir}/ran-in-session`;
    const command = `sleep 100; echo after > ${shellQuote(marker)}`;
    const later = new Later('command');
    later.value = `tcpdump -w x.pcap > log 2>&1 && echo $GREETING`;
    await remote(`: > ${shellQuote(`${dir}/log`)}`);
    for (const service of [
      new Service(command, { serviceId: 'whole', stopIfRunning: false }),
      new Service(later, { serviceId: 'whole2', stopIfRunning: false }),
    ]) {
      const job = new SshJob({ node, keepConnection: true, command: service.startCommand({ env }) });
      expect(await new Scheduler({ jobs: [job], timeout: 20_000 }).run()).toBe(true);
    }
    // the session ran systemd-run only: the recording stand-in starts nothing
    expect(await remote(`test -e ${shellQuote(marker)} && echo yes || echo no`)).toBe('no\n');
    const log = Buffer.from(await remote(`base64 < ${shellQuote(`${dir}/log`)}`), 'base64').toString('utf8');
    expect(parseLog(log)).toEqual([
      ['systemd-run', '--unit=whole', '--service-type=simple', '/bin/sh', '-c', command],
      ['systemd-run', '--unit=whole2', '--service-type=simple', '/bin/sh', '-c', later.value],
    ]);
  });
});
