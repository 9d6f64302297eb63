/**
 * X11 forwarding: the X clients of a command run with `x11` draw on the local display.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Pipes an X11 channel that the server opened (for a command run with `x11`) to the
 * local X server of `$DISPLAY`: `:n` (or `unix:n`) is the socket `/tmp/.X11-unix/Xn`,
 * `host:n` is TCP port 6000+n, a path (`/…/org.xquartz:0`) is that socket. The remote
 * client's cookie passes through unchanged. Errors end both sides, never the process.
 */
export function forwardX11(stream: Duplex): void {
  const display = process.env.DISPLAY ?? '';
  const match = /^(.*):(\d+)(?:\.\d+)?$/.exec(display);
  if (match === null) {
    stream.destroy();
    return;
  }
  const host = match[1] ?? '';
  const number = Number(match[2]);
  const socket = display.startsWith('/')
    ? netConnect(display)
    : host === '' || host === 'unix'
      ? netConnect(`/tmp/.X11-unix/X${number}`)
      : netConnect(6000 + number, host);
  const destroy = () => {
    socket.destroy();
    stream.destroy();
  };
  socket.on('error', destroy);
  stream.on('error', destroy);
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
  stream.pipe(socket).pipe(stream);
}
