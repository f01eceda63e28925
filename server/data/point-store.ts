/**
 * Every token's points: all within retention in SQLite, written in batched transactions, and the
 * newest in memory (RecentPoints) for viewers.
 *
 * Nothing is acknowledged before it is durable: an accepted change waits in `pending` until its
 * transaction returns, and only then does it reach the token's in-memory points, its
 * `committedNext` (what the server reports as stored) and the viewers (the commit listeners). A
 * transaction that fails drops its batch, puts every token in it back where its last commit left
 * it and tells the failure listeners which tokens lost what they had sent, so their writers get
 * 503 and resend.
 *
 * Memory: a token's recent points are bounded by what its traces can show (their largest
 * maxpoints) and by `tokenBytes`; all tokens' together by `budgetBytes`, past which the least
 * recently used are dropped from memory (they are on disk) and loaded again when needed. Disk:
 * each token keeps its newest `retentionPoints` points and at most `retentionBytes` bytes.
 *
 * (Longer than most modules: it is the one pipeline of a change, accepted, committed, shown,
 * or rolled back, kept together so its order can be read in one place. The SQL is in
 * chunk-table.ts, the memory budget in recent-cache.ts.)
 */
import type { Db } from '../store/database.js';
import { type StoreHealth, StoreUnavailableError } from '../store/health.js';
import { alignColumns, columnLength, sliceColumns, type Columns, type DataChange } from './columns.js';
import { ChunkTable } from './chunk-table.js';
import { RecentCache } from './recent-cache.js';
import { storedRange, type RangeAnswer, type RangeQuery } from './x-range.js';
import { type RecentPoints, estimateBytes } from './recent-points.js';
import { PlotwireError } from '../../shared/errors.js';

export { StoreUnavailableError };

/** What the rest of the server sees of a token's position. */
export interface TokenLive {
  readonly id: number;
  /** Seq of the next point a writer should send (points accepted, stored or still pending). */
  next: number;
  /** `next` as far as it is on disk: what the server reports as stored. */
  committedNext: number;
}

interface Head extends TokenLive {
  /** Cumulative point index after the newest committed point. */
  endIndex: number;
  /** The same, counting pending changes. */
  pendingEnd: number;
  /** Bytes of this token's stored chunks. */
  storedBytes: number;
  /** The newest points, when loaded. */
  recent: RecentPoints | undefined;
}

/** What a committed change did, for the viewers. */
export interface Applied {
  readonly replaced?: Columns;
  readonly appended?: Columns;
  /** Cumulative index of the first appended point. */
  readonly appendedAt: number;
}

/** What accepting a change did (it is stored later, or refused through the failure listeners). */
export interface Accepted {
  /** Points skipped because the server already had them (a resend). */
  readonly duplicates: number;
}

interface Part {
  readonly cols: Columns;
  readonly json: string;
  readonly count: number;
  readonly bytes: number;
  /** Cumulative index after this part. */
  readonly endIndex: number;
}

interface PendingOp {
  readonly head: Head;
  readonly replace?: Part;
  readonly append?: Part;
  /** The token's `next` once this change is stored. */
  readonly next: number;
  readonly at: number;
}

export interface PointStoreOptions {
  /** Points kept on disk per token; older ones are deleted. */
  readonly retentionPoints: number;
  /** Bytes kept on disk per token (stored JSON); older chunks are deleted. */
  readonly retentionBytes?: number;
  /** Estimated memory of one token's recent points. */
  readonly tokenBytes?: number;
  /** Estimated memory of all tokens' recent points together. */
  readonly budgetBytes?: number;
  /** Points a token's traces can show (their largest maxpoints): its recent points are bounded by it. */
  readonly capacityOf: (tokenId: number) => number;
  readonly health: StoreHealth;
  /**
   * How long accepted points may wait before their transaction. Default: none beyond the current
   * turn of the event loop (everything that arrived in one poll of the sockets commits together,
   * so transactions grow with the load by themselves, and viewers wait only for the commit).
   */
  readonly flushMs?: number;
}

