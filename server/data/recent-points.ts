/**
 * The newest points of one token, in memory, for viewers: late joiners get the tail, reconnecting
 * viewers get what they missed. Points are numbered by a cumulative index that never goes back
 * (a replace also advances it), which is what viewers' Last-Event-ID carries.
 */
import { columnLength, sliceColumns, type Columns } from './columns.js';

export class RecentPoints {
  private cols: Columns = {};
  /** Offset of the first kept point in the arrays (compacted lazily). */
  private start = 0;
  private kept = 0;
  /** Cumulative index after the newest point. */
  endIndex: number;
  /** Cumulative index where the current data began (the last replace); older points are gone. */
  replacedAt: number;

  constructor(
    readonly capacity: number,
    endIndex = 0,
    replacedAt = endIndex,
  ) {
    this.endIndex = endIndex;
    this.replacedAt = replacedAt;
  }

  get length(): number {
    return this.kept;
  }

  append(batch: Columns): void {
    const n = columnLength(batch);
    if (n === 0) return;
    const total = this.start + this.kept;
    for (const key in batch) {
      let col = this.cols[key];
      if (!col) col = this.cols[key] = new Array<unknown>(total).fill(null);
      for (const v of batch[key] as unknown[]) col.push(v);
    }
    for (const key in this.cols) if (!(key in batch)) for (let i = 0; i < n; i++) (this.cols[key] as unknown[]).push(null);
    this.kept += n;
    this.endIndex += n;
    if (this.kept > this.capacity) {
      this.start += this.kept - this.capacity;
      this.kept = this.capacity;
    }
    if (this.start >= this.capacity) this.compact();
  }

  replace(batch: Columns): void {
    this.cols = {};
    this.start = 0;
    this.kept = 0;
    this.replacedAt = this.endIndex;
    this.append(batch);
  }

  /** The newest n points. */
  tail(n: number): Columns {
    const from = this.start + Math.max(0, this.kept - n);
    return sliceColumns(this.cols, from, this.start + this.kept);
  }

  /** Points from cumulative index `index` on, or undefined when some of them are no longer kept. */
  since(index: number): Columns | undefined {
    const first = this.endIndex - this.kept;
    if (index < first || index < this.replacedAt || index > this.endIndex) return undefined;
    return sliceColumns(this.cols, this.start + (index - first), this.start + this.kept);
  }

  private compact(): void {
    for (const key in this.cols) this.cols[key] = (this.cols[key] as unknown[]).slice(this.start);
    this.start = 0;
  }
}
