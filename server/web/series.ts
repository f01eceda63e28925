/**
 * One trace's points in the viewer: every data path as a column ("x", "y", "marker.size"), all the
 * same length, and x as numbers beside them (dates as ms) so a range or a pixel column is found
 * by binary search. The viewer keeps more than it draws: the whole live window, all that arrives
 * while paused, for hover and zoom; plotly.js is handed only what it draws.
 */
import { xNumber } from './m4.js';

export type Columns = Record<string, unknown[]>;

export const lengthOf = (cols: Columns): number => (Object.values(cols)[0] ?? []).length;
const nulls = (n: number): null[] => new Array<null>(n).fill(null);

export class Series {
  cols: Columns = {};
  /** x as numbers (NaN where an x is not a number or a date). */
  xs: number[] = [];
  /** Whether xs is nondecreasing and all numbers: then ranges and pixel columns can be found. */
  ordered = true;

  constructor(cols: Columns) {
    this.replace(cols);
  }

  get length(): number {
    return this.xs.length;
  }

  get firstX(): number {
    return this.xs[0] ?? NaN;
  }

  get lastX(): number {
    return this.xs[this.xs.length - 1] ?? NaN;
  }

  paths(): string[] {
    return Object.keys(this.cols);
  }

  replace(cols: Columns): void {
    const n = lengthOf(cols);
    this.cols = {};
    for (const [key, arr] of Object.entries(cols)) this.cols[key] = arr.slice();
    this.xs = [];
    this.ordered = true;
    this.pushX(cols.x ?? nulls(n));
  }

  /** Appends points; a path either side lacks gets nulls there, as on the server. */
  append(cols: Columns): void {
    const n = lengthOf(cols);
    const have = this.length;
    for (const key of Object.keys(cols)) if (!(key in this.cols)) this.cols[key] = nulls(have);
    for (const [key, arr] of Object.entries(this.cols)) {
      const add = cols[key];
      if (add) for (let i = 0; i < add.length; i++) arr.push(add[i]);
      else for (let i = 0; i < n; i++) arr.push(null);
    }
    this.pushX(cols.x ?? nulls(n));
  }

  /** Puts older points (from the server's history) before these; only those older than the first held. */
  prepend(cols: Columns): void {
    const older = new Series(cols);
    const keep = this.length ? older.indexAtX(this.firstX) : older.length;
    if (keep === 0) return;
    older.dropNewest(older.length - keep);
    older.append(this.cols);
    this.cols = older.cols;
    this.xs = older.xs;
    this.ordered = older.ordered && this.ordered;
  }

  /** Forgets the newest `n` points. */
  dropNewest(n: number): void {
    if (n <= 0) return;
    for (const arr of Object.values(this.cols)) arr.length -= n;
    this.xs.length -= n;
  }

  /** Forgets the oldest `n` points. */
  dropOldest(n: number): void {
    if (n <= 0) return;
    for (const arr of Object.values(this.cols)) arr.splice(0, n);
    this.xs.splice(0, n);
  }

  /** The first index whose x is at least `x` (ordered series only). */
  indexAtX(x: number): number {
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.xs[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Points [from, to) as columns (copies, for plotly.js). */
  slice(from: number, to: number): Columns {
    const out: Columns = {};
    for (const [key, arr] of Object.entries(this.cols)) out[key] = arr.slice(from, to);
    return out;
  }

  /** The points at these indices as columns. */
  pick(indices: readonly number[]): Columns {
    const out: Columns = {};
    for (const [key, arr] of Object.entries(this.cols)) out[key] = indices.map((i) => arr[i]);
    return out;
  }

  private pushX(raw: unknown[]): void {
    for (const v of raw) {
      const x = xNumber(v);
      if (!(x >= (this.xs[this.xs.length - 1] ?? -Infinity))) this.ordered = false;
      this.xs.push(x);
    }
  }
}