export const STORE_DEFAULTS = {
  retentionBytes: 64 * 1024 * 1024,
  tokenBytes: 4 * 1024 * 1024,
  budgetBytes: 64 * 1024 * 1024,
} as const;

/** Pending changes past either bound are written at once rather than at the next tick. */
const MAX_PENDING_OPS = 512;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
const RETENTION_EVERY_MS = 5_000;

/** A token id that is not in the database (a caller's bug: ids come from the database). */
export class UnknownTokenError extends PlotwireError {
  readonly code = 'PW_ERR_UNKNOWN_TOKEN';
}

/**
 * What of a change's appended points the token does not have yet, by the writer's seq: points
 * before `next` are a resend and skipped; `next` moves on (not at all for `sequenced: false`).
 */
export function sequence(head: { next: number }, change: DataChange, seq: number | undefined, options: { readonly sequenced?: boolean }): { appended: Columns | undefined; duplicates: number } {
  let appended = change.append;
  let duplicates = 0;
  if (options.sequenced !== false) {
    if (appended && seq !== undefined) {
      duplicates = Math.min(change.appendCount, Math.max(0, head.next - seq));
      if (duplicates > 0) appended = duplicates === change.appendCount ? undefined : sliceColumns(appended, duplicates);
      head.next = Math.max(head.next, seq + change.appendCount);
    } else if (appended) head.next += change.appendCount;
  }
  return { appended, duplicates };
}

export type CommitListener = (tokenId: number, applied: Applied) => void;
/** Tokens whose accepted changes were lost with a failed transaction, and why. */
export type FailureListener = (tokenIds: ReadonlySet<number>, err: StoreUnavailableError) => void;

