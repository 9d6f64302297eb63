/**
 * What RunScript and RunString share: copying a script (and its includes) to the node,
 * under `~/.jobgraph-remote/` (mode 0700, in a directory of mode 0700), then running it.
 * Each command object gets its own file name (a random suffix chosen once), so that two
 * commands never rewrite a file that the other is executing ("Text file busy").
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { temporaryName } from '../fs/temporary-name.js';
import { LocalNode } from '../local-node.js';
import type { CommandResult } from '../node.js';
import { type CommandIoOptions, commandIo } from '../run-options.js';
import { shellQuote } from '../ssh-node/shell.js';
import { SshNode } from '../ssh-node.js';
import {
  AbstractCommand,
  type Arg,
  COMMAND_OPTION_KEYS,
  type CommandContext,
  type CommandOptions,
  checkCommandOptions,
  IO_OPTION_KEYS,
  isRenderable,
  renderArg,
  showArg,
} from './command.js';
import { pushTemporary } from './transfer-file.js';

/** The directory, under the home of the node's user, where scripts are copied. */
export const REMOTE_DIR = '.jobgraph-remote';

/** Options of {@link RunScript} and {@link RunString}. */
export interface ScriptOptions extends CommandOptions, CommandIoOptions {
  /** Local files copied next to the script (it can `source "$(dirname "$0")/lib.sh"`). */
  includes?: string[];
  /** Forward X11 to the local `$DISPLAY`. @default false */
  x11?: boolean;
}

/** A file name safe in a shell word: letters, digits, `._-`, the rest replaced by `_`. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return cleaned === '' ? 'script' : cleaned;
}

/** 8 random lowercase letters and digits. */
export function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(8), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** The options every script command takes. */
const SCRIPT_OPTION_KEYS = [...COMMAND_OPTION_KEYS, ...IO_OPTION_KEYS, 'includes', 'x11'];

/**
 * The arguments of a script: a list of words, or one word (apssh's `RunString(body, "hello")`,
 * whose string was spread into one argument per character).
 */
function scriptArgs(where: string, args: unknown): Arg[] {
  const words = Array.isArray(args) ? args : [args];
  for (const word of words) {
    if (!(typeof word === 'string' || typeof word === 'number' || isRenderable(word)))
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `Expected the arguments of ${where} to be a list of words (strings, numbers or templates), got ${word === null ? 'null' : typeof word}${typeof word === 'object' && !Array.isArray(args) ? ' (options go third: new ' + where + '(script, [], options))' : ''}`,
      );
  }
  return [...words] as Arg[];
}

/** The content of the script to install: a local file path, or the text itself. */
export type ScriptSource = { readonly file: string } | { readonly text: string };

export abstract class ScriptCommand extends AbstractCommand {
  readonly args: readonly Arg[];
  readonly includes: readonly string[];
  readonly x11: boolean;
  /** `stdin`, `encoding`, `idleTimeout`, as given (they apply to the script's run, not to its copy). */
  readonly io: Readonly<CommandIoOptions>;
  /** The file name on the node, chosen once. */
  readonly remoteName: string;

  /**
   * @param extraKeys - the options of the class beyond a script's; undefined for a subclass of
   *   the user's, whose options are its own (only the object is checked then)
   */
  constructor(
    baseName: string,
    args: readonly Arg[] | Arg,
    options: ScriptOptions,
    extraKeys: readonly string[] | undefined,
  ) {
    checkCommandOptions(
      new.target.name,
      options,
      extraKeys === undefined ? undefined : [...SCRIPT_OPTION_KEYS, ...extraKeys],
    );
    super(options);
    this.args = scriptArgs(new.target.name, args);
    this.includes = [...(options.includes ?? [])];
    // each include is copied under its own name: two of one name would race for one remote file
    const names = new Map<string, string>();
    for (const include of this.includes) {
      const other = names.get(basename(include));
      if (other !== undefined && other !== include)
        throw new SshError(
          SshErrorCode.INVALID_OPTION,
          `Include files ${other} and ${include} have the same name: both would be copied beside the script as ${basename(include)}`,
        );
      names.set(basename(include), include);
    }
    this.x11 = options.x11 ?? false;
    this.io = commandIo(options);
    this.remoteName = `${safeName(baseName)}-${randomSuffix()}`;
  }

  /** Where the script's content comes from. */
  protected abstract source(): ScriptSource;

  protected argsLine(): string {
    return this.args.map(renderArg).join(' ');
  }

  protected argsLabel(): string {
    return this.args.map(showArg).join(' ');
  }

