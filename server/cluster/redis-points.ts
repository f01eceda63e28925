/**
 * Points across nodes on Redis Streams. Each token has a stream of its batches (capped near
 * what its traces show, MAXLEN ~) and a state hash (next seq, cumulative point index, epoch,
 * owner); one Lua script appends a batch, checking that its writer still owns the token, and puts
 * the same entry on the feed: one stream every node follows with one blocking XREAD, so a node
 * needs one connection for all its viewers' tokens, not one per token.
 *
 * Every node keeps tokens' recent points in memory (RecentPoints, as the embedded store
 * does, within the same budget over all tokens: RecentCache drops the least recently used, read
 * again from Redis when a viewer needs them) from the feed, so the fan-out, late joiners and Last-Event-ID resumes work the same on
 * every node, with the same point indices: a viewer that moves to another node resumes there.
 * Entries reach the viewers in the feed's order, which is the same on all nodes.
 *
 * Nothing is acknowledged before it is durable: the writer's `next` (its final answer, the state
 * API) moves only once Redis has the batch (appendfsync always: Redis answers after fsync) and
 * PostgreSQL has committed it to the history. A failure on either is a 503 for the writer, who
 * resends by seq; whatever Redis had already taken is skipped, and a token's next owner copies
 * what PostgreSQL lacks from Redis before it writes (redis-ownership.ts).
 *
 * The epoch is in every entry. A token whose Redis state is gone (Redis lost its data) starts a
 * new epoch at what PostgreSQL has; viewers whose event ids name the old one start over.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/log.js';
import { alignColumns, columnLength, type Columns, type DataChange } from '../data/columns.js';
import { sequence, type Accepted, type Applied, type CommitListener, type FailureListener, type TokenLive } from '../data/point-store.js';
import { RecentPoints, estimateBytes } from '../data/recent-points.js';
import { RecentCache } from '../data/recent-cache.js';
import { STORE_DEFAULTS } from '../data/point-store.js';
import type { PointsEngine } from '../engine.js';
import { xSpan, type RangeAnswer, type RangeQuery } from '../data/x-range.js';
import { StoreUnavailableError, TokenTakenError, type StoreHealth } from '../store/health.js';
import type { HistoryRow, PgHistory } from './pg-history.js';
import { FEED, FEED_MAXLEN, fieldsOf, stateKey, streamKey, withScripts } from './redis-keys.js';

const APPEND = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return redis.error_reply('PWNOSTATE the token has no state in Redis') end
local owner = ARGV[1]
if owner ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= owner then return redis.error_reply('PWTAKEN the token was taken over') end
local start = tonumber(redis.call('HGET', KEYS[1], 'end'))
local stop = start + tonumber(ARGV[3])
local q = tonumber(redis.call('HGET', KEYS[1], 'next'))
local given = tonumber(ARGV[5])
if given >= 0 and given > q then q = given end
redis.call('HSET', KEYS[1], 'end', stop, 'next', q)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'r', ARGV[2], 'i', start, 'e', stop, 'q', q, 'c', ARGV[4], 'a', ARGV[7], 'p', epoch)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'k', 'p', 't', ARGV[9], 'r', ARGV[2], 'i', start, 'e', stop, 'q', q, 'c', ARGV[4], 'p', epoch)
return {start, stop, q}`;

/** A token without state in Redis (never written, or Redis lost it) gets one at what PostgreSQL has, in a new epoch. */
export const ENSURE = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'end', ARGV[2], 'next', ARGV[3]) end
return redis.call('HMGET', KEYS[1], 'next', 'end', 'epoch')`;

type AppendReply = [number, number, number];

interface AppendCommands {
  pwAppend(state: string, stream: string, feed: string, ...args: (string | number)[]): Promise<AppendReply>;
  pwEnsure(state: string, ...args: (string | number)[]): Promise<[string, string, string]>;
}

export const newEpoch = (): string => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

interface Part {
  readonly replace: boolean;
  readonly cols: Columns;
  readonly json: string;
  readonly count: number;
}

interface Op {
  readonly parts: readonly Part[];
  /** The writer's next after this change, or -1 when it does not move it (points from outside the writer). */
  readonly next: number;
  readonly at: number;
}

/** A feed or stream entry, decoded. */
interface Entry {
  readonly replace: boolean;
  readonly start: number;
  readonly end: number;
  readonly next: number;
  readonly epoch: string;
  readonly json: string;
}

export interface Head extends TokenLive {
  endIndex: number;
  epoch: string;
  recent: RecentPoints | undefined;
  /** Loaded once: its position and epoch follow the feed even while its points are out of memory. */
  known: boolean;
  /** Set while the node reads the token's points; feed entries wait in `early`. */
  loading: Promise<void> | undefined;
  early: Entry[] | undefined;
  /** The owner tag of this node's writer, while it holds the token, and the number of its claim. */
  owner: string | undefined;
  claim: number;
  /** This node's writes of the token, in order; resolves false when the last failed. */
  chain: Promise<boolean>;
  queued: Op[];
}

export interface RedisPointsOptions {
  readonly capacityOf: (tokenId: number) => number;
  readonly health: StoreHealth;
  readonly log: Logger;
  /** Estimated memory of one token's recent points (default 4 MiB). */
  readonly tokenBytes?: number;
  /** Estimated memory of all tokens' recent points on this node (default 64 MiB). */
  readonly budgetBytes?: number;
}

const decode = (f: Record<string, string>): Entry => ({
  replace: f.r === '1',
  start: Number(f.i),
  end: Number(f.e),
  next: Number(f.q),
  epoch: f.p ?? '',
  json: f.c ?? '{}',
});

export class RedisPoints implements PointsEngine {
  readonly heads = new Map<number, Head>();
  private readonly commitListeners: CommitListener[] = [];
  private readonly failureListeners: FailureListener[] = [];
  private readonly takenListeners: ((tokenId: number, owner: string) => void)[] = [];
  private readonly dirty = new Set<Head>();
  private readonly cache: RecentCache<Head>;
  private timer: NodeJS.Immediate | undefined;
  private feedId = '$';
  private following = false;
  private readonly redis: Redis & AppendCommands;

  constructor(
    redis: Redis,
    private readonly feed: Redis,
    private readonly archive: PgHistory,
    private readonly options: RedisPointsOptions,
  ) {
    this.cache = new RecentCache(options.budgetBytes ?? STORE_DEFAULTS.budgetBytes);
    this.redis = withScripts<AppendCommands>(redis, { pwAppend: { keys: 3, lua: APPEND }, pwEnsure: { keys: 1, lua: ENSURE } });
  }

  /** Follows the feed from now on; call before loading tokens, so nothing between is missed. */
  async start(): Promise<void> {
    const last = (await this.redis.xrevrange(FEED, '+', '-', 'COUNT', 1))[0];
    this.feedId = last ? last[0] : '0-0';
    this.following = true;
    void this.follow();
  }

  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  onFailure(listener: FailureListener): void {
    this.failureListeners.push(listener);
  }

  /** Another writer took a token (the feed's ownership entries). */
  onTaken(listener: (tokenId: number, owner: string) => void): void {
    this.takenListeners.push(listener);
  }

  token(id: number): TokenLive {
    return this.head(id);
  }

  endIndex(tokenId: number): number {
    return this.heads.get(tokenId)?.endIndex ?? 0;
  }

  tail(tokenId: number, n: number): Columns {
    const recent = this.loaded(tokenId);
    return recent ? recent.tail(n) : {};
  }

  since(tokenId: number, index: number): Columns | undefined {
    const head = this.heads.get(tokenId);
    if (!head?.recent || head.loading) return undefined;
    if (index === head.endIndex) return {};
    this.cache.touch(head);
    return head.recent.since(index);
  }

  get memory(): { readonly bytes: number; readonly tokens: number } {
    return { bytes: this.cache.bytes, tokens: this.cache.tokens };
  }

  reshape(tokenIds: Iterable<number>): void {
    for (const id of tokenIds) {
      const head = this.heads.get(id);
      if (!head?.recent || head.loading) continue;
      const capacity = this.options.capacityOf(id);
      // More than it holds: what it lacks is in Redis, read again.
      if (capacity > head.recent.capacity) this.reload(head);
      else this.cache.change(head, (recent) => void (recent.capacity = capacity));
    }
  }

  async load(tokenIds: readonly number[]): Promise<void> {
    await Promise.all(
      tokenIds.map(async (id) => {
        const head = this.head(id);
        if (head.loading) return head.loading;
        if (head.recent) {
          // Loaded: the feed keeps its points current; its stored position is read again unless this node writes it.
          if (head.owner === undefined) {
            const next = Number((await this.redis.hget(stateKey(id), 'next').catch(() => null)) ?? head.committedNext);
            head.next = head.committedNext = Math.max(head.committedNext, next);
          }
          return;
        }
        return this.reload(head);
      }),
    );
  }

  apply(live: TokenLive, change: DataChange, seq?: number, options: { readonly sequenced?: boolean } = {}): Accepted {
    const refusal = this.options.health.refusal();
    if (refusal) throw refusal;
    const head = live as Head;
    const parts: Part[] = [];
    if (change.replace) parts.push(this.part(true, alignColumns(change.replace)));
    const { appended, duplicates } = sequence(head, change, seq, options);
    if (appended && columnLength(appended) > 0) parts.push(this.part(false, appended));
    if (parts.length === 0) return { duplicates };
    head.queued.push({ parts, next: options.sequenced === false ? -1 : head.next, at: Date.now() });
    this.dirty.add(head);
    this.timer ??= setImmediate(() => this.flush());
    return { duplicates };
  }

  flush(): boolean {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    for (const head of this.dirty) {
      const ops = head.queued.splice(0);
      head.chain = head.chain.then(() => this.write(head, ops));
    }
    this.dirty.clear();
    return !this.options.health.failing;
  }

  async commit(): Promise<void> {
    const heads = [...this.dirty];
    this.flush();
    const results = await Promise.all(heads.map((h) => h.chain));
    if (results.includes(false)) throw this.options.health.refusal() ?? new StoreUnavailableError('the points could not be stored; nothing of this request was kept, send it again later');
  }

  async settle(tokenIds: readonly number[]): Promise<void> {
    this.flush();
    await Promise.all(tokenIds.map((id) => this.heads.get(id)?.chain));
  }

  history(tokenId: number): AsyncIterable<{ replace: boolean; columns: Columns }> {
    return this.archive.history(tokenId);
  }

  range(tokenId: number, query: RangeQuery): Promise<RangeAnswer> {
    return this.archive.range(tokenId, query);
  }

  historyKeys(tokenId: number): Promise<string[]> {
    return this.archive.keys(tokenId);
  }

  epochTag(tokenIds: readonly number[]): string {
    const epochs = tokenIds.map((id) => this.heads.get(id)?.epoch ?? '');
    if (epochs.every((e) => e === '')) return '';
    // Hex, so the id's "-" between positions stays unambiguous.
    return `~${createHash('sha256').update(epochs.join(',')).digest('hex').slice(0, 8)}`;
  }

  /** Runs `task` after this node's earlier writes of the token (a claim, a release). */
  after<T>(head: Head, task: () => Promise<T>): Promise<T> {
    this.flush();
    const run = head.chain.then(task);
    head.chain = run.then(
      () => true,
      () => false,
    );
    return run;
  }

  head(id: number): Head {
    let head = this.heads.get(id);
    if (!head) {
      head = { id, next: 0, committedNext: 0, endIndex: 0, epoch: '', recent: undefined, known: false, loading: undefined, early: undefined, owner: undefined, claim: 0, chain: Promise.resolve(true), queued: [] };
      this.heads.set(id, head);
    }
    return head;
  }

  async close(): Promise<void> {
    this.following = false;
    this.flush();
    await Promise.all([...this.heads.values()].map((h) => h.chain));
    this.feed.disconnect();
  }

  private part(replace: boolean, cols: Columns): Part {
    return { replace, cols, json: JSON.stringify(cols), count: columnLength(cols) };
  }

  private loaded(tokenId: number): RecentPoints | undefined {
    const head = this.heads.get(tokenId);
    if (head?.recent) {
      this.cache.touch(head);
      return head.recent;
    }
    if (head && !head.loading) void this.reload(head).catch(() => undefined);
    return undefined;
  }

  /** Writes a token's changes in order; true when all of them are durable. */
  private async write(head: Head, ops: readonly Op[], retried = false): Promise<boolean> {
    const calls: { op: Op; part: Part; reply: Promise<AppendReply> }[] = [];
    const capacity = Math.max(1, this.options.capacityOf(head.id));
    // Sent together, without waiting between them: one connection keeps them in order.
    for (const op of ops)
      for (const part of op.parts)
        calls.push({
          op,
          part,
          reply: this.redis.pwAppend(stateKey(head.id), streamKey(head.id), FEED, head.owner ?? '', part.replace ? '1' : '0', part.count, part.json, op.next, capacity, op.at, FEED_MAXLEN, head.id),
        });
    const rows: HistoryRow[] = [];
    let failure: unknown;
    for (const call of calls) {
      try {
        const [, end, next] = await call.reply;
        if (failure === undefined) rows.push({ tokenId: head.id, endIndex: end, count: call.part.count, replace: call.part.replace, next, columns: call.part.json, at: call.op.at, ...xSpan(call.part.cols) });
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined && !retried && head.owner === undefined && /^PWNOSTATE/.test((failure as Error).message ?? '') && rows.length === 0) {
      // Points from outside a writer (initial data, extend) for a token never written: its state is made, and they go again.
      await this.ensure(head).catch(() => undefined);
      return this.write(head, ops, true);
    }
    try {
      await this.archive.add(rows);
    } catch (err) {
      failure ??= err;
    }
    if (failure === undefined) {
      this.options.health.ok();
      const last = rows.at(-1);
      if (last && last.next >= 0) head.committedNext = Math.max(head.committedNext, last.next);
      return true;
    }
    this.failed(head, failure);
    return false;
  }

  /** A token's state in Redis, made from what PostgreSQL has when Redis has none. */
  async ensure(head: Head): Promise<{ next: number; end: number; epoch: string }> {
    const pg = await this.archive.last(head.id);
    const [next, end, epoch] = await this.redis.pwEnsure(stateKey(head.id), newEpoch(), pg.end, pg.next);
    return { next: Number(next), end: Number(end), epoch };
  }

  private failed(head: Head, err: unknown): void {
    const message = (err as Error).message ?? String(err);
    const error = /^PWTAKEN/.test(message)
      ? new TokenTakenError('another connection took over this stream token')
      : this.options.health.failed(`points of token ${head.id}`, err);
    head.next = head.committedNext;
    for (const l of this.failureListeners) l(new Set([head.id]), error);
  }

  /** Reads a token's recent points from its stream (from PostgreSQL when Redis has none); feed entries meanwhile wait. */
  private reload(head: Head): Promise<void> {
    head.early ??= [];
    const loading = (async () => {
      const capacity = Math.max(1, this.options.capacityOf(head.id));
      const [state, entries] = await Promise.all([this.redis.hmget(stateKey(head.id), 'next', 'end', 'epoch'), this.redis.xrevrange(streamKey(head.id), '+', '-', 'COUNT', capacity)]);
      let batches = entries.reverse().map(([, fields]) => decode(fieldsOf(fields)));
      let end = Number(state[1] ?? 0);
      let next = Number(state[0] ?? 0);
      const epoch = state[2] ?? '';
      if (state[2] === null) {
        // No state in Redis: what PostgreSQL has (nothing yet, or Redis lost it).
        const pg = await this.archive.last(head.id);
        end = pg.end;
        next = pg.next;
        batches = [];
      }
      const newest = batches.findLastIndex((b) => b.replace);
      if (newest > 0) batches = batches.slice(newest);
      const first = batches[0];
      const recent = new RecentPoints(capacity, this.options.tokenBytes ?? STORE_DEFAULTS.tokenBytes, first ? first.start : end);
      for (const b of batches) {
        const cols = JSON.parse(b.json) as Columns;
        if (b.replace) recent.replace(cols, estimateBytes(cols));
        else recent.append(cols, estimateBytes(cols));
      }
      recent.endIndex = Math.max(recent.endIndex, end);
      this.cache.drop(head);
      this.cache.add(head, recent);
      head.known = true;
      head.endIndex = recent.endIndex;
      head.epoch = epoch;
      if (head.owner === undefined) head.next = head.committedNext = Math.max(head.committedNext, next);
    })();
    head.loading = loading;
    return loading.then(
      () => {
        head.loading = undefined;
        const early = head.early ?? [];
        head.early = undefined;
        for (const e of early) this.entry(head, e);
      },
      (err: unknown) => {
        head.loading = undefined;
        head.early = undefined;
        throw err;
      },
    );
  }

  private async follow(): Promise<void> {
    while (this.following) {
      try {
        const got = (await this.feed.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', FEED, this.feedId)) as [string, [string, string[]][]][] | null;
        for (const [, entries] of got ?? []) {
          for (const [id, fields] of entries) {
            this.feedId = id;
            this.feedEntry(fieldsOf(fields));
          }
        }
      } catch {
        if (!this.following) return;
        // Redis away: the feed is read again from where it was once it is back.
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private feedEntry(f: Record<string, string>): void {
    const head = this.heads.get(Number(f.t));
    if (!head) return;
    if (f.k === 'o') {
      // A newer claim than this node's writer's: it lost the token (an older one seen late changes nothing).
      if (head.owner === undefined || Number(f.n) <= head.claim) return;
      head.owner = undefined;
      for (const l of this.takenListeners) l(head.id, f.o ?? '');
      return;
    }
    const e = decode(f);
    if (head.loading) return void head.early?.push(e);
    if (head.known) this.entry(head, e);
  }

  /** One entry of a token's stream, in order: its points reach the viewers, and the recent points while they are in memory. */
  private entry(head: Head, e: Entry): void {
    if (head.owner === undefined) head.next = head.committedNext = Math.max(head.committedNext, e.next);
    if (e.epoch !== head.epoch && !(head.epoch === '' && e.start === head.endIndex)) return void this.reload(head).catch(() => undefined);
    head.epoch = e.epoch;
    if (e.end <= head.endIndex) return;
    // Entries missed (the feed was trimmed past this node): read the token again.
    if (e.start !== head.endIndex) return void this.reload(head).catch(() => undefined);
    const cols = JSON.parse(e.json) as Columns;
    const applied: Applied = e.replace ? { replaced: cols, appendedAt: e.end } : { appended: cols, appendedAt: e.start };
    this.cache.change(head, (recent) => {
      if (e.replace) recent.replace(cols, estimateBytes(cols));
      else recent.append(cols, estimateBytes(cols));
      recent.endIndex = e.end;
    });
    this.cache.enforce(head);
    head.endIndex = e.end;
    for (const l of this.commitListeners) l(head.id, applied);
  }
}
