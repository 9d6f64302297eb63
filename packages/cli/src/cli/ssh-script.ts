/**
 * `jobgraph ssh -s`: the script (a local file, or the first word as its text) and its `-i`
 * includes, read once, copied to each target under `~/.jobgraph-remote/` (mode 0700, as
 * RunScript does) with node.fs as that target's step before its command (Fleet's `prepare`,
 * ssh-fleet.ts), then run by the fleet like any command, so that `--stdin`, `--sudo`,
 * `--host-args` and the timeouts apply to scripts too. After the run, the script's copy is
 * removed (the includes, of fixed names, stay, as with apssh).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { REMOTE_DIR, type SshNode, shellQuote } from '@jobgraph/ssh';
import { UsageError } from './errors.js';
import { isUnreachable } from './fanout.js';
import type { FleetCommandPlan } from './ssh-fleet.js';
import { quotedTemplateWord, readOptionFile } from './ssh-inputs.js';

/** A file to copy: its name on the target, its bytes, its mode there. */
interface ScriptFile {
  readonly name: string;
  readonly body: Buffer;
  readonly mode: number;
}

/** The script and its includes, as read before the run. */
export interface Script {
  readonly script: ScriptFile;
  readonly includes: readonly ScriptFile[];
}

/** Whether the first word of `-s` names a local file (else it is the script's text). */
export function isScriptFile(word: string | undefined): boolean {
  return word !== undefined && existsSync(word) && statSync(word).isFile();
}

/** A file name safe in a shell word: letters, digits, `._-`, the rest replaced by `_` (as RunScript's). */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return cleaned === '' ? 'script' : cleaned;
}

/** Reads the script (or takes the word as its text) and the includes, once for every target. */
export async function readScript(first: string, includes: readonly string[]): Promise<Script> {
  // each include is copied under its own name: two of one name would race for one remote file
  const seen = new Map<string, string>();
  for (const path of includes) {
    const other = seen.get(basename(path));
    if (other !== undefined && other !== path)
      throw new UsageError(
        `-i ${path}: ${other} has the same name, and both would be copied to ~/${REMOTE_DIR}/${basename(path)}: rename one`,
      );
    seen.set(basename(path), path);
  }
  const file = isScriptFile(first);
  const script: ScriptFile = {
    name: file ? safeName(basename(first)) : 'string',
    body: file ? await readOptionFile('-s', first) : Buffer.from(first),
    mode: 0o700,
  };
  const read = async (path: string): Promise<ScriptFile> => {
    const body = await readOptionFile('-i', path);
    // as scp would: the include's own mode, less write for group and others (an executable stays one)
    const mode = ((await stat(path)).mode & 0o777 & ~0o022) | 0o400;
    return { name: basename(path), body, mode };
  };
  return { script, includes: await Promise.all(includes.map(read)) };
}

/** The script's arguments on the command line: each one word, quoted; with --host-args, a template. */
export function scriptArguments(args: readonly string[], templated: boolean): string {
  return args.map((arg) => (templated ? quotedTemplateWord(arg, shellQuote) : shellQuote(arg))).join(' ');
}

/**
 * Copies the script and its includes into `~/.jobgraph-remote/` on the node. It connects first,
 * so that a host that cannot be reached fails with the connection's error (counted unreachable),
 * not with the first SFTP call's.
 */
async function install(node: SshNode, name: string, files: Script, signal: AbortSignal): Promise<void> {
  const { fs } = node;
  signal.throwIfAborted();
  await node.connect();
  try {
    await fs.mkdir(REMOTE_DIR, { recursive: true, mode: 0o700, signal });
    await fs.chmod(REMOTE_DIR, 0o700, { signal });
    await fs.writeFile(`${REMOTE_DIR}/${name}`, files.script.body, { mode: 0o700, signal });
    await Promise.all(
      files.includes.map((include) =>
        fs.writeFile(`${REMOTE_DIR}/${include.name}`, include.body, { mode: include.mode, signal }),
      ),
    );
  } catch (error) {
    // an unreachable host is said so (its mark reads "unreachable: Cannot connect to …")
    if (signal.aborted || isUnreachable(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot copy the script to ${node.toString()}:~/${REMOTE_DIR}: ${why}`, { cause: error });
  }
}

/**
 * What every target runs with `-s`: the script, copied under a name of this run's (a random
 * suffix: two runs never rewrite each other's copy), then run with the arguments; the copy is
 * removed after the run (`cleanup`). The path is relative to the login directory, where SFTP puts
 * the copy and where sshd starts the command (sudo keeps it, where `$HOME` would be root's), so
 * the line is the same on every target: one template for Fleet with `--host-args`. Two targets
 * that are one account write the same bytes to the same name (atomically); the removal waits for
 * every command of the run, so one never removes the copy the other is about to run.
 */
export function scriptPlan(files: Script, args: readonly string[], templated: boolean): FleetCommandPlan {
  const name = `${files.script.name}-${randomBytes(4).toString('hex')}`;
  // the name is safe as a shell word, and holds no brace (a template leaves it as it is)
  const path = `${REMOTE_DIR}/${name}`;
  const argumentLine = scriptArguments(args, templated);
  return {
    line: argumentLine === '' ? path : `${path} ${argumentLine}`,
    prepare: (node, signal) => install(node, name, files, signal),
    cleanup: (node, signal) => node.fs.rm(path, { force: true, signal }),
  };
}
