/**
 * Our view of an SSH connection: what nodes and commands need, and nothing of ssh2.
 * `ssh2.ts` is its only implementation, and the only module that imports ssh2 (nodes
 * and keys reach it through `lazy-ssh2.ts`, which imports it at first use); unit tests
 * can substitute a fake.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex, Readable, Writable } from 'node:stream';

/** A private key already parsed (or a public-key signer from an agent). */
export interface PrivateKey {
  /** Where it came from, for messages: a file path, or `agent`. */
  readonly source: string;
  /** The key as the transport understands it. */
  readonly key: unknown;
}

/** How to open one connection. */
export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Keys to try in order. */
  readonly keys: readonly PrivateKey[];
  /** An agent socket to try after the keys, if any. */
  readonly agent: string | undefined;
  readonly password: string | undefined;
  /** A stream to run the connection over (a tunnel through a gateway), instead of TCP. */
  readonly sock: Duplex | undefined;
  /** Limit for the TCP connect + handshake + authentication, in ms. */
  readonly timeout: number;
  /** Keepalive period in ms (0 = off); 3 unanswered keepalives end the connection. */
  readonly keepaliveInterval: number;
  /** Decides on the server's host key (the raw public key blob); returns an error to refuse it. */
  readonly verifyHostKey: (key: Buffer) => Error | undefined;
  /** Abandons the attempt (the node is being closed): the socket is destroyed, the promise rejects. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of one command. */
export interface ExecRequest {
  readonly pty?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly x11?: boolean;
  /** The caller writes the command's input and ends it; otherwise it is ended at once (no pty). */
  readonly stdin?: boolean;
}

/** How a command ended: an exit code, or a signal name without `SIG`, or neither. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A running remote command. */
export interface ExecChannel {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  /** Settles when the channel has closed. */
  readonly exit: Promise<ExitStatus>;
  /** Closes the channel (does not kill the remote process by itself). */
  close(): void;
}

/** One entry of a remote directory. */
export interface RemoteEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  /** A symbolic link (only in a directory's listing, which does not follow links). */
  readonly isSymlink: boolean;
  readonly mode: number;
  readonly mtime: number;
  readonly atime: number;
}

/** What a path is, as `lstat` sees it (a symlink is not followed). */
export type RemoteFileType = 'file' | 'directory' | 'symlink' | 'other';

/** A path's attributes (SFTP's ATTRS; times in seconds since the epoch). */
export interface RemoteAttributes {
  readonly type: RemoteFileType;
  readonly size: number;
  /** Permission bits only (`0o755`), without the file type. */
  readonly mode: number;
  readonly mtime: number;
  readonly atime: number;
}

/** One name in a directory, with its type (from the server's readdir, which does not follow symlinks). */
export interface RemoteDirEntry {
  readonly name: string;
  readonly type: RemoteFileType;
}

/** An open remote file: each call is one SFTP request. */
export interface SftpFile {
  /** Up to `length` bytes at `position`; an empty buffer at end of file. */
  read(length: number, position: number): Promise<Buffer>;
  write(data: Buffer, position: number): Promise<void>;
  /** The open file's attributes (fstat). */
  attributes(): Promise<RemoteAttributes>;
  close(): Promise<void>;
}

/**
 * The SFTP status of a failed request, without ssh2's numbers. OpenSSH's sftp-server (protocol
 * 3) reports only ENOENT and EACCES/EPERM precisely: EEXIST, ENOTDIR, EISDIR… are all `failure`.
 * `connection-lost`: the channel closed with the request pending; `no-answer`: the server
 * answered nothing for the session's bound while requests waited (the session was given up).
 */
export type SftpStatus =
  | 'no-such-file'
  | 'permission-denied'
  | 'failure'
  | 'bad-message'
  | 'unsupported'
  | 'connection-lost'
  | 'no-answer';

/** A failed SFTP request (the primitives of {@link SftpSession} reject with it). */
export class SftpStatusError extends Error {
  override name = 'SftpStatusError';
  readonly status: SftpStatus;
  constructor(status: SftpStatus, message: string) {
    super(message);
    this.status = status;
  }
}

