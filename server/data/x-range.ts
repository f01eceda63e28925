/**
 * A token's stored points whose x falls in a range, for a viewer looking at the past (zoomed or
 * scrolled back beyond the points it holds). Streams are series in time, so x grows with the
 * point index: the chunks that hold the range are found by binary search on their first and last
 * x (a few single-row reads however long the history), then read in order. Past `limit` points
 * the answer is reduced to min and max per pixel column (M4) of `columns` columns, x and y only,
 * so one request stays bounded whatever range is asked.
 */
import type { ChunkTable } from './chunk-table.js';
import type { Columns } from './columns.js';
import { m4, xNumber } from '../web/m4.js';

export interface RangeQuery {
  readonly from: number;
  readonly to: number;
  /** Points sent whole at most; above it, reduced to `columns` pixel columns. */
  readonly limit: number;
  readonly columns: number;
}

export interface RangeAnswer {
  readonly columns: Columns;
  /** Reduced to min/max per column (x and y only). */
  readonly reduced: boolean;
}

/** The first index in [0, n) for which `pred` holds (pred is false, then true). */
function firstWhere(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first and last x of a chunk as numbers (null where not a number or a date), which the chunks of a range are found by. */
export function xSpan(cols: Columns): { readonly firstX: number | null; readonly lastX: number | null } {
  const xs = cols.x ?? [];
  const num = (v: unknown): number | null => {
    const x = xNumber(v);
    return Number.isFinite(x) ? x : null;
  };
  return { firstX: num(xs[0]), lastX: num(xs.at(-1)) };
}

export function storedRange(chunks: ChunkTable, tokenId: number, q: RangeQuery): RangeAnswer {
  const positions = chunks.positions(tokenId);
  const xOf = (i: number, which: 'first' | 'last'): number => xNumber(chunks.xAt(tokenId, (positions[i] as { endIndex: number }).endIndex, which));
  // The first chunk that ends at or after `from`, and the first that starts after `to`.
  const start = firstWhere(positions.length, (i) => !(xOf(i, 'last') < q.from));
  const stop = firstWhere(positions.length, (i) => i >= start && xOf(i, 'first') > q.to);
  if (start >= stop) return new RangeCollector(q, 0).answer();
  let total = 0;
  for (let i = start; i < stop; i++) total += (positions[i] as { count: number }).count;
  const collector = new RangeCollector(q, total);
  let seen = 0;
  for (const cols of chunks.chunksFrom(tokenId, (positions[start] as { endIndex: number }).endIndex)) {
    if (seen++ >= stop - start) break;
    collector.add(cols);
  }
  return collector.answer();
}

/**
 * Builds one range answer from the chunks that hold the range, in order, whichever store reads
 * them (SQLite here, PostgreSQL on a cluster node). `total` is the points those chunks hold: up to
 * the query's limit every point in range is kept with every column (a column a chunk lacks is
 * null there, as on the server); past it x and y are reduced to min and max per pixel column,
 * again whenever they grow past a few per column, so memory stays bounded by the query.
 */
export class RangeCollector {
  private readonly reduce: boolean;
  private readonly out: Columns = { x: [], y: [] };
  private length = 0;
  private xs: number[] = [];

  constructor(
    private readonly q: RangeQuery,
    total: number,
  ) {
    this.reduce = total > q.limit;
  }

  add(cols: Columns): void {
    const cx = cols.x ?? [];
    if (this.reduce) {
      const cy = cols.y ?? [];
      for (let i = 0; i < cx.length; i++) {
        const x = xNumber(cx[i]);
        if (!(x >= this.q.from && x <= this.q.to)) continue;
        this.xs.push(x);
        (this.out.y as unknown[]).push(cy[i] ?? null);
        (this.out.x as unknown[]).push(cx[i]);
      }
      if (this.xs.length > 8 * this.q.columns) this.thin();
      return;
    }
    for (const key of Object.keys(cols)) this.out[key] ??= new Array<unknown>(this.length).fill(null);
    const keys = Object.keys(this.out);
    for (let i = 0; i < cx.length; i++) {
      const x = xNumber(cx[i]);
      if (!(x >= this.q.from && x <= this.q.to)) continue;
      for (const key of keys) (this.out[key] as unknown[]).push(cols[key]?.[i] ?? null);
      this.length++;
    }
  }

  answer(): RangeAnswer {
    if (this.reduce) this.thin();
    return { columns: this.out, reduced: this.reduce };
  }

  private thin(): void {
    const keep = m4(this.xs, this.out.y as unknown[], this.q.from, this.q.to, this.q.columns);
    const pick = <T>(values: readonly T[]): T[] => keep.map((i) => values[i] as T);
    this.xs = pick(this.xs);
    this.out.x = pick(this.out.x as unknown[]);
    this.out.y = pick(this.out.y as unknown[]);
  }
}
