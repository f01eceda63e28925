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
import { plotwireCommand } from '../shared/self-command.js';
import { defaultDataDir } from './data-dir.js';
import type { Core } from './core.js';
import { PointStore } from './data/point-store.js';
import { Ingest } from './ingest/ingest.js';
import { serveHttpStream } from './ingest/http-stream.js';
import { serveRawStream } from './ingest/raw-stream.js';
import { dispatchConnection } from './listener.js';
import { Accounts } from './store/accounts.js';
import { openDatabase } from './store/database.js';
import { Plots } from './store/plots.js';
import { PlotService } from './plot-service.js';
import { Fanout } from './viewers/fanout.js';
import { apiRoutes } from './http/api.js';
import { plotlyRoutes } from './http/plotly-api.js';
import { HttpError, Router, sendJson } from './http/router.js';
import { webRoutes } from './http/web.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_USER = 'plotwire';
/** A web or API connection with no byte either way for this long is closed. */
const SOCKET_IDLE_MS = 60_000;

export interface ServerOptions {
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** A second, plain-HTTP listener that takes only streams. */
  readonly streamPort?: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly idleTimeoutMs?: number;
  readonly retentionPoints?: number;
  readonly maxDatabaseMiB?: number;
  readonly connectsPerMinute?: number;
  /** Time a client has to send a request head (default 10 s). */
  readonly headTimeoutMs?: number;
  /** Base of share URLs when clients reach the server under another name. */
  readonly publicUrl?: string;
  /** Create user "plotwire" on first start (default true). */
  readonly createDefaultUser?: boolean;
  readonly log?: Logger;
}

export interface PlotwireServer {
  readonly url: string;
  readonly streamUrl: string;
  readonly core: Core;
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

export async function startServer(options: ServerOptions): Promise<PlotwireServer> {
  const log = options.log ?? createLogger();
  const host = options.host ?? '127.0.0.1';
  const db = openDatabase(options.dataDir, { maxSizeMiB: options.maxDatabaseMiB ?? 0 });
  const accounts = new Accounts(db);
  const plots = new Plots(db);
  const store = new PointStore(db, { retentionPoints: options.retentionPoints ?? 1_000_000 });
  const fanout = new Fanout(plots, store);
  const service = new PlotService(plots, store, fanout);
  const ingest = new Ingest(accounts, store, service, {
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    connectsPerMinute: options.connectsPerMinute ?? 30,
  });
  const core: Core = { db, accounts, plots, store, fanout, service, ingest, log, publicUrl: '', streamUrl: '' };

  const router = new Router();
  apiRoutes(core, router);
  plotlyRoutes(core, router);
  webRoutes(core, router);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (req.url?.split('?')[0] === '/' && req.method === 'POST') return serveHttpStream(req, res, ingest);
      if (req.url?.split('?')[0] === '/' && req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} cannot stream: use POST`);
      if (!(await router.handle(req, res))) throw new HttpError(404, `nothing at ${req.url}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error('request-failed', `${req.method} ${req.url} failed: ${(err as Error).stack ?? err}`, { method: req.method, url: req.url });
      if (!res.headersSent) sendJson(res, status, { error: err instanceof HttpError ? err.message : 'internal server error' });
      else res.destroy();
    }
  };
  const headTimeoutMs = options.headTimeoutMs ?? 10_000;
  const http = createHttpServer((req, res) => void handle(req, res));
  // node:http runs its headersTimeout/requestTimeout checks only on a server that listens itself;
  // this one is handed sockets, so a per-socket inactivity limit is what ends stalled clients.
  // (Viewers' event streams carry a keepalive every 15 s, well inside it.)
  http.timeout = SOCKET_IDLE_MS;
  const toStream = (socket: Duplex, first: Buffer, anyPath: boolean): void =>
    serveRawStream(socket, first, ingest, {
      headTimeoutMs,
      anyPath,
      onFault: (err) => log.error('stream-failed', `a stream failed: ${(err as Error).stack ?? err}`),
    });

  // Every open connection, so close() can end them: node:http never tracks the sockets handed to it
  // (its closeAllConnections does nothing here), and a browser's idle spare connections would hold close() forever.
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const onMain = (socket: Socket): void => {
    track(socket);
    dispatchConnection(socket, http, (s, first) => toStream(s, first, false));
  };
  const main = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, onMain) : createNetServer(onMain);
  const port = await listen(main, options.port ?? DEFAULT_PORT, host);
  core.publicUrl = options.publicUrl?.replace(/\/$/, '') ?? baseUrl(options.tls ? 'https' : 'http', host, port);

  let streamServer: NetServer | undefined;
  if (options.streamPort !== undefined) {
    streamServer = createNetServer((socket) => toStream(socket, Buffer.alloc(0), true));
    streamServer.on('connection', track);
    const streamPort = await listen(streamServer, options.streamPort, host);
    core.streamUrl = baseUrl('http', host, streamPort);
  } else core.streamUrl = core.publicUrl;

  if (options.createDefaultUser !== false && accounts.userCount() === 0) {
    const { apiKey } = accounts.addUser(DEFAULT_USER);
    log.info(
      'default-user',
      `first start: created user "${DEFAULT_USER}" with API key ${apiKey} (shown once; a lost key is replaced with: ${plotwireCommand(['user', 'key', DEFAULT_USER, '--reset'], { dir: options.dataDir, defaultDir: defaultDataDir() })}). Log in at ${core.publicUrl}/login; create stream tokens with: ${plotwireCommand(['token', 'create', '--user', DEFAULT_USER], { dir: options.dataDir, defaultDir: defaultDataDir() })}`,
      { user: DEFAULT_USER, apiKey, loginUrl: `${core.publicUrl}/login` },
    );
  }

  log.info('listening', `plotwire server at ${core.publicUrl} (streams: POST ${core.streamUrl}/), data in ${options.dataDir}`, {
    url: core.publicUrl,
    streamUrl: core.streamUrl,
    dataDir: options.dataDir,
  });

  const closeServer = (s: NetServer): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
  let closed: Promise<void> | undefined;
  return {
    url: core.publicUrl,
    streamUrl: core.streamUrl,
    core,
    close() {
      closed ??= (async () => {
        ingest.closeAll();
        fanout.close();
        // Answers already written (writers' 503s) get a moment to leave; then what lingers is cut.
        for (const s of sockets) s.end();
        const cut = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000).unref();
        const done = Promise.all([closeServer(main), ...(streamServer ? [closeServer(streamServer)] : [])]);
        store.close();
        db.close();
        await done;
        clearTimeout(cut);
      })();
      return closed;
    },
  };
}
