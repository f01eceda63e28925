/**
 * The SQL of stored points: each token's chunks (one per accepted change, its columns as JSON and
 * its size) and its position in the tokens table. PointStore decides what to write and when; this
 * says how it is read and written.
 */
import type { Db } from '../store/database.js';
import type { Columns } from './columns.js';
import { RecentPoints } from './recent-points.js';

export interface TokenRowState {
  readonly next: number;
  readonly endIndex: number;
  readonly storedBytes: number;
}

/** Columns an export names first, in this order. */
const FIRST_KEYS = ['x', 'y', 'z', 'text'];

/** Column names in an export's order: x, y, z, text, then the styles by name. */
export function sortColumnKeys(keys: string[]): string[] {
  const rank = (k: string): number => {
    const i = FIRST_KEYS.indexOf(k);
    return i < 0 ? FIRST_KEYS.length : i;
  };
  return keys.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export class ChunkTable {
  private readonly insertChunk;
  private readonly updateToken;
  private readonly sizeBefore;
  private readonly deleteBefore;
  private readonly sizeUpTo;
  private readonly deleteUpTo;

  constructor(readonly db: Db) {
    this.insertChunk = db.prepare('INSERT INTO chunks (token_id, replace, end_index, count, columns, received_at, size) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.updateToken = db.prepare('UPDATE tokens SET next_seq = ?, end_index = ?, stored_bytes = ? WHERE id = ?');
    this.sizeBefore = db.prepare('SELECT coalesce(sum(size), 0) AS n FROM chunks WHERE token_id = ? AND id < ?').pluck();
    this.deleteBefore = db.prepare('DELETE FROM chunks WHERE token_id = ? AND id < ?');
    this.sizeUpTo = db.prepare('SELECT coalesce(sum(size), 0) AS n FROM chunks WHERE token_id = ? AND end_index <= ?').pluck();
    this.deleteUpTo = db.prepare('DELETE FROM chunks WHERE token_id = ? AND end_index <= ?');
  }

  token(id: number): TokenRowState | undefined {
    return this.db.prepare('SELECT next_seq AS next, end_index AS endIndex, stored_bytes AS storedBytes FROM tokens WHERE id = ?').get(id) as TokenRowState | undefined;
  }

  storedBytes(id: number): number {
    return this.db.prepare('SELECT stored_bytes FROM tokens WHERE id = ?').pluck().get(id) as number;
  }

  /** Adds a chunk; returns its row id. */
  insert(tokenId: number, replace: boolean, endIndex: number, count: number, json: string, size: number, at: number): number | bigint {
    return this.insertChunk.run(tokenId, replace ? 1 : 0, endIndex, count, json, at, size).lastInsertRowid;
  }

  /** Deletes a token's chunks before a row (a replace made them unreachable); returns their bytes. */
  dropBefore(tokenId: number, id: number | bigint): number {
    const size = this.sizeBefore.get(tokenId, id) as number;
    this.deleteBefore.run(tokenId, id);
    return size;
  }

  setToken(id: number, next: number, endIndex: number, storedBytes: number): void {
    this.updateToken.run(next, endIndex, storedBytes, id);
  }

  /**
   * A token's newest points, as far as both bounds allow: the chunks are chosen newest first
   * (by stored size, which never exceeds their estimate in memory), then read oldest first.
   */
  loadRecent(tokenId: number, endIndex: number, capacity: number, maxBytes: number): RecentPoints {
    let points = 0;
    let bytes = 0;
    let from = endIndex;
    const rows = this.db
      .prepare('SELECT replace, end_index AS endIndex, count, size FROM chunks WHERE token_id = ? AND end_index > ? ORDER BY end_index DESC')
      .iterate(tokenId, endIndex - Math.max(capacity, 1)) as Iterable<{ replace: number; endIndex: number; count: number; size: number }>;
    for (const r of rows) {
      from = r.endIndex - r.count;
      points += r.count;
      bytes += r.size;
      if (r.replace || points >= capacity || bytes >= maxBytes) break;
    }
    const recent = new RecentPoints(capacity, maxBytes, from);
    const chunks = this.db.prepare('SELECT replace, columns FROM chunks WHERE token_id = ? AND end_index > ? ORDER BY end_index').iterate(tokenId, from) as Iterable<{
      replace: number;
      columns: string;
    }>;
    for (const c of chunks) {
      const cols = JSON.parse(c.columns) as Columns;
      if (c.replace) recent.replace(cols);
      else recent.append(cols);
    }
    return recent;
  }

  /** Every stored chunk of a token, oldest first. */
  *history(tokenId: number): Generator<{ replace: boolean; columns: Columns }> {
    const rows = this.db.prepare('SELECT replace, columns FROM chunks WHERE token_id = ? ORDER BY end_index').iterate(tokenId) as Iterable<{ replace: number; columns: string }>;
    for (const r of rows) yield { replace: r.replace === 1, columns: JSON.parse(r.columns) as Columns };
  }

  /** A token's chunks by position: the cumulative index after each and its point count, oldest first. */
  positions(tokenId: number): { endIndex: number; count: number }[] {
    return this.db.prepare('SELECT end_index AS endIndex, count FROM chunks WHERE token_id = ? ORDER BY end_index').all(tokenId) as { endIndex: number; count: number }[];
  }

  /** The first or last x of the chunk that ends at `endIndex` (SQLite reads it from the JSON without a copy in JavaScript). */
  xAt(tokenId: number, endIndex: number, which: 'first' | 'last'): unknown {
    return this.db.prepare(`SELECT json_extract(columns, '$.x[${which === 'first' ? '0' : '#-1'}]') FROM chunks WHERE token_id = ? AND end_index = ?`).pluck().get(tokenId, endIndex);
  }

  /** A token's chunks from the one ending at `endIndex` on, oldest first. */
  *chunksFrom(tokenId: number, endIndex: number): Generator<Columns> {
    const rows = this.db.prepare('SELECT columns FROM chunks WHERE token_id = ? AND end_index >= ? ORDER BY end_index').pluck().iterate(tokenId, endIndex) as Iterable<string>;
    for (const r of rows) yield JSON.parse(r) as Columns;
  }

  /** Every column name a token's chunks use: x, y, z, text, then the styles by name. */
  keys(tokenId: number): string[] {
    return sortColumnKeys(this.db.prepare('SELECT DISTINCT j.key FROM chunks c, json_each(c.columns) j WHERE c.token_id = ?').pluck().all(tokenId) as string[]);
  }

  /**
   * Deletes a token's chunks past its newest `points` points and past its newest `bytes` bytes
   * (never its newest chunk), in a transaction of its own; returns the bytes deleted.
   */
  retain(tokenId: number, endIndex: number, storedBytes: number, points: number, bytes: number): number {
    return this.db.transaction((): number => {
      let upTo = endIndex - points;
      if (storedBytes > bytes) {
        let excess = storedBytes - bytes;
        const rows = this.db.prepare('SELECT end_index AS endIndex, size FROM chunks WHERE token_id = ? AND end_index < ? ORDER BY end_index').iterate(tokenId, endIndex) as Iterable<{
          endIndex: number;
          size: number;
        }>;
        for (const r of rows) {
          if (excess <= 0) break;
          excess -= r.size;
          upTo = Math.max(upTo, r.endIndex);
        }
      }
      if (upTo <= 0) return 0;
      const size = this.sizeUpTo.get(tokenId, upTo) as number;
      if (size === 0) return 0;
      this.deleteUpTo.run(tokenId, upTo);
      this.db.prepare('UPDATE tokens SET stored_bytes = stored_bytes - ? WHERE id = ?').run(size, tokenId);
      return size;
    })();
  }
}
