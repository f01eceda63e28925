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
 */
import type { Db } from '../store/database.js';
import { type StoreHealth, StoreUnavailableError } from '../store/health.js';
import { columnLength, sliceColumns, type Columns, type DataChange } from './columns.js';
import { RecentPoints, estimateBytes } from './recent-points.js';
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
/** Columns an export names first, in this order. */
const FIRST_KEYS = ['x', 'y', 'z', 'text'];

/** A token id that is not in the database (a caller's bug: ids come from the database). */
export class UnknownTokenError extends PlotwireError {
  readonly code = 'PW_ERR_UNKNOWN_TOKEN';
}

export type CommitListener = (tokenId: number, applied: Applied) => void;
/** Tokens whose accepted changes were lost with a failed transaction, and why. */
export type FailureListener = (tokenIds: ReadonlySet<number>, err: StoreUnavailableError) => void;

export class PointStore {
  private readonly heads = new Map<number, Head>();
  /** Heads with recent points in memory, least recently used first. */
  private readonly loaded = new Map<number, Head>();
  private recentBytes = 0;
  private pending: PendingOp[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly retentionTimer: NodeJS.Timeout;
  private readonly touched = new Set<Head>();
  private readonly commitListeners: CommitListener[] = [];
  private readonly failureListeners: FailureListener[] = [];
  private readonly limits: Required<Pick<PointStoreOptions, 'retentionBytes' | 'tokenBytes' | 'budgetBytes'>>;

  private readonly insertChunk;
  private readonly updateToken;
  private readonly sizeBefore;
  private readonly dropBefore;
  private readonly dropUpTo;
  private readonly sizeUpTo;

  constructor(
    private readonly db: Db,
    private readonly options: PointStoreOptions,
  ) {
    this.limits = {
      retentionBytes: options.retentionBytes ?? STORE_DEFAULTS.retentionBytes,
      tokenBytes: options.tokenBytes ?? STORE_DEFAULTS.tokenBytes,
      budgetBytes: options.budgetBytes ?? STORE_DEFAULTS.budgetBytes,
    };
    this.insertChunk = db.prepare('INSERT INTO chunks (token_id, replace, end_index, count, columns, received_at, size) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.updateToken = db.prepare('UPDATE tokens SET next_seq = ?, end_index = ?, stored_bytes = ? WHERE id = ?');
    this.sizeBefore = db.prepare('SELECT coalesce(sum(size), 0) AS n FROM chunks WHERE token_id = ? AND id < ?').pluck();
    this.dropBefore = db.prepare('DELETE FROM chunks WHERE token_id = ? AND id < ?');
    this.sizeUpTo = db.prepare('SELECT coalesce(sum(size), 0) AS n FROM chunks WHERE token_id = ? AND end_index <= ?').pluck();
    this.dropUpTo = db.prepare('DELETE FROM chunks WHERE token_id = ? AND end_index <= ?');
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
    return { bytes: this.recentBytes, tokens: this.loaded.size };
  }

  /** The traces fed by these tokens changed: their recent points follow the new capacity. */
  reshape(tokenIds: Iterable<number>): void {
    for (const id of tokenIds) {
      const head = this.heads.get(id);
      if (!head?.recent) continue;
      const capacity = this.options.capacityOf(id);
      // More than it holds: what it lacks is on disk, loaded when next needed.
      if (capacity > head.recent.capacity) this.evict(head);
      else this.measure(head, () => void ((head.recent as RecentPoints).capacity = capacity));
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
    if (change.replace) replace = this.part(head, change.replace);
    let appended = change.append;
    let duplicates = 0;
    if (options.sequenced !== false) {
      if (appended && seq !== undefined) {
        duplicates = Math.min(change.appendCount, Math.max(0, head.next - seq));
        if (duplicates > 0) appended = duplicates === change.appendCount ? undefined : sliceColumns(appended, duplicates);
        head.next = Math.max(head.next, seq + change.appendCount);
      } else if (appended) head.next += change.appendCount;
    }
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
            head.storedBytes -= this.sizeBefore.get(head.id, id) as number;
            this.dropBefore.run(head.id, id);
          }
          if (op.append) this.insert(head, false, op.append, op.at);
        }
        for (const head of heads) {
          const last = batch.findLast((op) => op.head === head) as PendingOp;
          this.updateToken.run(last.next, (last.append ?? last.replace)?.endIndex, head.storedBytes, head.id);
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
    this.enforceBudget();
    return true;
  }

  /** Flushes, or throws StoreUnavailableError when the changes could not be stored (for answers that must wait for it). */
  commit(): void {
    if (!this.flush()) throw this.options.health.refusal() ?? new StoreUnavailableError('the database refused the write; nothing of this request was stored');
  }

  /** Every stored chunk of a token, oldest first, for export. */
  *history(tokenId: number): Generator<{ replace: boolean; columns: Columns }> {
    this.flush();
    const rows = this.db.prepare('SELECT replace, columns FROM chunks WHERE token_id = ? ORDER BY end_index').iterate(tokenId) as Iterable<{ replace: number; columns: string }>;
    for (const r of rows) yield { replace: r.replace === 1, columns: JSON.parse(r.columns) as Columns };
  }

  /** Every column name a token's stored points use, for an export's header: x, y, z, text, then the styles by name. */
  historyKeys(tokenId: number): string[] {
    this.flush();
    const keys = this.db.prepare('SELECT DISTINCT j.key FROM chunks c, json_each(c.columns) j WHERE c.token_id = ?').pluck().all(tokenId) as string[];
    const rank = (k: string): number => {
      const i = FIRST_KEYS.indexOf(k);
      return i < 0 ? FIRST_KEYS.length : i;
    };
    return keys.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
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
    const row = this.db.prepare('SELECT next_seq AS next, end_index AS endIndex, stored_bytes AS storedBytes FROM tokens WHERE id = ?').get(id) as
      | { next: number; endIndex: number; storedBytes: number }
      | undefined;
    if (!row) throw new UnknownTokenError(`no stream token with id ${id}`);
    head = { id, next: row.next, committedNext: row.next, endIndex: row.endIndex, pendingEnd: row.endIndex, storedBytes: row.storedBytes, recent: undefined };
    this.heads.set(id, head);
    return head;
  }

  /** A token's recent points, loaded from disk when not in memory (newest chunks first, as far as both bounds allow). */
  private recentOf(head: Head): RecentPoints {
    if (head.recent) {
      this.loaded.delete(head.id);
      this.loaded.set(head.id, head);
      return head.recent;
    }
    const capacity = this.options.capacityOf(head.id);
    let points = 0;
    let bytes = 0;
    let from = head.endIndex;
    const rows = this.db
      .prepare('SELECT replace, end_index AS endIndex, count, size FROM chunks WHERE token_id = ? AND end_index > ? ORDER BY end_index DESC')
      .iterate(head.id, head.endIndex - Math.max(capacity, 1)) as Iterable<{ replace: number; endIndex: number; count: number; size: number }>;
    for (const r of rows) {
      from = r.endIndex - r.count;
      points += r.count;
      bytes += r.size;
      if (r.replace || points >= capacity || bytes >= this.limits.tokenBytes) break;
    }
    const recent = new RecentPoints(capacity, this.limits.tokenBytes, from);
    const chunks = this.db
      .prepare('SELECT replace, columns FROM chunks WHERE token_id = ? AND end_index > ? ORDER BY end_index')
      .iterate(head.id, from) as Iterable<{ replace: number; columns: string }>;
    for (const c of chunks) {
      const cols = JSON.parse(c.columns) as Columns;
      if (c.replace) recent.replace(cols);
      else recent.append(cols);
    }
    head.recent = recent;
    this.recentBytes += recent.bytes;
    this.loaded.set(head.id, head);
    this.enforceBudget(head);
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
    return this.insertChunk.run(head.id, replace ? 1 : 0, part.endIndex, part.count, part.json, at, size).lastInsertRowid;
  }

  /** A stored change reaches the token's position, its recent points and the viewers. */
  private committed(op: PendingOp): void {
    const { head } = op;
    head.committedNext = op.next;
    if (op.replace) {
      head.endIndex = op.replace.endIndex;
      if (head.recent) this.measure(head, () => head.recent?.replace(op.replace?.cols ?? {}, op.replace?.bytes));
    }
    const appendedAt = head.endIndex;
    if (op.append) {
      head.endIndex = op.append.endIndex;
      if (head.recent) this.measure(head, () => head.recent?.append(op.append?.cols ?? {}, op.append?.bytes));
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
        head.storedBytes = this.db.prepare('SELECT stored_bytes FROM tokens WHERE id = ?').pluck().get(head.id) as number;
      } catch {
        // The database is gone entirely; the figure no longer matters.
      }
    }
    const ids = new Set([...heads].map((h) => h.id));
    for (const listener of this.failureListeners) listener(ids, error);
  }

  /** Runs a change to a head's recent points, keeping the total of all of them current. */
  private measure(head: Head, change: () => void): void {
    const before = head.recent?.bytes ?? 0;
    change();
    this.recentBytes += (head.recent?.bytes ?? 0) - before;
    if (head.recent) {
      this.loaded.delete(head.id);
      this.loaded.set(head.id, head);
    }
  }

  private evict(head: Head): void {
    if (!head.recent) return;
    this.recentBytes -= head.recent.bytes;
    head.recent = undefined;
    this.loaded.delete(head.id);
  }

  /** Drops the least recently used tokens' recent points from memory until all fit the budget. */
  private enforceBudget(keep?: Head): void {
    for (const head of this.loaded.values()) {
      if (this.recentBytes <= this.limits.budgetBytes || this.loaded.size <= 1) break;
      if (head !== keep) this.evict(head);
    }
  }

  /** Deletes a token's chunks past its retention in points and in bytes (never its newest chunk). */
  private retain(head: Head): void {
    try {
      const dropped = this.db.transaction((): number => {
        let upTo = head.endIndex - this.options.retentionPoints;
        if (head.storedBytes > this.limits.retentionBytes) {
          let excess = head.storedBytes - this.limits.retentionBytes;
          const rows = this.db.prepare('SELECT end_index AS endIndex, size FROM chunks WHERE token_id = ? AND end_index < ? ORDER BY end_index').iterate(head.id, head.endIndex) as Iterable<{ endIndex: number; size: number }>;
          for (const r of rows) {
            if (excess <= 0) break;
            excess -= r.size;
            upTo = Math.max(upTo, r.endIndex);
          }
        }
        if (upTo <= 0) return 0;
        const size = this.sizeUpTo.get(head.id, upTo) as number;
        if (size === 0) return 0;
        this.dropUpTo.run(head.id, upTo);
        this.db.prepare('UPDATE tokens SET stored_bytes = stored_bytes - ? WHERE id = ?').run(size, head.id);
        return size;
      })();
      head.storedBytes -= dropped;
    } catch {
      // Deleting is tried again with the next write; a full disk is reported by the writes themselves.
    }
  }
}
