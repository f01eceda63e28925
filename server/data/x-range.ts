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

export function storedRange(chunks: ChunkTable, tokenId: number, q: RangeQuery): RangeAnswer {
  const positions = chunks.positions(tokenId);
  const xOf = (i: number, which: 'first' | 'last'): number => xNumber(chunks.xAt(tokenId, (positions[i] as { endIndex: number }).endIndex, which));
  // The first chunk that ends at or after `from`, and the first that starts after `to`.
  const start = firstWhere(positions.length, (i) => !(xOf(i, 'last') < q.from));
  const stop = firstWhere(positions.length, (i) => i >= start && xOf(i, 'first') > q.to);
  let total = 0;
  for (let i = start; i < stop; i++) total += (positions[i] as { count: number }).count;
  if (start >= stop) return { columns: { x: [], y: [] }, reduced: false };
  const from = (positions[start] as { endIndex: number }).endIndex;
  return total <= q.limit ? whole(chunks.chunksFrom(tokenId, from), stop - start, q) : reduced(chunks.chunksFrom(tokenId, from), stop - start, q);
}

/** Every point in range, every column (a column a chunk lacks is null there, as on the server). */
function whole(source: Iterable<Columns>, chunkCount: number, q: RangeQuery): RangeAnswer {
  const out: Columns = { x: [], y: [] };
  let length = 0;
  let seen = 0;
  for (const cols of source) {
    if (seen++ >= chunkCount) break;
    const xs = cols.x ?? [];
    for (const key of Object.keys(cols)) out[key] ??= new Array<unknown>(length).fill(null);
    const keys = Object.keys(out);
    for (let i = 0; i < xs.length; i++) {
      const x = xNumber(xs[i]);
      if (!(x >= q.from && x <= q.to)) continue;
      for (const key of keys) (out[key] as unknown[]).push(cols[key]?.[i] ?? null);
      length++;
    }
  }
  return { columns: out, reduced: false };
}

/** Min and max per column of x and y, chunk by chunk, reduced again whenever it grows past a few per column. */
function reduced(source: Iterable<Columns>, chunkCount: number, q: RangeQuery): RangeAnswer {
  let xs: number[] = [];
  let ys: unknown[] = [];
  let raw: unknown[] = [];
  const reduce = (): void => {
    const keep = m4(xs, ys, q.from, q.to, q.columns);
    xs = keep.map((i) => xs[i] as number);
    ys = keep.map((i) => ys[i]);
    raw = keep.map((i) => raw[i]);
  };
  let seen = 0;
  for (const cols of source) {
    if (seen++ >= chunkCount) break;
    const cx = cols.x ?? [];
    const cy = cols.y ?? [];
    for (let i = 0; i < cx.length; i++) {
      const x = xNumber(cx[i]);
      if (!(x >= q.from && x <= q.to)) continue;
      xs.push(x);
      ys.push(cy[i] ?? null);
      raw.push(cx[i]);
    }
    if (xs.length > 8 * q.columns) reduce();
  }
  reduce();
  return { columns: { x: raw, y: ys }, reduced: true };
}
