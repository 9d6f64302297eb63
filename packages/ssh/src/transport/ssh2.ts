/**
 * The Transport over the `ssh2` package: the only module that imports it.
 *
 * Every Client, channel and SFTP session gets a permanent `'error'` listener, so that
 * no late error (ECONNRESET after `end()`, a second handshake error) can crash the
 * process; every connection sets TCP_NODELAY (ssh2 does not, and Nagle's algorithm
 * costs ~90 ms per small command on loopback).
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { MAX_DURATION } from '@jobgraph/core';
import ssh2 from 'ssh2';
import { messageOf, SshError, SshErrorCode } from '../errors.js';
import { Ssh2Sftp } from './ssh2-sftp.js';
import type {
  AgentKey,
  Connection,
  ConnectRequest,
  ExecChannel,
  ExecRequest,
  ExitStatus,
  PrivateKey,
  SftpSession,
  Transport,
} from './transport.js';
import { ChannelRefusedError, X11_FAKE_COOKIE, X11_PROTOCOL } from './transport.js';

type Client = InstanceType<typeof ssh2.Client>;
type ClientChannel = ssh2.ClientChannel;
type SFTPWrapper = ssh2.SFTPWrapper;
type AuthMethod = ssh2.AnyAuthMethod;

const { Client: SshClient, utils } = ssh2;

/** sshd's refusal of one more session channel (MaxSessions): worth retrying later. */
export function isChannelRefusal(error: unknown): boolean {
  return error instanceof Error && /open failed|no more sessions/i.test(error.message);
}

const noop = () => undefined;

function signalName(signal: unknown): string | null {
  if (typeof signal !== 'string' || signal === '') return null;
  return signal.startsWith('SIG') ? signal.slice(3) : signal;
}

class Ssh2Connection implements Connection {
  readonly #client: Client;
  #closed = false;
  readonly #closeListeners: Array<(error: Error | undefined) => void> = [];
  #lastError: Error | undefined;
  /** The error or end that came before our close() (none when we closed a healthy connection). */
  #lostBeforeClose: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(client: Client) {
    this.#client = client;
    client.on('error', (error: Error) => {
      this.#lastError = error;
      if (this.#closing === undefined) this.#lostBeforeClose ??= error;
    });
    client.on('close', () => {
      this.#closed = true;
      const error = this.#cause();
      for (const listener of this.#closeListeners.splice(0)) listener(error);
    });
    // The other side ended the connection. ssh2 then stops its keepalive and only emits
    // 'end'; a tunnel through a gateway may never get to 'close' (the gateway keeps its
    // half open), which would leave every command on the node waiting for good.
    client.on('end', () => {
      this.#lastError ??= new Error('the connection was ended by the other side');
      if (this.#closing === undefined) this.#lostBeforeClose ??= this.#lastError;
      client.destroy();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(listener: (error: Error | undefined) => void): void {
    if (this.#closed) listener(this.#cause());
    else this.#closeListeners.push(listener);
  }

  /**
   * Why the connection closed: none when we closed it (the server's end that follows is no
   * loss), unless it had failed before we did (a keepalive unanswered, a reset).
   */
  #cause(): Error | undefined {
    return this.#closing === undefined ? this.#lastError : this.#lostBeforeClose;
  }

  onX11(handler: (stream: Duplex) => void): void {
    this.#client.on('x11', (_info, accept) => {
      const stream = accept() as unknown as Duplex;
      stream.on('error', noop);
      handler(stream);
    });
  }

  exec(command: string, options: ExecRequest): Promise<ExecChannel> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('the connection is closed'));
        return;
      }
      const execOptions: ssh2.ExecOptions = {};
      if (options.pty) execOptions.pty = true;
      if (options.env) execOptions.env = { ...options.env };
      // the fake cookie, replaced by the real one on the way back (x11-forwarding.ts)
      if (options.x11) execOptions.x11 = { protocol: X11_PROTOCOL, cookie: X11_FAKE_COOKIE };
      this.#client.exec(command, execOptions, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(isChannelRefusal(error) ? new ChannelRefusedError(error.message) : error);
          return;
        }
        resolve(wrapChannel(channel, options.pty === true || options.stdin === true));
      });
    });
  }

  sftp(): Promise<SftpSession> {
    return new Promise((resolve, reject) => {
      this.#client.sftp((error: Error | undefined, sftp: SFTPWrapper) => {
        if (error) {
          reject(isChannelRefusal(error) ? new ChannelRefusedError(error.message) : error);
          return;
        }
        sftp.on('error', noop);
        resolve(new Ssh2Sftp(sftp));
      });
    });
  }

  forwardOut(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.#client.forwardOut(
        '127.0.0.1',
        0,
        host,
        port,
        (error: Error | undefined, stream: ClientChannel) => {
          if (error) {
            reject(error);
            return;
          }
          stream.on('error', noop);
          resolve(stream as unknown as Duplex);
        },
      );
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#closed) {
        resolve();
        return;
      }
      this.onClose(() => resolve());
      this.#client.end();
    });
    return this.#closing;
  }
}

