/**
 * The cluster's engines: PostgreSQL for accounts, plots and the long history, Redis Streams for
 * recent points, fan-out and token ownership. Any number of nodes built on the same two share
 * everything; each keeps replicas in memory that notifications keep current.
 */
import { hostname } from 'node:os';
import type { Logger } from '../../shared/log.js';
import type { Engines, RemoteChange } from '../engine.js';
import { StoreHealth } from '../store/health.js';
import { migrate, openPool, postgresHint, redactUrl } from './pg.js';
import { PgAccounts } from './pg-accounts.js';
import { PgHistory } from './pg-history.js';
import { PgNotify } from './pg-notify.js';
import { PgPlots } from './pg-plots.js';
import { commandClient, feedClient } from './redis-keys.js';
import { RedisOwnership } from './redis-ownership.js';
import { RedisPoints } from './redis-points.js';

export interface ClusterOptions {
  /** redis://host:port (the Redis every node shares). */
  readonly redis: string;
  /** postgres://user@host:port/db (the PostgreSQL every node shares). */
  readonly postgres: string;
  /** This node's name, unique in the cluster (default: host name and process id). */
  readonly nodeId?: string;
  /** Days of points history kept in PostgreSQL (default 30). */
  readonly historyDays?: number;
  /** Memory for one token's recent points, in KiB (default 4096). */
  readonly tokenMemoryKiB?: number;
  /** Memory for the recent points of all tokens on this node, in MiB (default 64). */
  readonly memoryMiB?: number;
}

export async function clusterEngines(options: ClusterOptions, log: Logger): Promise<Engines & { readonly nodeId: string }> {
  const nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
  const pool = openPool(options.postgres);
  const redis = commandClient(options.redis);
  const feed = feedClient(options.redis);
  try {
    await migrate(pool);
    await redis.connect();
    await feed.connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    feed.disconnect();
    throw err;
  }
  await warnUnlessDurable(redis, log);
  const health = new StoreHealth(log);
  const archive = new PgHistory(pool, log, options.historyDays ?? 30);
  await archive.start();
  const plots = new PgPlots(pool, health, nodeId);
  const points = new RedisPoints(redis, feed, archive, {
    capacityOf: (id) => plots.capacityOf(id),
    health,
    log,
    ...(options.tokenMemoryKiB !== undefined && { tokenBytes: options.tokenMemoryKiB * 1024 }),
    ...(options.memoryMiB !== undefined && { budgetBytes: options.memoryMiB * 1024 * 1024 }),
  });
  const accounts = new PgAccounts(pool, health, (id) => {
    const head = points.heads.get(id);
    return { next: head?.committedNext ?? 0, end: head?.endIndex ?? 0 };
  });
  const ownership = new RedisOwnership(redis, points, archive, health);
  const notify = new PgNotify(options.postgres, nodeId, log);
  const listeners: ((change: RemoteChange) => void)[] = [];
  const tell = (change: RemoteChange): void => {
    for (const l of listeners) l(change);
  };
  notify.onChange(async (change) => {
    await accounts.changed(change);
    const remote = await plots.changed(change);
    if (!remote) return;
    // A plot's new tokens are read before a request that follows can see the plot (the barrier waits for this).
    if (remote.kind === 'plot') await points.load(remote.tokens);
    tell(remote);
  });
  accounts.onRevoked((tokenId) => tell({ kind: 'revoked', tokenId }));
  const loadAll = async (): Promise<void> => {
    await accounts.load();
    await plots.load();
    await points.load(plots.streamedTokens());
  };
  notify.onReconnect(loadAll);
  // Listening first, then reading: nothing committed in between is missed. The feed likewise.
  await notify.start();
  await points.start();
  await loadAll();
  return {
    nodeId,
    accounts,
    plots,
    store: points,
    health,
    ownership,
    sync: () => notify.sync(),
    onRemote: (listener) => void listeners.push(listener),
    where: `node ${nodeId}: accounts and plots in PostgreSQL at ${redactUrl(options.postgres)}, points in Redis at ${redactUrl(options.redis)}`,
    command: (args) => postgresHint(args, options.postgres),
    async close() {
      await notify.close();
      await points.close();
      await archive.close();
      redis.disconnect();
      await pool.end();
    },
  };
}

/** Nothing is acknowledged before it is durable: that needs Redis to fsync every write (appendfsync always). */
async function warnUnlessDurable(redis: import('ioredis').Redis, log: Logger): Promise<void> {
  try {
    const [, aof] = (await redis.config('GET', 'appendonly')) as [string, string];
    const [, fsync] = (await redis.config('GET', 'appendfsync')) as [string, string];
    if (aof !== 'yes' || fsync !== 'always') {
      log.warn('redis-not-durable', `Redis runs with appendonly ${aof}, appendfsync ${fsync}: points it acknowledged can be lost in a crash; set "appendonly yes" and "appendfsync always" (docs/scaling.md)`, { appendonly: aof, appendfsync: fsync });
    }
  } catch {
    // CONFIG may be renamed away on a managed Redis: nothing to check then.
  }
}
