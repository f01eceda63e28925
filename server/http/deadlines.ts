/**
 * Deadlines for what a web or API client can withhold. node:http checks its headersTimeout and
 * requestTimeout only on a server that listens itself; this one is handed sockets by the
 * dispatcher, so the deadlines are kept here:
 *
 * - the request head must be complete within `headMs` of the connection being handed over, or of
 *   the previous answer on a kept-alive connection (so a client idling, or trickling a head one
 *   byte at a time, is answered 408 and closed);
 * - a request body (other than a stream's, which has its own idle limit) must be complete within
 *   `bodyMs` of its head.
 *
 * node:http's own keepAliveTimeout still closes a kept-alive connection idle for keepAliveMs.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { refuse } from '../listener.js';

export interface HttpDeadlineOptions {
  readonly headMs: number;
  readonly bodyMs: number;
  /** Whether a request is a stream (its body has no deadline, only the stream's idle limit). */
  readonly isStream: (req: IncomingMessage) => boolean;
}

interface SocketState {
  timer: NodeJS.Timeout | undefined;
  /** Requests whose answer has not finished. */
  inFlight: number;
}

export class HttpDeadlines {
  private readonly sockets = new WeakMap<Duplex, SocketState>();

  constructor(
    http: HttpServer,
    private readonly options: HttpDeadlineOptions,
  ) {
    http.on('request', (req: IncomingMessage, res: ServerResponse) => this.request(req, res));
  }

  /** A socket handed to node:http: its first request head is due within headMs. */
  watch(socket: Duplex): void {
    const state: SocketState = { timer: undefined, inFlight: 0 };
    this.sockets.set(socket, state);
    this.armHead(socket, state);
    socket.once('close', () => clearTimeout(state.timer));
  }

  private armHead(socket: Duplex, state: SocketState): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      if (state.inFlight === 0) refuse(socket, 408, 'Request Timeout', 'Request Timeout', { error: `the request head did not arrive within ${this.options.headMs} ms` });
    }, this.options.headMs);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const state = this.sockets.get(socket);
    if (!state) return;
    state.inFlight++;
    clearTimeout(state.timer);
    state.timer = undefined;
    let body: NodeJS.Timeout | undefined;
    if (!req.complete && !this.options.isStream(req)) {
      body = setTimeout(() => {
        if (req.complete) return;
        if (!res.headersSent) {
          const text = JSON.stringify({ error: `the request body did not arrive within ${this.options.bodyMs} ms` });
          res.shouldKeepAlive = false;
          res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text);
          setTimeout(() => socket.destroy(), 2000).unref();
        } else socket.destroy();
      }, this.options.bodyMs);
      req.once('end', () => clearTimeout(body));
    }
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      clearTimeout(body);
      state.inFlight--;
      if (state.inFlight === 0 && !socket.destroyed) this.armHead(socket, state);
    };
    res.once('finish', finished);
    res.once('close', finished);
  }
}
