/**
 * X11 forwarding: the X clients of a command run with `x11` draw on the local display.
 *
 * As OpenSSH's `ssh -X`: the server is given a fake cookie (random, made once per process), and
 * each X connection coming back is checked for it, then given the real cookie of `$DISPLAY`
 * (from `xauth list`) before it reaches the local X server — the real one never leaves this
 * machine, and an X server that checks authorization accepts the client. A connection with
 * another cookie is refused.
 */
import { execFile } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { X11_FAKE_COOKIE, X11_PROTOCOL } from '../transport/transport.js';

/** The most an X connection's setup (its first bytes) may take before it is refused as garbage. */
const MAX_SETUP = 64 * 1024;

/** The real cookie of each display, from `xauth list` (undefined: none, or no xauth). */
const realCookies = new Map<string, Promise<Buffer | undefined>>();

/** `$DISPLAY`'s cookie for MIT-MAGIC-COOKIE-1, as `xauth list` gives it; looked up once per display. */
function realCookie(display: string): Promise<Buffer | undefined> {
  let cookie = realCookies.get(display);
  if (cookie === undefined) {
    cookie = new Promise((resolve) => {
      execFile('xauth', ['list', display], { timeout: 5_000 }, (error, stdout) => {
        if (error !== null) {
          resolve(undefined);
          return;
        }
        for (const line of stdout.split('\n')) {
          const [, protocol, hex] = line.trim().split(/\s+/);
          if (protocol === X11_PROTOCOL && hex !== undefined && /^[0-9a-f]+$/i.test(hex)) {
            resolve(Buffer.from(hex, 'hex'));
            return;
          }
        }
        resolve(undefined);
      });
    });
    realCookies.set(display, cookie);
  }
  return cookie;
}

/** An X11 connection setup request's parts (the X11 protocol, "Connection Setup"). */
interface Setup {
  readonly littleEndian: boolean;
  readonly versions: Buffer;
  readonly name: string;
  readonly data: Buffer;
  /** The bytes of the request. */
  readonly length: number;
}

const pad = (n: number) => (4 - (n % 4)) % 4;

/** The setup request at the start of `bytes`, or undefined when it is not whole yet. @throws on a malformed one */
function parseSetup(bytes: Buffer): Setup | undefined {
  if (bytes.length < 12) return undefined;
  const order = bytes[0];
  if (order !== 0x42 && order !== 0x6c) throw new Error('not an X11 connection');
  const littleEndian = order === 0x6c;
  const read = (offset: number) => (littleEndian ? bytes.readUInt16LE(offset) : bytes.readUInt16BE(offset));
  const nameLength = read(6);
  const dataLength = read(8);
  const length = 12 + nameLength + pad(nameLength) + dataLength + pad(dataLength);
  if (bytes.length < length) return undefined;
  const nameStart = 12;
  const dataStart = nameStart + nameLength + pad(nameLength);
  return {
    littleEndian,
    versions: bytes.subarray(2, 6),
    name: bytes.subarray(nameStart, nameStart + nameLength).toString('latin1'),
    data: bytes.subarray(dataStart, dataStart + dataLength),
    length,
  };
}

/** The setup request again, with `name` and `data` as its authorization. */
function buildSetup(setup: Setup, name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const out = Buffer.alloc(12 + nameBytes.length + pad(nameBytes.length) + data.length + pad(data.length));
  out[0] = setup.littleEndian ? 0x6c : 0x42;
  setup.versions.copy(out, 2);
  const write = (value: number, offset: number) =>
    setup.littleEndian ? out.writeUInt16LE(value, offset) : out.writeUInt16BE(value, offset);
  write(nameBytes.length, 6);
  write(data.length, 8);
  nameBytes.copy(out, 12);
  data.copy(out, 12 + nameBytes.length + pad(nameBytes.length));
  return out;
}

/** The local X server of `display`: `:n` (or `unix:n`) its socket, `host:n` TCP port 6000+n, a path that socket. */
function connectDisplay(display: string): Socket | undefined {
  const match = /^(.*):(\d+)(?:\.\d+)?$/.exec(display);
  if (match === null) return undefined;
  const host = match[1] ?? '';
  const number = Number(match[2]);
  if (display.startsWith('/')) return netConnect(display);
  return host === '' || host === 'unix'
    ? netConnect(`/tmp/.X11-unix/X${number}`)
    : netConnect(6000 + number, host);
}

/** Whether `display` names an X display (`:0`, `localhost:10.0`, `/tmp/.X11-unix/X0`-style `…:0`). */
export function hasDisplay(display: string | undefined = process.env.DISPLAY): boolean {
  return display !== undefined && /:\d+(?:\.\d+)?$/.test(display);
}

/**
 * Pipes an X11 channel that the server opened (for a command run with `x11`) to the local X
 * server of `$DISPLAY`, once its setup request has shown the fake cookie (replaced then by the
 * display's real one; without one, the request goes with no authorization, for a server that
 * asks none). Errors end both sides, never the process.
 */
export function forwardX11(stream: Duplex): void {
  const display = process.env.DISPLAY ?? '';
  if (!hasDisplay(display)) {
    stream.destroy();
    return;
  }
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    let setup: Setup | undefined;
    try {
      setup = parseSetup(head);
    } catch {
      stream.destroy();
      return;
    }
    if (setup === undefined) {
      if (head.length > MAX_SETUP) stream.destroy();
      return;
    }
    stream.off('data', onData);
    stream.pause();
    // as ssh: a client without the cookie this process gave the server is refused
    if (setup.name !== X11_PROTOCOL || !setup.data.equals(Buffer.from(X11_FAKE_COOKIE, 'hex'))) {
      stream.destroy();
      return;
    }
    const found = setup;
    void realCookie(display).then((real) => {
      const socket = connectDisplay(display);
      if (socket === undefined) {
        stream.destroy();
        return;
      }
      const destroy = () => {
        socket.destroy();
        stream.destroy();
      };
      socket.on('error', destroy);
      stream.on('error', destroy);
      socket.on('close', () => stream.destroy());
      stream.on('close', () => socket.destroy());
      socket.write(
        real === undefined ? buildSetup(found, '', Buffer.alloc(0)) : buildSetup(found, X11_PROTOCOL, real),
      );
      const rest = head.subarray(found.length);
      if (rest.length > 0) socket.write(rest);
      stream.pipe(socket).pipe(stream);
      stream.resume();
    });
  };
  stream.on('data', onData);
  stream.on('error', () => stream.destroy());
}