export class PointStore {
  private readonly heads = new Map<number, Head>();
  /** Heads with recent points in memory, least recently used first. */
  private readonly cache: RecentCache<Head>;
  private pending: PendingOp[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly retentionTimer: NodeJS.Timeout;
  private readonly touched = new Set<Head>();
  private readonly commitListeners: CommitListener[] = [];
  private readonly failureListeners: FailureListener[] = [];
  private readonly limits: Required<Pick<PointStoreOptions, 'retentionBytes' | 'tokenBytes'>>;

  private readonly chunks: ChunkTable;

  constructor(
    private readonly db: Db,
    private readonly options: PointStoreOptions,
  ) {
    this.chunks = new ChunkTable(db);
    this.cache = new RecentCache(options.budgetBytes ?? STORE_DEFAULTS.budgetBytes);
    this.limits = {
      retentionBytes: options.retentionBytes ?? STORE_DEFAULTS.retentionBytes,
      tokenBytes: options.tokenBytes ?? STORE_DEFAULTS.tokenBytes,
    };
    this.retentionTimer = setInterval(() => this.enforceRetention(), RETENTION_EVERY_MS).unref();
  }

  /** Called after each committed change, in commit order (the viewers' fan-out). */
  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  /** Called when a failed transaction dropped changes the writers of these tokens were told were accepted. */
  onFailure(listener: FailureListener): void {
    this.failureListeners.push(listener);
  }

  /** The position of a token, loaded from disk on first use. */
  token(id: number): TokenLive {
    return this.head(id);
  }

  /** Cumulative index after a token's newest stored point. */
  endIndex(tokenId: number): number {
    return this.head(tokenId).endIndex;
  }

  /** A token's newest n stored points. */
  tail(tokenId: number, n: number): Columns {
    return this.recentOf(this.head(tokenId)).tail(n);
  }

  /** A token's stored points from cumulative index `index` on, or undefined when they are no longer in memory. */
  since(tokenId: number, index: number): Columns | undefined {
    const head = this.head(tokenId);
    if (index === head.endIndex) return {};
    return this.recentOf(head).since(index);
  }

  /** Estimated memory of every token's recent points, and how many tokens have theirs loaded. */
  get memory(): { readonly bytes: number; readonly tokens: number } {
    return { bytes: this.cache.bytes, tokens: this.cache.tokens };
  }

  /** The traces fed by these tokens changed: their recent points follow the new capacity. */
  reshape(tokenIds: Iterable<number>): void {
    for (const id of tokenIds) {
      const head = this.heads.get(id);
      if (!head?.recent) continue;
      const capacity = this.options.capacityOf(id);
      // More than it holds: what it lacks is on disk, loaded when next needed.
      if (capacity > head.recent.capacity) this.cache.drop(head);
      else this.cache.change(head, (recent) => void (recent.capacity = capacity));
    }
  }

  /**
   * Accepts a stream object's change to a token; it is stored at the next flush. With `seq`,
   * points the token already has are skipped (a writer resending after a break) and `next`
   * follows the writer's numbering; `sequenced: false` appends without touching `next` at all
   * (points that come from outside the writer's numbering, such as Plotly's fileopt=extend).
   * Throws StoreUnavailableError while the database refuses writes.
   */
  apply(live: TokenLive, change: DataChange, seq?: number, options: { readonly sequenced?: boolean } = {}): Accepted {
    const refusal = this.options.health.refusal();
    if (refusal) throw refusal;
    const head = live as Head;
    let replace: Part | undefined;
    if (change.replace) replace = this.part(head, alignColumns(change.replace));
    const { appended, duplicates } = sequence(head, change, seq, options);
    const append = appended && columnLength(appended) > 0 ? this.part(head, appended) : undefined;
    if (!replace && !append) return { duplicates };
    this.pending.push({ head, ...(replace && { replace }), ...(append && { append }), next: head.next, at: Date.now() });
    this.pendingBytes += (replace?.json.length ?? 0) + (append?.json.length ?? 0);
    if (this.pending.length >= MAX_PENDING_OPS || this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else this.timer ??= this.options.flushMs ? setTimeout(() => this.flush(), this.options.flushMs) : setImmediate(() => this.flush());
    return { duplicates };
  }

  /**
   * Writes every pending change in one transaction; afterwards they count as stored and reach
   * the viewers. False when the transaction failed (the failure listeners were told).
   */
  flush(): boolean {
    this.cancelTimer();
    if (this.pending.length === 0) return true;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const heads = new Set<Head>();
    try {
      this.db.transaction(() => {
        for (const op of batch) {
          const { head } = op;
          heads.add(head);
          if (op.replace) {
            const id = this.insert(head, true, op.replace, op.at);
            // A replace makes everything before it unreachable.
            head.storedBytes -= this.chunks.dropBefore(head.id, id);
          }
          if (op.append) this.insert(head, false, op.append, op.at);
        }
        for (const head of heads) {
          const last = batch.findLast((op) => op.head === head) as PendingOp;
          this.chunks.setToken(head.id, last.next, (last.append ?? last.replace)?.endIndex as number, head.storedBytes);
        }
      })();
    } catch (err) {
      this.failed(batch, heads, err);
      return false;
    }
    this.options.health.ok();
    for (const op of batch) this.committed(op);
    for (const head of heads) {
      this.touched.add(head);
      if (head.storedBytes > this.limits.retentionBytes + Math.max(1024 * 1024, this.limits.retentionBytes / 16)) this.retain(head);
    }
    this.cache.enforce();
    return true;
  }

  /** Flushes, or throws StoreUnavailableError when the changes could not be stored (for answers that must wait for it). */
  commit(): void {
    if (!this.flush()) throw this.options.health.refusal() ?? new StoreUnavailableError('the database refused the write; nothing of this request was stored');
  }

  /** Every stored chunk of a token, oldest first, for export. */
  *history(tokenId: number): Generator<{ replace: boolean; columns: Columns }> {
    this.flush();
    yield* this.chunks.history(tokenId);
  }

  /** A token's stored points with x in a range (the past a viewer scrolled to), bounded by the query. */
  range(tokenId: number, query: RangeQuery): RangeAnswer {
    this.flush();
    return storedRange(this.chunks, tokenId, query);
  }

  /** Every column name a token's stored points use, for an export's header: x, y, z, text, then the styles by name. */
  historyKeys(tokenId: number): string[] {
    this.flush();
    return this.chunks.keys(tokenId);
  }

  /** Deletes what falls outside the retention window (points and bytes) of tokens written lately. */
  enforceRetention(): void {
    for (const head of this.touched) this.retain(head);
    this.touched.clear();
  }

  close(): void {
    clearInterval(this.retentionTimer);
    this.flush();
    this.cancelTimer();
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    if ('hasRef' in this.timer && 'refresh' in this.timer) clearTimeout(this.timer);
    else clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private head(id: number): Head {
    let head = this.heads.get(id);
    if (head) return head;
    const row = this.chunks.token(id);
    if (!row) throw new UnknownTokenError(`no stream token with id ${id}`);
    head = { id, next: row.next, committedNext: row.next, endIndex: row.endIndex, pendingEnd: row.endIndex, storedBytes: row.storedBytes, recent: undefined };
    this.heads.set(id, head);
    return head;
  }

  /** A token's recent points, loaded from disk when not in memory (newest chunks first, as far as both bounds allow). */
  private recentOf(head: Head): RecentPoints {
    if (head.recent) {
      this.cache.touch(head);
      return head.recent;
    }
    const recent = this.chunks.loadRecent(head.id, head.endIndex, this.options.capacityOf(head.id), this.limits.tokenBytes);
    this.cache.add(head, recent);
    return recent;
  }

  private part(head: Head, cols: Columns): Part {
    const count = columnLength(cols);
    head.pendingEnd += count;
    return { cols, json: JSON.stringify(cols), count, bytes: estimateBytes(cols), endIndex: head.pendingEnd };
  }

  private insert(head: Head, replace: boolean, part: Part, at: number): number | bigint {
    const size = Buffer.byteLength(part.json);
    head.storedBytes += size;
    return this.chunks.insert(head.id, replace, part.endIndex, part.count, part.json, size, at);
  }

  /** A stored change reaches the token's position, its recent points and the viewers. */
  private committed(op: PendingOp): void {
    const { head } = op;
    head.committedNext = op.next;
    if (op.replace) {
      head.endIndex = op.replace.endIndex;
      this.cache.change(head, (recent) => recent.replace(op.replace?.cols ?? {}, op.replace?.bytes));
    }
    const appendedAt = head.endIndex;
    if (op.append) {
      head.endIndex = op.append.endIndex;
      this.cache.change(head, (recent) => recent.append(op.append?.cols ?? {}, op.append?.bytes));
    }
    const applied: Applied = { ...(op.replace && { replaced: op.replace.cols }), ...(op.append && { appended: op.append.cols }), appendedAt };
    for (const listener of this.commitListeners) listener(head.id, applied);
  }

  /** A transaction failed: its tokens go back to their last commit, and their writers are told. */
  private failed(batch: readonly PendingOp[], heads: Set<Head>, err: unknown): void {
    for (const op of batch) heads.add(op.head);
    const error = this.options.health.failed(`${batch.length} changes of ${heads.size} tokens`, err);
    for (const head of heads) {
      head.next = head.committedNext;
      head.pendingEnd = head.endIndex;
      try {
        head.storedBytes = this.chunks.storedBytes(head.id);
      } catch {
        // The database is gone entirely; the figure no longer matters.
      }
    }
    const ids = new Set([...heads].map((h) => h.id));
    for (const listener of this.failureListeners) listener(ids, error);
  }

  /** Deletes a token's chunks past its retention in points and in bytes (never its newest chunk). */
  private retain(head: Head): void {
    try {
      const dropped = this.chunks.retain(head.id, head.endIndex, head.storedBytes, this.options.retentionPoints, this.limits.retentionBytes);
      head.storedBytes -= dropped;
    } catch {
      // Deleting is tried again with the next write; a full disk is reported by the writes themselves.
    }
  }
}
