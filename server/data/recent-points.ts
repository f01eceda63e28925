/**
 * The newest points of one token, in memory, for viewers: late joiners get the tail, reconnecting
 * viewers get what they missed. Points are numbered by a cumulative index that never goes back
 * (a replace also advances it), which is what viewers' Last-Event-ID carries.
 *
 * Bounded twice: at most `capacity` points (what the token's traces can show: their largest
 * maxpoints) and at most `maxBytes` of estimated memory, whichever is reached first; the newest
 * point is always kept. Points are held in segments (runs of batches with the same columns), so
 * trimming the oldest is dropping segments, not copying arrays.
 */
import { columnLength, type Columns } from './columns.js';

/** Points appended to one segment before a new one starts (so trimming frees memory in steps this small). */
const SEGMENT_POINTS = 1024;

interface Segment {
  readonly cols: Columns;
  readonly keys: string;
  /** Points in the arrays, of which the first `offset` are no longer kept. */
  count: number;
  offset: number;
  /** Estimated memory of all `count` points. */
  bytes: number;
}

/**
 * Memory a batch of points takes in V8, estimated from above: a slot per value, a heap number per
 * number, a string header and two bytes a character per string (JSON's size would undercount numbers).
 */
export function estimateBytes(cols: Columns): number {
  let bytes = 0;
  for (const key in cols) {
    bytes += 64;
    for (const v of cols[key] as unknown[]) {
      if (typeof v === 'number') bytes += 24;
      else if (typeof v === 'string') bytes += 32 + 2 * v.length;
      else if (v === null || typeof v !== 'object') bytes += 8;
      else bytes += 32 + 2 * (JSON.stringify(v)?.length ?? 0);
    }
  }
  return bytes;
}

export class RecentPoints {
  private segments: Segment[] = [];
  private kept = 0;
  private keptBytes = 0;
  /** Cumulative index after the newest point. */
  endIndex: number;
  /** Cumulative index where the current data began (the last replace); older points are gone. */
  replacedAt: number;

  constructor(
    private cap: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
    endIndex = 0,
    replacedAt = endIndex,
  ) {
    this.endIndex = endIndex;
    this.replacedAt = replacedAt;
  }

  get capacity(): number {
    return this.cap;
  }

  get length(): number {
    return this.kept;
  }

  /** Estimated memory of the kept points. */
  get bytes(): number {
    return this.keptBytes;
  }

  /** Changes how many points are kept (the token's traces changed); fewer trims now. */
  set capacity(n: number) {
    this.cap = n;
    this.trim();
  }

  append(batch: Columns, bytes = estimateBytes(batch)): void {
    const n = columnLength(batch);
    if (n === 0) return;
    this.endIndex += n;
    // Points that would be trimmed at once are never stored.
    let cols = batch;
    let count = n;
    if (n > this.cap) {
      const from = n - Math.max(this.cap, 1);
      cols = {};
      for (const key in batch) cols[key] = (batch[key] as unknown[]).slice(from);
      bytes = (bytes * (n - from)) / n;
      count = n - from;
    }
    const keys = Object.keys(cols).join('\u0000');
    const last = this.segments.at(-1);
    if (last && last.keys === keys && last.count + count <= SEGMENT_POINTS) {
      for (const key in cols) {
        const target = last.cols[key] as unknown[];
        for (const v of cols[key] as unknown[]) target.push(v);
      }
      last.count += count;
      last.bytes += bytes;
    } else {
      const own: Columns = {};
      // A batch's arrays may be shared with viewers' messages: the segment appends to copies only.
      for (const key in cols) own[key] = cols === batch ? (cols[key] as unknown[]).slice() : (cols[key] as unknown[]);
      this.segments.push({ cols: own, keys, count, offset: 0, bytes });
    }
    this.kept += count;
    this.keptBytes += bytes;
    this.trim();
  }

  replace(batch: Columns, bytes?: number): void {
    this.segments = [];
    this.kept = 0;
    this.keptBytes = 0;
    this.replacedAt = this.endIndex;
    this.append(batch, bytes);
  }

  /** The newest n points. */
  tail(n: number): Columns {
    return this.slice(Math.max(0, this.kept - n));
  }

  /** Points from cumulative index `index` on, or undefined when some of them are no longer kept. */
  since(index: number): Columns | undefined {
    const first = this.endIndex - this.kept;
    if (index < first || index < this.replacedAt || index > this.endIndex) return undefined;
    return this.slice(index - first);
  }

  /** Kept points from position `from` (0 = the oldest kept), every column as long as the others. */
  private slice(from: number): Columns {
    const out: Columns = {};
    let at = 0;
    const parts: { seg: Segment; start: number; n: number }[] = [];
    for (const seg of this.segments) {
      const n = seg.count - seg.offset;
      const skip = Math.max(0, from - at);
      if (skip < n) parts.push({ seg, start: seg.offset + skip, n: n - skip });
      at += n;
    }
    const keys = new Set<string>();
    for (const seg of this.segments) for (const key in seg.cols) keys.add(key);
    for (const key of keys) {
      const col: unknown[] = [];
      for (const { seg, start, n } of parts) {
        const src = seg.cols[key];
        if (src) for (let i = start; i < start + n; i++) col.push(src[i]);
        else for (let i = 0; i < n; i++) col.push(null);
      }
      out[key] = col;
    }
    return out;
  }

  /** Drops the oldest points past either bound, keeping at least the newest. */
  private trim(): void {
    while (this.kept > 1 && (this.kept > this.cap || this.keptBytes > this.maxBytes)) {
      const seg = this.segments[0] as Segment;
      const n = seg.count - seg.offset;
      const perPoint = seg.bytes / seg.count;
      const overCount = this.kept - this.cap;
      const overBytes = this.keptBytes - this.maxBytes;
      // How many to drop from this segment: enough for both bounds, never the very newest point.
      let drop = Math.max(overCount, overBytes > 0 ? Math.ceil(overBytes / Math.max(perPoint, 1)) : 0, 1);
      drop = Math.min(drop, n, this.kept - 1);
      if (drop === n) {
        this.segments.shift();
        this.keptBytes -= perPoint * n;
      } else {
        seg.offset += drop;
        this.keptBytes -= perPoint * drop;
        // A segment mostly dropped is copied down, so what is no longer kept is freed.
        if (seg.offset * 2 > seg.count) {
          for (const key in seg.cols) seg.cols[key] = (seg.cols[key] as unknown[]).slice(seg.offset);
          seg.bytes = perPoint * (seg.count - seg.offset);
          seg.count -= seg.offset;
          seg.offset = 0;
        }
      }
      this.kept -= drop;
    }
    if (this.kept === 0) this.keptBytes = 0;
  }
}
