/**
 * Plotly's rule across nodes: a second connection on a token ends the oldest, wherever it is.
 * A claim makes the new stream the token's owner in Redis and puts an ownership entry on the feed;
 * the node whose writer lost the token ends its stream with 449, and a write it still had in
 * flight is refused by the append script, which checks the owner (so nothing of the old writer
 * lands after the new one's first point). Claims are numbered, so a node tells a newer claim
 * from an older one it sees late.
 *
 * Before the new owner writes, it copies to PostgreSQL whatever of the token Redis has and the
 * history lacks (the old owner died between the two), so the history loses nothing either.
 */
import type { Redis } from 'ioredis';
import type { Columns } from '../data/columns.js';
import type { OwnershipEngine } from '../engine.js';
import { xSpan } from '../data/x-range.js';
import { TooManyConnectsError, type StoreHealth } from '../store/health.js';
import type { HistoryRow, PgHistory } from './pg-history.js';
import { FEED, FEED_MAXLEN, connectsKey, fieldsOf, stateKey, streamKey, withScripts } from './redis-keys.js';
import { newEpoch, type RedisPoints } from './redis-points.js';

// The connection limit first, by Redis's clock (the same for every node): a refused claim takes nothing.
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60000)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then return redis.error_reply('PWCONNECTS too many connections a minute') end
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('PEXPIRE', KEYS[3], 60000)
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'end', ARGV[4], 'next', ARGV[5]) end
local n = redis.call('HINCRBY', KEYS[1], 'claims', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'writer', ARGV[7])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'k', 'o', 't', ARGV[2], 'o', ARGV[1], 'n', n)
local s = redis.call('HMGET', KEYS[1], 'next', 'end', 'epoch')
return {s[1], s[2], s[3], n}`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('HDEL', KEYS[1], 'owner', 'writer') end
return 1`;

interface OwnershipCommands {
  pwClaim(state: string, feed: string, connects: string, ...args: (string | number)[]): Promise<[string, string, string, number]>;
  pwRelease(state: string, owner: string): Promise<number>;
}

export class RedisOwnership implements OwnershipEngine {
  private readonly redis: Redis & OwnershipCommands;

  constructor(
    redis: Redis,
    private readonly points: RedisPoints,
    private readonly archive: PgHistory,
    private readonly health: StoreHealth,
  ) {
    this.redis = withScripts<OwnershipCommands>(redis, { pwClaim: { keys: 3, lua: CLAIM }, pwRelease: { keys: 1, lua: RELEASE } });
  }

  claim(tokenId: number, owner: string, writer: string | null, connectsPerMinute: number): Promise<void> {
    const head = this.points.head(tokenId);
    return this.points.after(head, async () => {
      const refusal = this.health.refusal();
      if (refusal) throw refusal;
      try {
        await this.points.load([tokenId]);
        const pg = await this.archive.last(tokenId);
        await this.catchUp(tokenId, pg.end);
        const [next, , , n] = await this.redis.pwClaim(stateKey(tokenId), FEED, connectsKey(tokenId), owner, tokenId, newEpoch(), pg.end, pg.next, FEED_MAXLEN, writer ?? '', connectsPerMinute);
        head.owner = owner;
        head.claim = Number(n);
        head.next = head.committedNext = Number(next);
        this.health.ok();
      } catch (err) {
        if (/^PWCONNECTS/.test((err as Error).message ?? '')) throw new TooManyConnectsError(`more than ${connectsPerMinute} connections a minute for this token (on all nodes together)`);
        throw this.health.failed('a stream claim', err);
      }
    });
  }

  release(tokenId: number, owner: string): void {
    const head = this.points.head(tokenId);
    void this.points
      .after(head, async () => {
        if (head.owner === owner) head.owner = undefined;
        await this.redis.pwRelease(stateKey(tokenId), owner);
      })
      // Redis away: the next claim takes the token whoever holds it.
      .catch(() => undefined);
  }

  async writerOf(tokenId: number): Promise<string | null> {
    return (await this.redis.hget(stateKey(tokenId), 'writer')) || null;
  }

  onTaken(listener: (tokenId: number, owner: string) => void): void {
    this.points.onTaken(listener);
  }

  /** What the token's stream in Redis has past PostgreSQL's newest batch, written to the history. */
  private async catchUp(tokenId: number, pgEnd: number): Promise<void> {
    const entries = await this.redis.xrange(streamKey(tokenId), '-', '+');
    const rows: HistoryRow[] = [];
    for (const [, fields] of entries) {
      const f = fieldsOf(fields);
      const end = Number(f.e);
      if (end <= pgEnd) continue;
      rows.push({ tokenId, endIndex: end, count: end - Number(f.i), replace: f.r === '1', next: Number(f.q), columns: f.c ?? '{}', at: Number(f.a), ...xSpan(JSON.parse(f.c ?? '{}') as Columns) });
    }
    await this.archive.add(rows);
  }
}
