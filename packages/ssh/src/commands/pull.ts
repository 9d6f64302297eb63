/**
 * Pull: files of the node to this machine, over SFTP (apssh's `Pull`).
 */
import { stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { SshError, SshErrorCode } from '../errors.js';
import { LocalNode } from '../local-node.js';
import type { CommandResult } from '../node.js';
import { SshNode } from '../ssh-node.js';
import { AbstractCommand, type CommandContext, checkCommandOptions } from './command.js';
import {
  bounded,
  cancellable,
  checkPaths,
  copyLocal,
  firstOf,
  pullPath,
  sftpError,
  TRANSFER_OPTION_KEYS,
  type TransferOptions,
  transferredBytes,
} from './transfer.js';

/**
 * Copies remote files (directories with `recurse`) to `localPath`. With several
 * sources, or when `localPath` is an existing directory, each lands inside it under its
 * own name. Relative remote paths start at the user's home.
 *
 * @example
 * ```ts
 * new Pull('/var/log/syslog', 'logs/syslog-fit01')
 * ```
 */
export class Pull extends AbstractCommand {
  readonly remotePaths: readonly string[];
  readonly localPath: string;
  readonly options: TransferOptions;

  constructor(remotePaths: string | readonly string[], localPath: string, options: TransferOptions = {}) {
    checkCommandOptions('Pull', options, new.target === Pull ? TRANSFER_OPTION_KEYS : undefined);
    super(options);
    this.remotePaths = typeof remotePaths === 'string' ? [remotePaths] : [...remotePaths];
    checkPaths('Pull', this.remotePaths, localPath);
    if (this.remotePaths.length === 0) {
      throw new SshError(SshErrorCode.INVALID_OPTION, 'Expected Pull to be given at least one remote path');
    }
    this.localPath = localPath;
    this.options = options;
  }

  /** `Pull: a ... (3 total) into dir` */
  labelLine(): string {
    return `Pull: ${firstOf(this.remotePaths)} into ${this.localPath}`;
  }

  async execute(ctx: CommandContext): Promise<CommandResult> {
    this.say(ctx, `Pull: remotepaths=${this.remotePaths.join(', ')}, localpath=${this.localPath}`);
    const { node } = ctx;
    const intoDirectory = await isDirectory(this.localPath);
    // the local side checked before anything is read: a missing directory was a rename's ENOTDIR
    const where = this.localPath.endsWith('/') ? this.localPath : dirname(this.localPath);
    // (a recursive Pull makes its destination, and the directories above it, itself)
    if (!intoDirectory && this.options.recurse !== true && !(await isDirectory(where))) {
      throw new SshError(
        SshErrorCode.LOCAL_FILE,
        `Pull of ${firstOf(this.remotePaths)} into ${this.localPath}: no local directory ${where} (make it first)`,
      );
    }
    if (this.remotePaths.length > 1 && !intoDirectory) {
      throw new SshError(
        SshErrorCode.LOCAL_FILE,
        `Pull of ${firstOf(this.remotePaths)}: with several files, ${this.localPath} must be an existing directory`,
      );
    }
    if (node instanceof LocalNode) {
      await copyLocal(this.remotePaths, this.localPath, this.options);
      return { exitCode: 0, signal: null };
    }
    if (!(node instanceof SshNode))
      throw new SshError(SshErrorCode.INVALID_OPTION, `Cannot pull from ${String(node)}`);
    let bytes = 0;
    await node.using(() =>
      cancellable(node, ctx.signal, async () => {
        const sftp = await node.sftp(ctx.signal);
        const jobs: Array<() => Promise<void>> = [];
        for (const remote of this.remotePaths) {
          const what = `Pull of ${remote}`;
          try {
            const target = intoDirectory ? join(this.localPath, posix.basename(remote)) : this.localPath;
            await pullPath(sftp, remote, target, this.options, jobs, {
              signal: ctx.signal,
              onResume: (file, offset, size) =>
                this.say(ctx, `Pull: resuming ${file} at byte ${offset} of ${size}`),
            });
          } catch (error) {
            throw sftpError(what, node.toString(), error);
          }
        }
        try {
          await bounded(jobs, ctx.signal);
          bytes = transferredBytes(jobs);
        } catch (error) {
          throw sftpError(
            `Pull of ${firstOf(this.remotePaths)} into ${this.localPath}`,
            node.toString(),
            error,
          );
        }
      }),
    );
    this.say(ctx, 'Pull done');
    return { exitCode: 0, signal: null, bytes };
  }
}

/** Whether `path` is a directory (following links). */
function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
