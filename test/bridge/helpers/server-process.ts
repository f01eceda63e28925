/**
 * The real plotwire server as a separate process through its CLI, so a test can kill -9 it and
 * start it again on the same port; users and tokens made with the CLI as a person would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { cli } from './bridge-cli.js';

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  child: ChildProcess;
  /** SIGKILL: no goodbye to anyone. */
  kill9(): Promise<void>;
  /** SIGTERM: the server ends open streams (503) and exits. */
  stop(): Promise<void>;
  /** SIGTERM without waiting for the exit. */
  terminate(): void;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
}

function launch(dataDir: string, port: number, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'server', '--port', String(port), '--host', '127.0.0.1', '--data', dataDir, '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 15 s: ${err}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let row: { event?: string; url?: string };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        return;
      }
      if (row.event === 'listening' && row.url) {
        clearTimeout(timer);
        resolve({ child, url: row.url });
      }
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startServerProcess(dataDir: string, extra: string[] = []): Promise<ServerProcess> {
  const first = await launch(dataDir, 0, extra);
  const port = Number(new URL(first.url).port);
  const server: ServerProcess = {
    url: first.url,
    port,
    child: first.child,
    async kill9() {
      server.child.kill('SIGKILL');
      await exited(server.child);
    },
    async stop() {
      server.child.kill('SIGTERM');
      await exited(server.child);
    },
    terminate() {
      server.child.kill('SIGTERM');
    },
    async restart() {
      server.child = (await launch(dataDir, port, extra)).child;
    },
  };
  return server;
}

function cliJson(args: string[]): Record<string, string> {
  const run = spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`plotwire ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}

export const addUser = (dataDir: string, name: string): string => cliJson(['user', 'add', name, '--data', dataDir]).apiKey!;
export const createToken = (dataDir: string, user: string): string => createTokenWithId(dataDir, user).token;
export function createTokenWithId(dataDir: string, user: string): { token: string; id: number } {
  const out = cliJson(['token', 'create', '--user', user, '--data', dataDir]);
  return { token: out.token!, id: Number(out.id) };
}

/** The points stored for a plot's trace, read back through the API. */
export async function storedPoints(url: string, apiKey: string, plotId: number | string, trace = 0): Promise<Array<{ x: unknown; y: number }>> {
  const res = await fetch(new URL(`/api/v1/plots/${plotId}/traces/${trace}/data?format=ndjson`, url), { headers: { authorization: `Bearer ${apiKey}` } });
  if (res.status !== 200) throw new Error(`GET trace data: ${res.status} ${await res.text()}`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { x: unknown; y: number });
}

export async function streamNext(url: string, token: string): Promise<number> {
  const res = await fetch(new URL('/api/v1/streams/state', url), { headers: { 'plotly-streamtoken': token } });
  return ((await res.json()) as { next: number }).next;
}

/** A plot whose traces stream from the tokens, made through the API as a script would. */
export async function plotFor(url: string, apiKey: string, tokens: string[], maxpoints = 10_000): Promise<number> {
  const res = await fetch(new URL('/api/v1/plots', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'test', traces: tokens.map((token) => ({ token, maxpoints, mode: 'lines' })) }),
  });
  if (res.status !== 201) throw new Error(`plot not created: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

export interface ServerFixture {
  readonly dir: string;
  readonly data: string;
  server: ServerProcess;
  apiKey: string;
  /** Run after each test, last first. */
  readonly cleanup: Array<() => unknown>;
}

/** A server process and a user for a test file, started before its tests; cleanups after each test. */
export function serverFixture(name: string, user: string): ServerFixture {
  const dir = mkdtempSync(join(tmpdir(), `pw-${name}-`));
  const fixture = { dir, data: join(dir, 'data'), cleanup: [] } as unknown as ServerFixture;
  beforeAll(async () => {
    fixture.server = await startServerProcess(fixture.data);
    fixture.apiKey = addUser(fixture.data, user);
  });
  afterEach(async () => {
    for (const c of fixture.cleanup.splice(0).reverse()) await c();
  });
  afterAll(() => fixture.server?.child.kill('SIGKILL'));
  return fixture;
}
