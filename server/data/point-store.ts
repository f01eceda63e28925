/**
 * Every token's points: the newest in memory (RecentPoints) and all within retention in SQLite,
 * written in batched transactions. A token's `committedNext` is what the server reports as
 * stored; it moves only after the transaction holding those points has returned.
 */
import { MAXPOINTS_MAX } from '../../shared/index.js';
import type { Db } from '../store/database.js';
import { columnLength, sliceColumns, type Columns, type DataChange } from './columns.js';
import { RecentPoints } from './recent-points.js';
import { PlotwireError } from '../../shared/errors.js';

export interface TokenLive {
  readonly id: number;
  /** Seq of the next point a writer should send. */
  next: number;
  /** `next` as far as it is on disk. */
  committedNext: number;
  readonly recent: RecentPoints;
}

/** What applying a change did, for the viewers. */
export interface Applied {
  readonly replaced?: Columns;
  readonly appended?: Columns;
  /** Cumulative index of the first appended point. */
  readonly appendedAt: number;
  /** Points skipped because the server already had them (a resend). */
  readonly duplicates: number;
}

interface PendingChunk {
  readonly live: TokenLive;
  readonly replace: boolean;
  readonly endIndex: number;
  readonly count: number;
  readonly columns: string;
  readonly next: number;
  readonly at: number;
}

export interface PointStoreOptions {
  /** Points kept on disk per token; older ones are deleted. */
  readonly retentionPoints: number;
  /** How long accepted points may wait before their transaction. */
  readonly flushMs?: number;
}

/** A token id that is not in the database (a caller's bug: ids come from the database). */
export class UnknownTokenError extends PlotwireError {
  readonly code = 'PW_ERR_UNKNOWN_TOKEN';
}

export class StoreUnavailableError extends PlotwireError {
  readonly code = 'PW_ERR_STORE_UNAVAILABLE';
}

export class PointStore {
  private readonly live = new Map<number, TokenLive>();
  private pending: PendingChunk[] = [];
  private timer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout;
  private readonly touched = new Set<number>();
  /** Set while the database refuses writes (disk full, I/O error). */
  failure: Error | undefined;

  private readonly insertChunk;
  private readonly updateToken;
  private readonly dropBefore;

  constructor(
    private readonly db: Db,
    private readonly options: PointStoreOptions,
  ) {
    this.insertChunk = db.prepare('INSERT INTO chunks (token_id, replace, end_index, count, columns, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.updateToken = db.prepare('UPDATE tokens SET next_seq = ?, end_index = ? WHERE id = ?');
    this.dropBefore = db.prepare('DELETE FROM chunks WHERE token_id = ? AND id < ?');
    this.retentionTimer = setInterval(() => this.enforceRetention(), 60_000).unref();
  }

  /** The live state of a token, loaded from disk on first use. */
  token(id: number): TokenLive {
    let live = this.live.get(id);
    if (live) return live;
    const row = this.db.prepare('SELECT next_seq AS next, end_index AS endIndex FROM tokens WHERE id = ?').get(id) as { next: number; endIndex: number } | undefined;
    if (!row) throw new UnknownTokenError(`no stream token with id ${id}`);
    const chunks = this.db
      .prepare('SELECT replace, end_index AS endIndex, count, columns FROM chunks WHERE token_id = ? AND end_index > ? ORDER BY id')
      .all(id, row.endIndex - MAXPOINTS_MAX) as { replace: number; endIndex: number; count: number; columns: string }[];
    const first = chunks[0];
    const start = first ? first.endIndex - first.count : row.endIndex;
    const recent = new RecentPoints(MAXPOINTS_MAX, start);
    for (const c of chunks) {
      const cols = JSON.parse(c.columns) as Columns;
      if (c.replace) recent.replace(cols);
      else recent.append(cols);
    }
    live = { id, next: row.next, committedNext: row.next, recent };
    this.live.set(id, live);
    return live;
  }

  /**
   * Applies a stream object's change to a token. With `seq`, points the token already has are
   * skipped (a writer resending after a break) and `next` follows the writer's numbering.
   */
  apply(live: TokenLive, change: DataChange, seq?: number): Applied {
    if (this.failure) throw new StoreUnavailableError(`the database refuses writes: ${this.failure.message}`);
    let replaced: Columns | undefined;
    if (change.replace) {
      replaced = change.replace;
      live.recent.replace(replaced);
      this.queue(live, true, replaced);
    }
    let appended = change.append;
    let duplicates = 0;
    if (appended && seq !== undefined) {
      duplicates = Math.min(change.appendCount, Math.max(0, live.next - seq));
      if (duplicates > 0) appended = duplicates === change.appendCount ? undefined : sliceColumns(appended, duplicates);
      live.next = Math.max(live.next, seq + change.appendCount);
    } else if (appended) {
      live.next += change.appendCount;
    }
    const appendedAt = live.recent.endIndex;
    if (appended) {
      live.recent.append(appended);
      this.queue(live, false, appended);
    }
    return { ...(replaced && { replaced }), ...(appended && { appended }), appendedAt, duplicates };
  }

  private queue(live: TokenLive, replace: boolean, cols: Columns): void {
    this.pending.push({
      live,
      replace,
      endIndex: live.recent.endIndex,
      count: columnLength(cols),
      columns: JSON.stringify(cols),
      next: live.next,
      at: Date.now(),
    });
    if (this.pending.length >= 512) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 20);
  }

  /** Writes every pending chunk in one transaction; afterwards their points count as stored. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    try {
      this.db.transaction(() => {
        for (const c of batch) {
          const id = this.insertChunk.run(c.live.id, c.replace ? 1 : 0, c.endIndex, c.count, c.columns, c.at).lastInsertRowid;
          // A replace makes everything before it unreachable.
          if (c.replace) this.dropBefore.run(c.live.id, id);
          this.updateToken.run(c.next, c.endIndex, c.live.id);
        }
      })();
    } catch (err) {
      // Keep what was accepted and retry; apply() refuses new data until a flush succeeds.
      this.failure = err as Error;
      this.timer = setTimeout(() => this.flush(), 1000);
      return;
    }
    this.failure = undefined;
    this.pending = [];
    for (const c of batch) {
      c.live.committedNext = c.next;
      this.touched.add(c.live.id);
    }
  }

  /** Every stored chunk of a token, oldest first, for export. */
  *history(tokenId: number): Generator<{ replace: boolean; columns: Columns }> {
    this.flush();
    const rows = this.db.prepare('SELECT replace, columns FROM chunks WHERE token_id = ? ORDER BY id').iterate(tokenId) as Iterable<{ replace: number; columns: string }>;
    for (const r of rows) yield { replace: r.replace === 1, columns: JSON.parse(r.columns) as Columns };
  }

  /** Deletes chunks that fall entirely outside the retention window. */
  enforceRetention(): void {
    const drop = this.db.prepare('DELETE FROM chunks WHERE token_id = ? AND end_index <= ?');
    for (const id of this.touched) {
      const live = this.live.get(id);
      if (live) drop.run(id, live.recent.endIndex - this.options.retentionPoints);
    }
    this.touched.clear();
  }

  close(): void {
    clearInterval(this.retentionTimer);
    this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
