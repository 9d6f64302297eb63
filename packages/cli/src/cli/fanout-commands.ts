/**
 * The commander declarations of `jobgraph ssh`, `push` and `pull`, with their help and examples:
 * light on purpose (commander only), since `jobgraph --help` loads them. What the commands do,
 * and the zod validation of their options (target-options.ts), is loaded when one runs.
 */
import { type Command, Option } from 'commander';
import type { Io } from './run.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds the target, connection and run options to a fan-out command (validated by target-options.ts). */
function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '-t, --target <targets>',
        'targets (repeatable): hosts, user@host[:port], gw->host, None->host, fit[01-37], node{1..4}, ' +
          'lists split on spaces and commas, a file of targets or a directory of host names ' +
          '(also looked up in ~/.jobgraph/)',
      ).argParser(collect),
    )
    .addOption(
      new Option('-x, --exclude <targets>', 'targets to leave out (repeatable), same forms as -t').argParser(
        collect,
      ),
    )
    .option('-l, --login <user>', 'the user of targets and gateways that name none (default: the local user)')
    .option('-g, --gateway <[user@]host[:port]>', 'the gateway of targets that name none (a->b chains too)')
    .option('-p, --port <port>', 'the SSH port of targets that name none (default: 22)')
    .option(
      '-F, --ssh-config <file>',
      'read host aliases, users, ports, keys and ProxyJump from this ssh config ("none": no config; ' +
        'default: ~/.ssh/config when it exists)',
    )
    .addOption(
      new Option(
        '-k, --key <file>',
        'a private key file (repeatable); exactly these, not the agent',
      ).argParser(collect),
    )
    .option(
      '-K, --ok-if-no-key',
      'go on even when no key is found (the agent or the server may still let you in)',
    )
    .option('--known-hosts <file>', 'the known_hosts file (default: the ssh config, else ~/.ssh/known_hosts)')
    .addOption(
      new Option(
        '--host-key-policy <policy>',
        'host key checking (default: the ssh config, else accept-new)',
      ).choices(['strict', 'accept-new', 'off']),
    )
    .option('-c, --connect-timeout <duration>', 'limit to connect, in seconds or as 30s, 2m (default: 30s)')
    .option(
      '--timeout <duration>',
      'limit for the command on each target, in seconds or as 30s, 2m (default: none)',
    )
    .option('-w, --window <n>', 'at most this many targets at once; 0: no limit (default: 0)')
    .option(
      '-L, --list-targets',
      'print the targets, one per line (user@host or gwuser@gw->user@host), and exit',
    )
    .option('-n, --dry-run', 'print the selected and excluded targets and what would run, without connecting')
    .option('-v, --verbose', 'show connections, sessions and the progress of each target on stderr')
    .option('-D, --debug', 'as -v, with stack traces on errors');
}

const TARGET_HELP = `
Targets (-t, repeatable; -x takes the same forms):
  fit01  root@fit01  fit01:2222  [::1]:2222     a host, its user and port
  faraday->fit01  None->fit01  a->b->fit01      its own gateway(s); None: direct despite -g
  fit[01-37]  fit[1,3,5-7]  node{1..4}  {amf,upf}  ranges
  "fit01 fit02,fit03"                           lists, split on spaces and commas
  nodes.txt                                     a file of targets (# comments), also ~/.jobgraph/nodes.txt
  out/1failed                                   a directory whose file names are targets (see --mark)
  an ssh config alias (-F, default ~/.ssh/config): its HostName, User, Port, IdentityFile, ProxyJump
`;

const EXIT_HELP = `
Exit code: 0 when every target returned 0; 1 otherwise; 2 for a bad command line;
130 after Ctrl-C (the remote processes are killed, the connections closed); 143, 129 after SIGTERM, SIGHUP.
A summary line on stderr counts the targets that succeeded, failed, were unreachable.`;

