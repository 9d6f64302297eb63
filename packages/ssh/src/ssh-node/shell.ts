/**
 * Command lines for the remote login shell (POSIX sh): quoting, and environment variables
 * passed in the command line itself.
 */
import { SshError, SshErrorCode } from '../errors.js';

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` is an environment variable's name a shell takes (POSIX): letters, digits and `_`, not first a digit. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * `export NAME='value'; …` for each variable, or '' for none: sshd accepts `env` requests only
 * for names listed in AcceptEnv, so they go through the command line, quoted.
 */
export function envExports(env: Readonly<Record<string, string>> | undefined): string {
  const exports = Object.entries(env ?? {}).map(([name, value]) => {
    if (!isEnvName(name)) {
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Invalid environment variable name: ${JSON.stringify(name)}`,
      );
    }
    return `export ${name}=${shellQuote(value)}`;
  });
  return exports.join('; ');
}

/** The command after the `export`s of its environment, on a line of their own. */
export function withEnv(command: string, env: Readonly<Record<string, string>> | undefined): string {
  const exports = envExports(env);
  return exports === '' ? command : `${exports}\n${command}`;
}
