/**
 * One port for everything: a connection whose first bytes are "POST / " is a stream and goes to
 * the forgiving raw parser; anything else goes to node:http. The separate stream port
 * (--stream-port) sends every connection to the raw parser, like Plotly's stream host.
 *
 * The decision has a deadline: a connection that sends nothing, or fewer bytes than it takes to
 * tell, is answered 408 and closed after `timeoutMs`.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const STREAM_START = /^POST \/(?:[ ?])/;

/** A short answer written straight on a socket (no request was parsed), then the connection ends. */
export function refuse(socket: Duplex, status: number, reason: string, message: string, detail: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ status, message, ...detail });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  // Whatever else the client sends is read and dropped, so the answer is not lost to a reset.
  socket.on('data', () => undefined);
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
  // A client that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 2000).unref();
}

export function dispatchConnection(socket: Socket | Duplex, toHttp: (socket: Duplex) => void, stream: (socket: Duplex, first: Buffer) => void, timeoutMs: number): void {
  let seen: Buffer = Buffer.alloc(0);
  const deadline = setTimeout(() => {
    socket.removeListener('data', decide);
    refuse(socket, 408, 'Request Timeout', 'Request Timeout', { error: `no request within ${timeoutMs} ms` });
  }, timeoutMs);
  const decide = (buf: Buffer): void => {
    seen = seen.length ? Buffer.concat([seen, buf]) : buf;
    // "POST / " is 7 bytes; wait for them unless the request line already ended.
    if (seen.length < 7 && !seen.includes(10)) return;
    clearTimeout(deadline);
    socket.removeListener('data', decide);
    socket.pause();
    if (STREAM_START.test(seen.toString('latin1', 0, Math.min(seen.length, 8)))) {
      stream(socket, seen);
      socket.resume();
    } else {
      socket.unshift(seen);
      toHttp(socket);
      socket.resume();
    }
  };
  socket.on('data', decide);
  socket.on('error', () => socket.destroy());
  socket.once('close', () => clearTimeout(deadline));
}
