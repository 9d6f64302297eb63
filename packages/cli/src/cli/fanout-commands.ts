/**
 * The commander declarations of `jobgraph ssh`, `push` and `pull`, with their help and examples.
 */
import { type Command, Option } from 'commander';
import type { Io } from './run.js';
import { addTargetOptions } from './target-options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

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
    .addHelpText(
      'after',
      `${TARGET_HELP}${EXIT_HELP}

Examples:
  jobgraph ssh -t fit[01-37] -g inria_r2lab@faraday.inria.fr uname -a
  jobgraph ssh -t nodes.txt -x fit05 -w 10 'apt-get update && apt-get install -y iperf3'
  jobgraph ssh -t fit[01-37] -o out --mark cat /etc/hostname; jobgraph ssh -t out/1failed -o out2 --mark reboot
  jobgraph ssh -t fit01,fit02 -s setup.sh --quick     run a local script with an argument
  jobgraph ssh -t fit01 -s 'echo "$1" > /tmp/x' hello run a script text
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
name, {fqdn} the full one, {user} the login of each target.
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
