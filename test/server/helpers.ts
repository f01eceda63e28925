/** Servers, users, tokens and raw sockets for the server's tests: everything real, on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '../../shared/log.js';
import { startServer, type PlotwireServer, type ServerOptions } from '../../server/index.js';

export const cli = join(import.meta.dirname, '../../dist/cli/main.js');

export function tempDir(prefix = 'plotwire-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  readonly server: PlotwireServer;
  readonly port: number;
  readonly apiKey: string;
  readonly user: string;
  newToken(): string;
  close(): Promise<void>;
}

/** A server in this process on a free port, with a fresh data folder and user "alice". */
export async function testServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const data = tempDir();
  const server = await startServer({ dataDir: data.dir, port: 0, createDefaultUser: false, log: createLogger({ quiet: true }), ...options });
  const { user, apiKey } = server.core.accounts.addUser('alice');
  return {
    server,
    port: server.port,
    apiKey,
    user: user.name,
    newToken: () => server.core.accounts.createToken(user.id).token,
    async close() {
      await server.close();
      data.remove();
    },
  };
}

/** A server of its own for one test, closed after it whatever happens. */
export async function withTestServer<T>(options: Partial<ServerOptions>, body: (t: TestServer) => Promise<T>): Promise<T> {
  const t = await testServer(options);
  try {
    return await body(t);
  } finally {
    await t.close().catch(() => undefined);
  }
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  readonly json: Record<string, unknown>;
}

/** Sends byte strings on a fresh socket (with optional pauses) and reads the answer until close. */
export function rawExchange(port: number, parts: (string | Buffer | number)[], options: { keepOpen?: boolean; host?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, options.host ?? '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const body = split < 0 ? '' : text.slice(split + 4);
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // not JSON: the test looks at body
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body, json });
    });
    socket.on('connect', async () => {
      for (const p of parts) {
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else if (!socket.destroyed) socket.write(p);
      }
      if (!options.keepOpen && !socket.destroyed) socket.end();
    });
  });
}

/** A chunk as plotly.py writes it: size in upper-case hex, CRLF, data, CRLF. */
export const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16).toUpperCase()}\r\n${data}\r\n`;

export const streamHead = (token: string | undefined, extra = ''): string =>
  `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n${token === undefined ? '' : `plotly-streamtoken: ${token}\r\n`}Transfer-Encoding: chunked\r\n${extra}\r\n`;

export async function api(server: TestServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const res = await fetch(`${server.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV and the like
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Creates a plot whose traces stream from the given tokens. */
export async function createPlot(server: TestServer, tokens: string[], extra: Record<string, unknown> = {}, maxpoints = 500): Promise<Record<string, unknown>> {
  const res = await api(server, 'POST', '/api/v1/plots', { title: 'test plot', traces: tokens.map((token) => ({ token, maxpoints, mode: 'lines' })), ...extra });
  if (res.status !== 201) throw new Error(`plot not created: ${res.status} ${res.text}`);
  return res.json;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `plotwire server` as its own process, so a test can kill -9 it. */
export function serverProcess(dataDir: string, args: string[] = []): Promise<ServerProcess> {
  return plotwireServerProcess(['--data', dataDir, ...args]);
}

/** `plotwire server` with these options (a cluster node's included), on a free port unless they say one. */
export async function plotwireServerProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cli, 'server', ...(args.includes('--port') ? [] : ['--port', '0']), '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.event === 'listening') resolve(entry.url as string);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr.join('')}`)));
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    logs,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}