/** The SFTP operations the file commands use. */
export interface SftpSession {
  /**
   * When the server last sent anything on this session (ms since the epoch), for any request: a
   * server busy with a large transfer still answers; one stuck in a request answers nothing.
   */
  readonly lastAnswer?: number;
  /**
   * Gives the session up when the server answers nothing for `ms` while requests wait: they fail
   * (`no-answer`), then `onStall` runs. Optional: a transport without it has no such bound.
   */
  watchStalls?(ms: number, onStall: (error: SftpStatusError) => void): void;
  put(
    local: string,
    remote: string,
    options: { mode?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<void>;
  /** `mode`: given to the local file, as it is (no umask applied); none: the file's own, or 0666 less the umask. */
  get(
    remote: string,
    local: string,
    options: { mode?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<void>;
  writeFile(remote: string, content: string | Buffer, mode: number): Promise<void>;
  /** Creates a directory; does nothing if it exists. */
  mkdir(remote: string, mode: number): Promise<void>;
  chmod(remote: string, mode: number): Promise<void>;
  /** Entry info, or undefined if the path does not exist. */
  stat(remote: string): Promise<RemoteEntry | undefined>;
  list(remote: string): Promise<RemoteEntry[]>;
  setTimes(remote: string, atime: number, mtime: number): Promise<void>;
  /** The absolute form of a path (`.` gives the home directory). */
  realpath(remote: string): Promise<string>;
  /** Attributes of a path: `follow` = stat, else lstat. Rejects with {@link SftpStatusError}. */
  attributes(remote: string, follow: boolean): Promise<RemoteAttributes>;
  /** A directory's names (without `.` and `..`) and their types. */
  entries(remote: string): Promise<RemoteDirEntry[]>;
  /** Opens a file: `r` to read; `wx` to create a new one (fails if the path exists), with `mode`. */
  open(remote: string, flags: 'r' | 'wx', mode?: number): Promise<SftpFile>;
  /** Creates one directory; fails if anything exists there (unlike {@link SftpSession.mkdir}). */
  createDirectory(remote: string, mode: number): Promise<void>;
  /** Renames, replacing the target as POSIX rename(2) does (OpenSSH's posix-rename extension). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a symlink. */
  unlink(remote: string): Promise<void>;
  /** What a symbolic link points to, as written in it. */
  readlink(remote: string): Promise<string>;
  /** Creates the symbolic link `link` pointing to `target` (written as it is). */
  symlink(target: string, link: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(remote: string): Promise<void>;
  close(): void;
  /** Called once when the session ends, for any reason. */
  onClose(listener: () => void): void;
}

/** An open SSH connection. */
export interface Connection {
  exec(command: string, options: ExecRequest): Promise<ExecChannel>;
  sftp(): Promise<SftpSession>;
  /** Opens a direct-tcpip channel to host:port, as seen from the server. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Closes the connection; resolves when it is closed (bounded by the caller). */
  close(): Promise<void>;
  /** True once the connection has ended, for any reason. */
  readonly closed: boolean;
  /** Called once when the connection ends; `error` is set if it ended on an error. */
  onClose(listener: (error: Error | undefined) => void): void;
  /** Handles X11 channels the server opens for commands run with `x11`. */
  onX11(handler: (stream: Duplex) => void): void;
}

/** A public key held by an ssh-agent. */
export interface AgentKey {
  /** `ssh-ed25519`, `ssh-rsa`, … */
  readonly type: string;
  readonly comment: string;
  /** The public key blob (what known_hosts and authorized_keys hold, base64-decoded). */
  readonly blob: Buffer;
}

/** Opens connections. */
export interface Transport {
  connect(request: ConnectRequest): Promise<Connection>;
  /** The keys an agent holds; rejects if the agent cannot be reached. */
  agentKeys(socket: string): Promise<AgentKey[]>;
  /**
   * Parses a private key; `passphrase` for an encrypted one. Throws (or rejects) on failure.
   * May answer later: the default transport imports ssh2 at its first use.
   */
  parseKey(
    data: Buffer | string,
    passphrase: string | undefined,
    source: string,
  ): PrivateKey | Promise<PrivateKey>;
}

/** The server refused a channel for now (sshd's MaxSessions): worth trying again later. */
export class ChannelRefusedError extends Error {
  override name = 'ChannelRefusedError';
}

/**
 * The X11 cookie the server is given for a command run with `x11` (hex, MIT-MAGIC-COOKIE-1):
 * random, made once per process, never the display's real one, which the X connections coming
 * back get instead (ssh-node/x11-forwarding.ts), as OpenSSH does.
 */
export const X11_FAKE_COOKIE = randomBytes(16).toString('hex');

/** The authorization protocol of the X11 cookies. */
export const X11_PROTOCOL = 'MIT-MAGIC-COOKIE-1';
