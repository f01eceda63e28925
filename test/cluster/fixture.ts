/**
 * A cluster on loopback for the tests: a real redis-server, PostgreSQL 15 and HAProxy from Debian,
 * each in a temp folder on a free port, started here and stopped here; plotwire nodes as their own
 * processes (dist/, so a test can kill -9 one); HAProxy configured with the block docs/scaling.md
 * gives users, with loopback addresses.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { until } from '../helpers/wait.js';
import { cli, plotwireServerProcess, tempDir, type ServerProcess } from '../server/helpers.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const exited = (child: ChildProcess): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r())));

export class RedisServer {
  private child: ChildProcess | undefined;
  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    // Durable as docs/scaling.md asks: Redis answers a write after it is fsynced to its append-only file.
    writeFileSync(join(dir, 'redis.conf'), [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'appendonly yes', 'appendfsync always', 'save ""', 'daemonize no', 'loglevel warning'].join('\n'));
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  async start(): Promise<void> {
    this.child = spawn('redis-server', [join(this.dir, 'redis.conf')], { stdio: 'ignore' });
    await until('redis-server to answer PING', async () => {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    });
  }
  /** SIGKILL: a crash, which loses nothing it acknowledged (appendfsync always). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.child = undefined;
    child.kill(signal);
    await exited(child);
  }
}

export class PostgresServer {
  private child: ChildProcess | undefined;
  private readonly data: string;
  constructor(
    dir: string,
    readonly port: number,
  ) {
    this.data = join(dir, 'pg');
    mkdirSync(this.data);
    chmodSync(dir, 0o755);
    const { uid, gid } = userIds('postgres');
    chownSync(this.data, uid, gid);
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'initdb'), '-D', this.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore' });
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  /** Connections over TCP as `role` must give its password (scram-sha-256); the others stay trusted. */
  async requirePassword(role: string): Promise<void> {
    const hba = join(this.data, 'pg_hba.conf');
    writeFileSync(hba, `host all ${role} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), 'reload', '-D', this.data, '-s'], { stdio: 'ignore' });
    // The reload is a signal: done once the role without a password is turned away.
    await until('PostgreSQL to ask for the password', async () => {
      const c = new pg.Client({ connectionString: this.url.replace('//postgres@', `//${role}@`), password: '' });
      c.on('error', () => undefined);
      return c.connect().then(
        () => c.end().then(() => false),
        () => true,
      );
    });
  }
  /** The postmaster's (its backends are its children). */
  get pid(): number {
    return Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }
  async start(): Promise<void> {
    this.child = spawn('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'postgres'), '-D', this.data, '-p', String(this.port), '-k', this.data, '-c', 'listen_addresses=127.0.0.1', '-c', 'shared_buffers=32MB'], { stdio: 'ignore' });
    await until(
      'PostgreSQL to take connections',
      async () => {
        const c = new pg.Client({ connectionString: this.url });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } catch {
          return false;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      20_000,
    );
  }
  /** SIGINT is PostgreSQL's fast shutdown (SIGQUIT its immediate one), sent to the postmaster itself. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const pidFile = join(this.data, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, signal);
    await until(
      'PostgreSQL to stop',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      20_000,
    );
    if (this.child) await exited(this.child);
    this.child = undefined;
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = (line ?? '').split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The HAProxy configuration docs/scaling.md gives, with this bind address and these nodes. */
export function haproxyConfig(port: number, nodes: readonly { name: string; port: number }[]): string {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/scaling.md'), 'utf8');
  const block = /<!-- haproxy\.cfg[^>]*-->\n```haproxy\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/scaling.md has no haproxy.cfg block');
  const servers = nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.port}`).join('\n');
  return block.replace(/^ {4}bind :80$/m, `    bind 127.0.0.1:${port}`).replace(/(^ {4}server .*\n)+/m, `${servers}\n`);
}

export class HaproxyServer {
  private child: ChildProcess | undefined;
  constructor(
    private readonly dir: string,
    readonly port: number,
    nodes: readonly { name: string; port: number }[],
  ) {
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(port, nodes));
    execFileSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')]);
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn('haproxy', ['-db', '-f', join(this.dir, 'haproxy.cfg')], { stdio: 'ignore' });
    await until('HAProxy to pass a health request', async () => (await fetch(`${this.url}/api/v1/health`).catch(() => undefined))?.status === 200, 15_000);
  }
  async stop(): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.child = undefined;
    child.kill('SIGTERM');
    await exited(child);
  }
}

export interface Node {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  process: ServerProcess | undefined;
}

export interface Cluster {
  readonly redis: RedisServer;
  readonly postgres: PostgresServer;
  readonly haproxy: HaproxyServer | undefined;
  readonly nodes: readonly Node[];
  /** The user every test streams as, and its API key. */
  readonly user: string;
  readonly apiKey: string;
  startNode(node: Node): Promise<void>;
  /** A stream token of the user, made on this node. */
  newToken(node: Node): Promise<string>;
  close(): Promise<void>;
}

/** Redis, PostgreSQL, `count` nodes (a, b, c...) and, when asked, HAProxy in front of them. */
export async function startCluster(options: { nodes?: number; haproxy?: boolean } = {}): Promise<Cluster> {
  const tmp = tempDir('plotwire-cluster-');
  // PostgreSQL runs as its own user, which must reach its folder inside.
  chmodSync(tmp.dir, 0o755);
  const dir = (name: string): string => {
    const d = join(tmp.dir, name);
    mkdirSync(d);
    return d;
  };
  const redis = new RedisServer(dir('redis'), await freePort());
  const postgres = new PostgresServer(dir('postgres'), await freePort());
  await Promise.all([redis.start(), postgres.start()]);
  const nodes: Node[] = [];
  for (let i = 0; i < (options.nodes ?? 3); i++) {
    const name = String.fromCharCode(97 + i);
    const port = await freePort();
    nodes.push({ name, port, url: `http://127.0.0.1:${port}`, process: undefined });
  }
  const startNode = async (node: Node): Promise<void> => {
    // Behind HAProxy as docs/scaling.md runs them (its send-proxy); reached directly otherwise.
    node.process = await plotwireServerProcess(['--port', String(node.port), '--node-id', node.name, '--postgres', postgres.url, '--redis', redis.url, ...(options.haproxy ? ['--proxy-protocol'] : [])]);
  };
  // The first node makes the schema; the others start together.
  await startNode(nodes[0] as Node);
  await Promise.all(nodes.slice(1).map(startNode));
  const haproxy = options.haproxy ? new HaproxyServer(dir('haproxy'), await freePort(), nodes) : undefined;
  await haproxy?.start();
  const added = JSON.parse(execFileSync(process.execPath, [cli, 'user', 'add', 'alice', '--postgres', postgres.url, '--json'], { encoding: 'utf8' })) as { apiKey: string };
  return {
    redis,
    postgres,
    haproxy,
    nodes,
    user: 'alice',
    apiKey: added.apiKey,
    startNode,
    async newToken(node) {
      const res = await fetch(`${node.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${added.apiKey}` } });
      if (res.status !== 201) throw new Error(`token not made on node ${node.name}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await haproxy?.stop();
      await Promise.all(nodes.map((n) => n.process?.stop('SIGKILL')));
      await Promise.all([redis.stop(), postgres.stop('SIGQUIT')]);
      tmp.remove();
    },
  };
}

/** A call to a node's API as the cluster's user. */
export async function nodeApi(cluster: Cluster, node: { url: string }, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${cluster.apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}