function wrapChannel(channel: ClientChannel, keepInput: boolean): ExecChannel {
  let status: ExitStatus = { code: null, signal: null };
  // Commands get no input (as with `ssh host cmd < /dev/null`): a `cat` or a `read` would
  // otherwise wait for good. Under a pty the input stays open, for the terminal; with a
  // `stdin` the caller ends it.
  if (!keepInput) channel.end();
  channel.on('error', noop);
  channel.stderr.on('error', noop);
  channel.on('exit', (code: number | null, signal?: string) => {
    status = { code: typeof code === 'number' ? code : null, signal: signalName(signal) };
  });
  const exit = new Promise<ExitStatus>((resolve) => {
    channel.on('close', () => resolve(status));
  });
  return {
    stdout: channel,
    stderr: channel.stderr,
    stdin: channel,
    exit,
    close: () => {
      channel.close();
    },
  };
}

/** What failed, from ssh2's error `level`, as one of our codes. */
function classify(error: Error & { level?: string }, hostKeyError: Error | undefined): SshErrorCode {
  if (hostKeyError) return SshErrorCode.HOST_KEY;
  if (error.level === 'client-authentication') return SshErrorCode.AUTH;
  return SshErrorCode.CONNECT;
}

function describeConnectFailure(
  error: Error & { level?: string; code?: string },
  request: ConnectRequest,
): string {
  if (error.level === 'client-timeout' || /timed out/i.test(error.message)) {
    return `no answer within ${request.timeout} ms`;
  }
  if (error.level === 'client-authentication') return `authentication refused (offered: ${offered(request)})`;
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH') return 'host unreachable';
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return 'unknown host name';
  return error.message;
}

/**
 * Whether the server dropped the connection before the SSH handshake (key exchange) completed,
 * as sshd does beyond its `MaxStartups`: the socket closed or reset, with no host key verdict
 * and no timeout. Refused and unreachable ports, timeouts, host keys and authentication (which
 * comes after the handshake) are not drops. Such errors carry `handshakeDropped: true`, which
 * ssh-node/handshake-retry.ts retries.
 */
function isDrop(
  error: Error & { level?: string; code?: string },
  handshaken: boolean,
  hostKeyError: Error | undefined,
): boolean {
  if (handshaken || hostKeyError !== undefined || error.level === 'client-timeout') return false;
  if (/Connection lost before handshake/i.test(error.message)) return true;
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return true;
  return error.message === CLOSED_BEFORE_READY;
}

const CLOSED_BEFORE_READY = 'the connection closed before it was ready';

/**
 * What a connect offered the server, for the message of a refusal: the key files (paths are no
 * secret; a password is only said to be there).
 */
function offered(request: ConnectRequest): string {
  const what = request.keys.map((key) =>
    key.source === 'agent'
      ? "a key of the agent's"
      : key.source.startsWith('a ')
        ? key.source
        : `key ${key.source}`,
  );
  if (request.agent !== undefined) what.push('the agent');
  if (request.password !== undefined) what.push('a password');
  return what.length === 0 ? 'nothing: no key, agent or password' : what.join(', ');
}

