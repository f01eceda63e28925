/** Where the cluster keeps things in Redis, and the Redis client settings every part shares. */
import { Redis } from 'ioredis';

/** A token's state: next (writer's seq), end (cumulative point index), epoch, owner. */
export const stateKey = (tokenId: number): string => `plotwire:token:${tokenId}`;
/** A token's recent points, one entry per batch, capped near what its traces show. */
export const streamKey = (tokenId: number): string => `plotwire:points:${tokenId}`;
/** When a token's connections of the last minute came, on every node (a sorted set by time). */
export const connectsKey = (tokenId: number): string => `plotwire:connects:${tokenId}`;
/** Every token's entries and ownership changes, in one stream every node follows. */
export const FEED = 'plotwire:feed';
/** Entries the feed keeps: a node further behind than this reloads the tokens it missed from their own streams. */
export const FEED_MAXLEN = 100_000;

/**
 * A command connection: while Redis is away commands fail at once (writers get 503) rather than
 * wait in a queue, and a command in flight when the connection broke is never sent again (it may
 * have run: the writer resends by seq, which skips what is stored).
 */
export function commandClient(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: (n) => Math.min(100 * n, 1000) });
  redis.on('error', () => undefined);
  return redis;
}

/** The connection that blocks on the feed (XREAD BLOCK): one per node, whatever the number of tokens. */
export function feedClient(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: (n) => Math.min(100 * n, 1000) });
  redis.on('error', () => undefined);
  return redis;
}

/** A stream entry's fields as an object. */
export function fieldsOf(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
  return out;
}

/** The client with these Lua scripts as commands (sent by their SHA, loaded again after a Redis restart). */
export function withScripts<C>(redis: Redis, scripts: Record<string, { readonly keys: number; readonly lua: string }>): Redis & C {
  for (const [name, { keys, lua }] of Object.entries(scripts)) redis.defineCommand(name, { numberOfKeys: keys, lua });
  return redis as Redis & C;
}
