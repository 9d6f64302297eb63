/**
 * Push: local files to the node, over SFTP (apssh's `Push`).
 */
import { access } from 'node:fs/promises';
import { basename, posix } from 'node:path';
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
  pushPath,
  removeTemporaries,
  sftpError,
  TRANSFER_OPTION_KEYS,
  type TransferOptions,
  transferredBytes,
} from './transfer.js';

/**
 * Copies local files (directories with `recurse`) to `remotePath` on the node. With
 * several sources, or when `remotePath` is an existing directory, each lands inside it
 * under its own name. Relative remote paths start at the user's home.
 *
 * @example
 * ```ts
 * new Push(['config.yaml', 'data/'], 'experiment/', { recurse: true, preserve: true })
 * ```
 */
export class Push extends AbstractCommand {
  readonly localPaths: readonly string[];
  readonly remotePath: string;
  readonly options: TransferOptions;

  constructor(localPaths: string | readonly string[], remotePath: string, options: TransferOptions = {}) {
    checkCommandOptions('Push', options, new.target === Push ? TRANSFER_OPTION_KEYS : undefined);
    super(options);
    this.localPaths = typeof localPaths === 'string' ? [localPaths] : [...localPaths];
    checkPaths('Push', this.localPaths, remotePath);
    if (this.localPaths.length === 0) {
      throw new SshError(SshErrorCode.INVALID_OPTION, 'Expected Push to be given at least one local path');
    }
    this.remotePath = remotePath;
    this.options = options;
  }

  /** `Push: a ... (3 total) onto dir` */
  labelLine(): string {
    return `Push: ${firstOf(this.localPaths)} onto ${this.remotePath}`;
  }

  async execute(ctx: CommandContext): Promise<CommandResult> {
    for (const local of this.localPaths) {
      await access(local).catch(() => {
        throw new SshError(SshErrorCode.LOCAL_FILE, `Push: local file ${local} not found`);
      });
    }
    this.say(ctx, `Push: localpaths=${this.localPaths.join(', ')}, remotepath=${this.remotePath}`);
    const { node } = ctx;
    if (node instanceof LocalNode) {
      await copyLocal(this.localPaths, this.remotePath, this.options);
      return { exitCode: 0, signal: null };
    }
    if (!(node instanceof SshNode))
      throw new SshError(SshErrorCode.INVALID_OPTION, `Cannot push to ${String(node)}`);
    let bytes = 0;
    await node.using(() =>
      cancellable(node, ctx.signal, async () => {
        const sftp = await node.sftp(ctx.signal);
        const what = `Push of ${firstOf(this.localPaths)} to ${this.remotePath}`;
        const jobs: Array<() => Promise<void>> = [];
        try {
          const existing = await sftp.stat(this.remotePath);
          const intoDirectory = existing?.isDirectory ?? false;
          if (this.localPaths.length > 1 && !intoDirectory) {
            throw new SshError(
              SshErrorCode.SFTP,
              `${what}: with several files, ${this.remotePath} must be an existing directory on ${node.toString()}`,
            );
          }
          for (const local of this.localPaths) {
            const target = intoDirectory ? posix.join(this.remotePath, basename(local)) : this.remotePath;
            await pushPath(sftp, local, target, this.options, jobs);
          }
          await bounded(jobs, ctx.signal);
          bytes = transferredBytes(jobs);
        } catch (error) {
          await removeTemporaries(node, jobs);
          const failure = sftpError(what, node.toString(), error);
          // the local files were checked: a missing file is on the node's side, its directory
          if (failure.message.endsWith(': no such file or directory')) {
            const directory = this.remotePath.endsWith('/')
              ? this.remotePath
              : posix.dirname(this.remotePath);
            throw new SshError(
              SshErrorCode.SFTP,
              `${failure.message} (is there a directory ${directory} on the node?)`,
              {
                cause: error,
                node: node.toString(),
              },
            );
          }
          throw failure;
        }
      }),
    );
    this.say(ctx, 'Push done');
    return { exitCode: 0, signal: null, bytes };
  }
}