/** The Transport over ssh2. */
export const ssh2Transport: Transport = {
  connect(request: ConnectRequest): Promise<Connection> {
    const target = `${request.username}@${request.host}${request.port === 22 ? '' : `:${request.port}`}`;
    return new Promise((resolve, reject) => {
      const client = new SshClient();
      let hostKeyError: Error | undefined;
      /** Whether the key exchange completed (what comes after is no drop of MaxStartups's). */
      let handshaken = false;
      let settled = false;
      const fail = (error: Error & { level?: string; code?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        // destroy, not end(): end() only half-closes the socket, and ssh2's destroy() then does
        // nothing; a server that never answers would keep the socket (and Node.js) alive.
        client.destroy();
        const code = classify(error, hostKeyError);
        const why = hostKeyError ? hostKeyError.message : describeConnectFailure(error, request);
        const failure = new SshError(code, `Cannot connect to ${target}: ${why}`, {
          cause: hostKeyError ?? error,
          node: target,
        });
        if (isDrop(error, handshaken, hostKeyError)) Object.assign(failure, { handshakeDropped: true });
        reject(failure);
      };
      // A bound on the whole connect, in case the handshake stalls after the TCP connect.
      const timer = setTimeout(
        () => fail(Object.assign(new Error('timed out'), { level: 'client-timeout' })),
        // (within the longest a timer can wait: a longer one would fire at once)
        Math.min(request.timeout + 1000, MAX_DURATION),
      );
      // Closing a node while it connects (Ctrl-C during a stalled handshake) must not wait
      // for the timeout: the attempt is dropped at once.
      const onAbort = () => fail(new Error('abandoned: the node was closed while connecting'));
      if (request.signal?.aborted === true) {
        queueMicrotask(onAbort);
      } else request.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', fail);
      client.on('close', () => fail(new Error(CLOSED_BEFORE_READY)));
      client.on('handshake', () => {
        handshaken = true;
      });
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', fail);
        client.setNoDelay(true);
        resolve(new Ssh2Connection(client));
      });
      const authHandler: AuthMethod[] = request.keys.map((key) => ({
        type: 'publickey',
        username: request.username,
        key: key.key as ssh2.ParsedKey,
      }));
      if (request.agent !== undefined) {
        authHandler.push({ type: 'agent', username: request.username, agent: request.agent });
      }
      if (request.password !== undefined) {
        authHandler.push({ type: 'password', username: request.username, password: request.password });
      }
      if (authHandler.length === 0) authHandler.push({ type: 'none', username: request.username });
      const config: ssh2.ConnectConfig = {
        host: request.host,
        port: request.port,
        username: request.username,
        readyTimeout: request.timeout,
        keepaliveInterval: request.keepaliveInterval,
        keepaliveCountMax: 3,
        authHandler: authHandler as ssh2.AuthMethod[],
        hostVerifier: (key: Buffer) => {
          hostKeyError = request.verifyHostKey(key);
          return hostKeyError === undefined;
        },
      };
      if (request.sock) config.sock = request.sock;
      try {
        client.connect(config);
        client.setNoDelay(true);
      } catch (error) {
        fail(error as Error);
      }
    });
  },

  agentKeys(socket: string): Promise<AgentKey[]> {
    return new Promise((resolve, reject) => {
      ssh2.createAgent(socket).getIdentities((error, keys) => {
        if (error) reject(error);
        else
          resolve(
            (keys ?? []).map((entry) => {
              const key = entry as ssh2.ParsedKey;
              return { type: key.type, comment: key.comment, blob: key.getPublicSSH() };
            }),
          );
      });
    });
  },

  parseKey(data: Buffer | string, passphrase: string | undefined, source: string): PrivateKey {
    const parsed = utils.parseKey(data, passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase/i.test(parsed.message);
      const why = encrypted
        ? passphrase === undefined
          ? 'it is encrypted and no passphrase was given'
          : 'wrong passphrase'
        : messageOf(parsed);
      throw new SshError(SshErrorCode.KEY, `Cannot load the private key ${source}: ${why}`, {
        cause: parsed,
      });
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    return { source, key: withKeyObjectSigner(key as ssh2.ParsedKey) };
  },
};

/**
 * ssh2 signs with the key's PEM text, which OpenSSL decodes again for every signature:
 * an RSA-3072 signature then costs 3.6 ms instead of 1.8 ms (once per connection, 50
 * connections: 90 ms of CPU). Sign with a KeyObject made once instead; whatever this
 * fast path does not cover (no hash given, except for ed25519) keeps ssh2's own code.
 */
function withKeyObjectSigner(key: ssh2.ParsedKey): ssh2.ParsedKey {
  const slow = key.sign.bind(key);
  let keyObject: KeyObject | undefined;
  key.sign = (data: Buffer | string, algo?: string) => {
    const hash =
      typeof algo === 'string' && algo !== '' ? algo : key.type === 'ssh-ed25519' ? null : undefined;
    if (hash === undefined) return slow(data, algo);
    try {
      keyObject ??= createPrivateKey(key.getPrivatePEM());
      return cryptoSign(hash, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch {
      return slow(data, algo);
    }
  };
  return key;
}
