/**
 * apssh's `-tc` (time-colon format) is two letters behind one dash, which no option parser reads
 * as one option: commander would take it as `-t c`, a target named "c". Among the options of
 * `jobgraph ssh` (before the command's first word), `-tc` is rewritten to `--time`.
 */

/**
 * The options of `jobgraph ssh` that take a value (the next word, unless written `--opt=value`);
 * a test holds it to the command's own options (a missing one read its value as the command's
 * first word, and a `-tc` after it as a target "c").
 */
export const TAKES_VALUE = new Set([
  '-t',
  '--target',
  '-x',
  '--exclude',
  '-l',
  '--login',
  '-g',
  '--gateway',
  '-p',
  '--port',
  '-F',
  '--ssh-config',
  '-k',
  '--key',
  '--known-hosts',
  '--host-key-policy',
  '-c',
  '--connect-timeout',
  '--timeout',
  '-w',
  '--window',
  '-i',
  '--include',
  '-f',
  '--format',
  '-o',
  '--out-dir',
  '--stdin',
  '--encoding',
  '--idle-timeout',
  '--host-args',
  '--sudo-password-file',
]);

/** `argv` (after `jobgraph`) with apssh's `-tc` turned into `--time` among the options of `ssh`. */
export function rewriteApsshOptions(argv: readonly string[]): string[] {
  const words = [...argv];
  if (words[0] !== 'ssh') return words;
  for (let index = 1; index < words.length; index++) {
    const word = words[index] as string;
    if (word === '--' || !word.startsWith('-')) break;
    if (word === '-tc') words[index] = '--time';
    else if (TAKES_VALUE.has(word)) index++;
  }
  return words;
}
