/**
 * One port for everything: a connection whose first bytes are "POST / " is a stream and goes to
 * the forgiving raw parser; anything else goes to node:http. The separate stream port
 * (--stream-port) sends every connection to the raw parser, like Plotly's stream host.
 */
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const STREAM_START = /^POST \/(?:[ ?])/;

export function dispatchConnection(socket: Socket | Duplex, http: HttpServer, stream: (socket: Duplex, first: Buffer) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const decide = (buf: Buffer): void => {
    seen = seen.length ? Buffer.concat([seen, buf]) : buf;
    // "POST / " is 7 bytes; wait for them unless the request line already ended.
    if (seen.length < 7 && !seen.includes(10)) return;
    socket.removeListener('data', decide);
    socket.pause();
    if (STREAM_START.test(seen.toString('latin1', 0, Math.min(seen.length, 8)))) {
      stream(socket, seen);
      socket.resume();
    } else {
      socket.unshift(seen);
      http.emit('connection', socket);
      socket.resume();
    }
  };
  socket.on('data', decide);
  socket.on('error', () => socket.destroy());
}
