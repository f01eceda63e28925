/**
 * The plotwire stream server: Plotly's streaming endpoint, Plotly's and plotwire's REST APIs and
 * the live viewer, on one port (plus an optional plain stream port, like Plotly's stream host).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { IDLE_TIMEOUT_MS } from '../shared/index.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { Core, EmbeddedCore } from './core.js';
import { clusterEngines, type ClusterOptions } from './cluster/engines.js';
import { embeddedEngines, type EmbeddedOptions } from './embedded.js';
import type { Engines } from './engine.js';
import { Ingest } from './ingest/ingest.js';
import { serveHttpStream } from './ingest/http-stream.js';
import { serveRawStream } from './ingest/raw-stream.js';
import { dispatchConnection } from './listener.js';
import { PlotError } from './store/plots.js';
import { AccountError } from './store/accounts.js';
import { RETRY_MS, StoreUnavailableError } from './store/health.js';
import { ConnectionLimits } from './connections.js';
import { LayoutError, LayoutTooLargeError } from './data/layout.js';
import { HttpDeadlines } from './http/deadlines.js';
import { PlotService } from './plot-service.js';
import { Fanout } from './viewers/fanout.js';
import { apiRoutes } from './http/api.js';
import { plotlyRoutes } from './http/plotly-api.js';
import { ClientGoneError, HttpError, Router, closeAfterAnswer, sendJson } from './http/router.js';
import { webRoutes } from './http/web.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_USER = 'plotwire';
/** A web or API connection with no byte either way for this long is closed. */
const SOCKET_IDLE_MS = 60_000;
/** A kept-alive connection with no request for this long is closed (node:http's default). */
const KEEP_ALIVE_MS = 5_000;
/** Time a client has for a request body, from its head (streams excepted: they have the idle timeout). */
const BODY_TIMEOUT_MS = 30_000;

/** The status a known client mistake answers, with Retry-After when waiting helps; undefined for the server's own faults. */
function clientError(err: unknown): { status: number; retryAfter?: number } | undefined {
  if (err instanceof HttpError) return { status: err.status, ...(err.status === 503 && { retryAfter: 1 }) };
  if (err instanceof LayoutTooLargeError) return { status: 413 };
  if (err instanceof LayoutError || err instanceof PlotError) return { status: 400 };
  if (err instanceof StoreUnavailableError) return { status: 503, retryAfter: Math.ceil(RETRY_MS / 1000) };
  return undefined;
}

/** How a node listens and limits its clients, whatever engines it runs on. */
export interface NodeOptions {
  /** 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** A second, plain-HTTP listener that takes only streams. */
  readonly streamPort?: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly idleTimeoutMs?: number;
  readonly connectsPerMinute?: number;
  /** Time a client has to send a request head (default 10 s), on every port; also the longest a kept-alive connection waits for its next head. */
  readonly headTimeoutMs?: number;
  /** Time a client has to send a request body, streams excepted (default 30 s). */
  readonly bodyTimeoutMs?: number;
  /** A kept-alive connection idle this long is closed (default 5 s). */
  readonly keepAliveMs?: number;
  /** Open connections in total (default 2048, kept below the descriptor limit); more get 503. */
  readonly maxConnections?: number;
  /** Open connections from one client address (default 256); more get 503. */
  readonly maxConnectionsPerAddress?: number;
  /** Base of share URLs when clients reach the server under another name. */
  readonly publicUrl?: string;
  /** Connections come through a load balancer that starts each with a PROXY protocol v1 line (HAProxy's send-proxy): client addresses come from it. */
  readonly proxyProtocol?: boolean;
  /** Create user "plotwire" on first start (default true). */
  readonly createDefaultUser?: boolean;
  readonly log?: Logger;
}

export interface ServerOptions extends NodeOptions, EmbeddedOptions {}

export interface PlotwireServer<C extends Core = EmbeddedCore> {
  readonly url: string;
  /** The port it listens on (the URL may name another, under --public-url). */
  readonly port: number;
  readonly streamUrl: string;
  readonly core: C;
  close(): Promise<void>;
}

function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