/** Adds `ssh`, `push` and `pull` to the program; `done(code)` receives each command's exit code. */
export function addFanoutCommands(program: Command, io: Io, done: (code: number) => void): void {
  const ssh = program
    .command('ssh')
    .description('run a command on many hosts at once, through gateways (apssh)')
    .argument('[command...]', 'the command, run by the remote shell (quote ; | > to send them)')
    // everything after the first word of the command belongs to the command
    .passThroughOptions();
  addTargetOptions(ssh)
    .option('-s, --script', 'the first word is a local script to copy and run (else: the script text itself)')
    .addOption(
      new Option('-i, --include <file>', 'a file copied next to the script (repeatable; with -s)').argParser(
        collect,
      ),
    )
    .option('-r, --raw', 'output lines as they come, without the host')
    .option('--time', "prefix output lines with the time and the host (apssh's -tc, also accepted)")
    .option(
      '-f, --format <format>',
      'output format: {host} {fqdn} {user} {time} {line} {linenl} {nl} and %H:%M strftime codes',
    )
    .option(
      '-o, --out-dir <dir>',
      "write each target's output into DIR/<target> (stderr: DIR/<target>.err), named as written",
    )
    .option('-d, --date-time', 'as -o, into a directory named after the time: 2026-11-25@14:05')
    .option(
      '-m, --mark',
      'with -o or -d: DIR/0ok/<target> for targets that returned 0, DIR/1failed/<target> for the others',
    )
    .option('--stdin <file>', "the command's standard input on every target: a file's bytes, or - for ours")
    .option(
      '--encoding <encoding>',
      'the encoding of the output, shown as UTF-8 text in every format (-r and -o too): utf-8 (default), latin1, utf-16le…',
    )
    .option(
      '--idle-timeout <duration>',
      'stop a command that prints nothing for this long, in seconds or as 30s, 2m (default: none)',
    )
    .option(
      '--host-args <file>',
      'YAML or JSON: per-target arguments, a list in target order or a map keyed by target name; ' +
        'the command is then a template: {0} {1}… {name} (inserted quoted; {{ }} for braces)',
    )
    .option('--sudo', 'run the command under sudo (as root)')
    .option(
      '--sudo-password-file <file>',
      "the sudo password: the file's first line (implies --sudo; never give it on the command line)",
    )
    .addHelpText(
      'after',
      `${TARGET_HELP}${EXIT_HELP}

Examples:
  jobgraph ssh -t fit[01-37] -g inria_r2lab@faraday.inria.fr uname -a
  jobgraph ssh -t nodes.txt -x fit05 -w 10 'apt-get update && apt-get install -y iperf3'
  jobgraph ssh -t fit[01-37] -o out --mark cat /etc/hostname; jobgraph ssh -t out/1failed -o out2 --mark reboot
  jobgraph ssh -t fit01,fit02 -s setup.sh --quick     run a local script with an argument
  jobgraph ssh -t fit01 -s 'echo "$1" > /tmp/x' hello run a script text
  jobgraph ssh -t fit01,fit02 --host-args roles.yaml 'systemctl restart {0}'
  jobgraph ssh -t fit01 --stdin config.json --sudo 'tee /etc/myapp.json'
  jobgraph ssh -L -t "faraday->fit[01-03] None->localhost"`,
    )
    .action(async (words: string[], raw: unknown) => {
      const { sshCommand } = await import('./ssh.js');
      done(await sshCommand(words, raw, io));
    });

  for (const mode of ['push', 'pull'] as const) {
    const command = program
      .command(mode)
      .description(
        mode === 'push'
          ? 'copy local files to many hosts at once (appush)'
          : 'copy files from many hosts at once (appull)',
      )
      // optional for commander, so that -L and -n work without paths; checked by the command
      .argument('[paths...]', mode === 'push' ? 'LOCAL… @:REMOTE' : '@:REMOTE… LOCAL');
    addTargetOptions(command)
      .option('-r, --recursive', 'copy directories with their content')
      .option('--preserve', 'keep modes and modification times')
      .addHelpText(
        'after',
        `
Remote paths start with @: (@: alone is the remote home). In every path, {host} is the short host
name, {fqdn} the full one, {user} the login, {port} the port of each target.
${TARGET_HELP}${EXIT_HELP}

Examples:
${
  mode === 'push'
    ? `  jobgraph push -t fit[01-37] -g faraday setup.sh config/ -r @:/tmp/
  jobgraph push -t nodes.txt conf/{host}.conf @:/etc/myapp.conf`
    : `  jobgraph pull -t fit[01-37] -g faraday @:/var/log/syslog logs/{host}.log
  jobgraph pull -t nodes.txt -r @:results/ collected/{host}/`
}`,
      )
      .action(async (paths: string[], raw: unknown) => {
        const { copyCommand } = await import('./copy.js');
        done(await copyCommand(mode, paths, raw, io));
      });
  }
}