  async execute(ctx: CommandContext): Promise<CommandResult> {
    const source = this.source();
    const { node } = ctx;
    // the script is installed readable by the login only (0700: it may hold secrets): a user other
    // than root or the login could not run it ('Permission denied', exit 126, after the copy)
    const sudo = this.io.sudo;
    const login = node instanceof SshNode || node instanceof LocalNode ? node.username : undefined;
    if (
      sudo !== undefined &&
      sudo !== true &&
      sudo.user !== undefined &&
      !['root', '#0', login].includes(sudo.user)
    )
      throw new SshError(
        SshErrorCode.INVALID_OPTION,
        `${this.constructor.name} under sudo as ${sudo.user}: the script is installed readable by the login only (mode 0700), so only root or ${login ?? 'the login'} can run it; use Run with sudo: { user: ${JSON.stringify(sudo.user)} }`,
      );
    let path: string;
    if (node instanceof SshNode)
      path = await installRemote(node, this.remoteName, source, this.includes, ctx.signal);
    else if (node instanceof LocalNode) path = await installLocal(this.remoteName, source, this.includes);
    else throw new SshError(SshErrorCode.INVALID_OPTION, `Cannot install a script on ${String(node)}`);
    const args = this.argsLine();
    const line = `${this.verbose ? 'bash -x ' : ''}${path}${args === '' ? '' : ` ${args}`}`;
    this.say(ctx, `${this.constructor.name}: -> ${line}`);
    const result = await this.runLine(ctx, line, { x11: this.x11, ...this.io });
    return result;
  }
}

async function checkLocalFile(path: string, what: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    throw new SshError(SshErrorCode.LOCAL_FILE, `${what} ${path} not found`);
  }
  // read later, a directory failed as "Cannot copy the script …: EISDIR", naming neither it nor what it was
  if (!isFile) throw new SshError(SshErrorCode.LOCAL_FILE, `${what} ${path} is not a file (a directory?)`);
}

/** Copies the script and its includes over SFTP; returns the path to run (relative to the remote home). */
async function installRemote(
  node: SshNode,
  name: string,
  source: ScriptSource,
  includes: readonly string[],
  signal: AbortSignal,
): Promise<string> {
  if ('file' in source) await checkLocalFile(source.file, 'Script');
  for (const include of includes) await checkLocalFile(include, 'Include file');
  const sftp = await node.sftp(signal);
  const where = `${node.toString()}:~/${REMOTE_DIR}`;
  let home: string;
  try {
    // the login's home, absolute: under sudo, "$HOME" is the other user's
    home = await sftp.realpath('.');
    await sftp.mkdir(REMOTE_DIR, 0o700);
    await sftp.chmod(REMOTE_DIR, 0o700);
    const dir = scriptDir(name, includes, posix.join);
    if (dir !== REMOTE_DIR) await sftp.mkdir(dir, 0o700);
    const target = `${dir}/${name}`;
    if ('file' in source) await sftp.put(source.file, target, { mode: 0o700 });
    else await sftp.writeFile(target, source.text, 0o700);
    await sftp.chmod(target, 0o700);
    // each include through a temporary, renamed over the last copy: scripts running now may be
    // sourcing it (rewritten in place, they read it half-written: 'libfunc: not found')
    await Promise.all(
      includes.map(async (include) => {
        const final = `${dir}/${basename(include)}`;
        const temporary = pushTemporary(final);
        try {
          await sftp.put(include, temporary, {});
          await sftp.rename(temporary, final);
        } catch (error) {
          await sftp.unlink(temporary).catch(() => undefined);
          throw error;
        }
      }),
    );
  } catch (error) {
    throw new SshError(SshErrorCode.SFTP, `Cannot copy the script to ${where}: ${messageOf(error)}`, {
      cause: error,
      node: node.toString(),
    });
  }
  return shellQuote(posix.join(home, scriptDir(name, includes, posix.join), name));
}

/**
 * Where a script is installed, relative to the home: `.jobgraph-remote`, or, with includes, a
 * directory of its own there (`.jobgraph-remote/<name>.d`): the includes of two scripts running at
 * once, of one name and different contents, were one file, and one script sourced the other's.
 */
function scriptDir(
  name: string,
  includes: readonly string[],
  joinPath: (...parts: string[]) => string,
): string {
  return includes.length === 0 ? REMOTE_DIR : joinPath(REMOTE_DIR, `${name}.d`);
}

/** The same on this machine, under the local user's home. */
async function installLocal(
  name: string,
  source: ScriptSource,
  includes: readonly string[],
): Promise<string> {
  if ('file' in source) await checkLocalFile(source.file, 'Script');
  for (const include of includes) await checkLocalFile(include, 'Include file');
  const top = join(homedir(), REMOTE_DIR);
  await mkdir(top, { recursive: true, mode: 0o700 });
  await chmod(top, 0o700);
  const dir = join(homedir(), scriptDir(name, includes, join));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, name);
  if ('file' in source) await copyFile(source.file, target);
  else await writeFile(target, source.text);
  await chmod(target, 0o700);
  // through a temporary, as on a remote node: scripts running now may be sourcing the last copy
  await Promise.all(
    includes.map(async (include) => {
      const final = join(dir, basename(include));
      const temporary = join(dir, temporaryName(basename(include), 'jobgraph'));
      try {
        await copyFile(include, temporary);
        await rename(temporary, final);
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
    }),
  );
  return shellQuote(join(dir, name));
}