function baseUrl(scheme: string, host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? (lanAddress() ?? '127.0.0.1') : host;
  return `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

const listen = (server: NetServer, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/** The embedded default: one process on SQLite. */
export async function startServer(options: ServerOptions): Promise<PlotwireServer<EmbeddedCore>> {
  const log = options.log ?? createLogger();
  const engines = embeddedEngines(options, log);
  const server = await startNode(engines, options, log, { db: engines.db });
  return server as PlotwireServer<EmbeddedCore>;
}

export interface ClusterServerOptions extends NodeOptions, ClusterOptions {}

/** A node of a cluster: any number of them share one PostgreSQL and one Redis (docs/scaling.md). */
export async function startClusterServer(options: ClusterServerOptions): Promise<PlotwireServer<Core>> {
  const log = options.log ?? createLogger();
  const engines = await clusterEngines(options, log);
  try {
    return await startNode(engines, options, log, {}, engines.nodeId);
  } catch (err) {
    await engines.close();
    throw err;
  }
}

/**
 * A server on the given engines: the listeners, the routes, the streams and the viewers are the
 * same whatever stores the data. `extra` joins the core (the embedded database, for its tools).
 */
export async function startNode(engines: Engines, options: NodeOptions, log: Logger, extra: Record<string, unknown> = {}, nodeId?: string): Promise<PlotwireServer<Core>> {
  const headTimeoutMs = options.headTimeoutMs ?? 10_000;
  const host = options.host ?? '127.0.0.1';
  const { accounts, plots, store, health } = engines;
  const fanout = new Fanout(plots, store);
  const service = new PlotService(plots, store, fanout, health);
  const ingest = new Ingest(accounts, store, service, {
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    connectsPerMinute: options.connectsPerMinute ?? 30,
    log,
    ...(engines.ownership && { ownership: engines.ownership }),
    ...(nodeId !== undefined && { nodeId }),
  });
  const core: Core = { ...extra, accounts, plots, store, fanout, service, ingest, log, publicUrl: '', streamUrl: '' };
  engines.onRemote?.((change) => (change.kind === 'revoked' ? ingest.revoke(change.tokenId) : service.remote(change)));
  // Cluster: a request first sees every change committed on any node before it arrived (a token made on another node streams here at once).
  const barrier = engines.sync?.bind(engines);

  const router = new Router();
  apiRoutes(core, router);
  plotlyRoutes(core, router);
  webRoutes(core, router);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      // The load balancer's health check asks whether this node answers, not what it has seen: it skips the barrier.
      if (barrier && req.url !== '/api/v1/health') await barrier();
      if (req.url?.split('?')[0] === '/' && req.method === 'POST') return serveHttpStream(req, res, ingest);
      if (req.url?.split('?')[0] === '/' && req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} cannot stream: use POST`);
      if (!(await router.handle(req, res))) throw new HttpError(404, `nothing at ${req.url}`);
    } catch (err) {
      answerError(req, res, err);
    }
  };
  /** A client's mistake is a 4xx with the reason and no log; only the server's own faults are 500s with a stack in the log. */
  const answerError = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    if (err instanceof ClientGoneError) {
      // The client went away mid-body (an aborted upload): no one to answer, nothing of ours failed.
      log.warn('request-aborted', `${req.method} ${req.url?.slice(0, 200)}: the client closed the connection before its request arrived`, { method: req.method, url: req.url?.slice(0, 200) });
      return;
    }
    const known = clientError(err);
    const status = known?.status ?? 500;
    if (status === 500) log.error('request-failed', `${req.method} ${req.url} failed: ${(err as Error).stack ?? err}`, { method: req.method, url: req.url });
    if (res.headersSent) return void res.destroy();
    closeAfterAnswer(req, res);
    if (known?.retryAfter) res.setHeader('retry-after', String(known.retryAfter));
    sendJson(res, status, { error: known ? (err as Error).message : 'internal server error' });
  };
  const http = createHttpServer((req, res) => void handle(req, res));
  // A connection silent either way this long is closed (viewers' event streams carry a keepalive
  // every 15 s, well inside it); heads and bodies have deadlines of their own (http/deadlines.ts).
  http.timeout = SOCKET_IDLE_MS;
  http.keepAliveTimeout = options.keepAliveMs ?? KEEP_ALIVE_MS;
  const deadlines = new HttpDeadlines(http, {
    headMs: headTimeoutMs,
    bodyMs: options.bodyTimeoutMs ?? BODY_TIMEOUT_MS,
    isStream: (req) => req.method === 'POST' && req.url?.split('?')[0] === '/',
  });
  const limits = new ConnectionLimits(log, {
    ...(options.maxConnections !== undefined && { total: options.maxConnections }),
    ...(options.maxConnectionsPerAddress !== undefined && { perAddress: options.maxConnectionsPerAddress }),
  });
  const toHttp = (socket: Duplex): void => {
    // Only raw streams stay half-open (below); node:http ends a connection whose client finished.
    socket.allowHalfOpen = false;
    deadlines.watch(socket);
    http.emit('connection', socket);
  };
  // Bytes after a request that node cannot parse as the next one: Plotly's Arduino libraries send
  // a body longer than their Content-Length when their keys are not 10 characters. Node would
  // answer 400 over the answer still being made; the answer goes out first, and then the socket.
  const answering = new WeakSet<Duplex>();
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answering.add(req.socket);
    res.once('close', () => answering.delete(req.socket));
  });
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answering.has(socket)) return void socket.once('finish', () => socket.destroy());
    // What node itself answers otherwise.
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable && err.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  });
  const rawStream = (socket: Duplex, first: Buffer, anyPath: boolean): void =>
    serveRawStream(socket, first, ingest, {
      headTimeoutMs,
      anyPath,
      onFault: (err) => log.error('stream-failed', `a stream failed: ${(err as Error).stack ?? err}`),
    });
  // Behind the barrier, what the writer sends meanwhile is held and handed on as the stream's first bytes.
  const toStream = !barrier
    ? rawStream
    : (socket: Duplex, first: Buffer, anyPath: boolean): void => {
        const held: Buffer[] = [first];
        const hold = (buf: Buffer): void => void held.push(buf);
        socket.on('data', hold);
        void barrier().then(() => {
          socket.off('data', hold);
          if (!socket.destroyed) rawStream(socket, Buffer.concat(held), anyPath);
        });
      };

  // Every open connection, so close() can end them: node:http never tracks the sockets handed to it
  // (its closeAllConnections does nothing here), and a browser's idle spare connections would hold close() forever.
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  // In the cluster a stream's final answer comes after an async settle: a writer that half-closed
  // (FIN after its last chunk) must still get it, so raw streams' sockets stay half-open.
  const halfOpen = barrier !== undefined;
  // Behind a PROXY-protocol balancer every socket comes from it: connections are counted by the client its line names.
  const proxied = options.proxyProtocol ? (socket: Socket) => (address: string | undefined) => limits.admit(socket, true, address ?? socket.remoteAddress ?? '?') : undefined;
  const onMain = (socket: Socket): void => {
    if (!options.tls && !proxied && !limits.admit(socket)) return;
    track(socket);

    dispatchConnection(socket, toHttp, (s, first) => toStream(s, first, false), headTimeoutMs, proxied?.(socket));
  };
  const main = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, handshakeTimeout: headTimeoutMs, allowHalfOpen: halfOpen }, onMain)
    : createNetServer({ allowHalfOpen: halfOpen }, onMain);
  // Under TLS the count is taken on the plain socket, before its handshake; a refused one never gets that far.
  if (options.tls) main.on('connection', (socket: Socket) => void limits.admit(socket, false));
  // Past the descriptor limit accept() fails with EMFILE: the listener must go on for when descriptors return.
  main.on('error', (err) => log.error('accept-failed', `accepting a connection failed: ${(err as Error).message}`));
  const port = await listen(main, options.port ?? DEFAULT_PORT, host);
  core.publicUrl = options.publicUrl?.replace(/\/$/, '') ?? baseUrl(options.tls ? 'https' : 'http', host, port);

  let streamServer: NetServer | undefined;
  if (options.streamPort !== undefined) {
    streamServer = createNetServer({ allowHalfOpen: halfOpen }, (socket) => {
      if (!limits.admit(socket)) return;
      track(socket);
      toStream(socket, Buffer.alloc(0), true);
    });
    const streamPort = await listen(streamServer, options.streamPort, host);
    core.streamUrl = baseUrl('http', host, streamPort);
  } else core.streamUrl = core.publicUrl;

  if (options.createDefaultUser !== false && accounts.userCount() === 0) {
    // Nodes of a cluster starting together race for it: the one that loses finds the user made.
    const added = await Promise.resolve(accounts.addUser(DEFAULT_USER)).catch((err: unknown) => {
      if (err instanceof AccountError) return undefined;
      throw err;
    });
    if (added) {
      log.info(
        'default-user',
        `first start: created user "${DEFAULT_USER}" with API key ${added.apiKey} (shown once; a lost key is replaced with: ${engines.command(['user', 'key', DEFAULT_USER, '--reset'])}). Log in at ${core.publicUrl}/login; create stream tokens with: ${engines.command(['token', 'create', '--user', DEFAULT_USER])}`,
        { user: DEFAULT_USER, apiKey: added.apiKey, loginUrl: `${core.publicUrl}/login` },
      );
    }
  }

  log.info('listening', `plotwire server at ${core.publicUrl} (streams: POST ${core.streamUrl}/), ${engines.where}`, {
    url: core.publicUrl,
    streamUrl: core.streamUrl,
    ...('dataDir' in options && { dataDir: (options as ServerOptions).dataDir }),
    ...(nodeId !== undefined && { node: nodeId }),
  });

  const closeServer = (s: NetServer): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
  let closed: Promise<void> | undefined;
  return {
    url: core.publicUrl,
    port,
    streamUrl: core.streamUrl,
    core,
    close() {
      closed ??= (async () => {
        ingest.closeAll();
        fanout.close();
        limits.close();
        // Answers already written (writers' 503s) get a moment to leave; then what lingers is cut.
        for (const s of sockets) s.end();
        const cut = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000).unref();
        const done = Promise.all([closeServer(main), ...(streamServer ? [closeServer(streamServer)] : [])]);
        await engines.close();
        await done;
        clearTimeout(cut);
      })();
      return closed;
    },
  };
}
