/**
 * One port for everything: a connection whose first bytes are "POST / " is a stream and goes to
 * the forgiving raw parser; anything else goes to node:http. The separate stream port
 * (--stream-port) sends every connection to the raw parser, like Plotly's stream host.
 *
 * The decision has a deadline: a connection that sends nothing, or fewer bytes than it takes to
 * tell, is answered 408 and closed after `timeoutMs`.
 *
 * Behind a load balancer that speaks the PROXY protocol (HAProxy's send-proxy, version 1), a
 * connection starts with "PROXY TCP4 client server cport sport\r\n": the client's address is
 * taken from it (for the per-address limits) and the line removed before the request. One
 * without the line (a probe reaching the node directly) counts by its own address.
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

/** The longest PROXY protocol v1 line (its specification's 107 bytes). */
const MAX_PROXY_LINE = 107;

/**
 * The client address a PROXY protocol v1 line names ("PROXY UNKNOWN" names none: the balancer's
 * own connection, a health check), or null when the line is malformed.
 */
export function proxiedAddress(line: string): string | undefined | null {
  const m = /^PROXY (?:(TCP4|TCP6) (\S+) (\S+) (\d+) (\d+)|UNKNOWN(?: .*)?)$/.exec(line);
  if (!m) return null;
  return m[1] ? (m[2] as string) : undefined;
}

export function dispatchConnection(
  socket: Socket | Duplex,
  toHttp: (socket: Duplex) => void,
  stream: (socket: Duplex, first: Buffer) => void,
  timeoutMs: number,
  /** With the PROXY protocol: told the client's address once its line is read; false when the connection was refused. */
  proxied?: (address: string | undefined) => boolean,
): void {
  let seen: Buffer = Buffer.alloc(0);
  let awaitingProxy = proxied !== undefined;
  const deadline = setTimeout(() => {
    socket.removeListener('data', decide);
    refuse(socket, 408, 'Request Timeout', 'Request Timeout', { error: `no request within ${timeoutMs} ms` });
  }, timeoutMs);
  const decide = (buf: Buffer): void => {
    seen = seen.length ? Buffer.concat([seen, buf]) : buf;
    if (awaitingProxy && proxied) {
      // Too few bytes to tell whether the line is there.
      if (seen.length < 6 && 'PROXY '.startsWith(seen.toString('latin1'))) return;
    }
    if (awaitingProxy && proxied && !seen.toString('latin1', 0, 6).startsWith('PROXY ')) {
      // A connection without the line (a probe reaching the node directly): counted by its own address.
      awaitingProxy = false;
      if (!proxied(undefined)) {
        clearTimeout(deadline);
        socket.removeListener('data', decide);
        return;
      }
    }
    if (awaitingProxy && proxied) {
      const end = seen.indexOf('\r\n');
      if (end < 0 && seen.length <= MAX_PROXY_LINE) return;
      const address = end < 0 ? null : proxiedAddress(seen.toString('latin1', 0, end));
      if (address === null) {
        clearTimeout(deadline);
        socket.removeListener('data', decide);
        return refuse(socket, 400, 'Bad Request', 'Bad Request', { error: 'the PROXY protocol line is malformed (expected "PROXY TCP4|TCP6 CLIENT SERVER CPORT SPORT" or "PROXY UNKNOWN")' });
      }
      awaitingProxy = false;
      seen = seen.subarray(end + 2);
      if (!proxied(address)) {
        clearTimeout(deadline);
        socket.removeListener('data', decide);
        return;
      }
      if (seen.length === 0) return;
    }
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
