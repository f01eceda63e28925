/**
 * The points a stream client holds until the server has stored them: a columnar queue with
 * implicit sequence numbers (point i has seq startSeq + i), a write cursor, and a memory budget
 * that drops the oldest points (counted) when full.
 */

export type XValue = number | string;

/**
 * What a point may carry besides x and y: its text and per-point marker or line styles (a bubble's
 * size, a color), streamed as the batch's text, marker.* and line.* columns.
 */
export interface PointStyle {
  readonly text?: string;
  readonly marker?: Readonly<Record<string, number | string>>;
  readonly line?: Readonly<Record<string, number | string>>;
}

/** Approximate heap cost of one point: two array slots, the x string when x is a date, its style. */
export function pointBytes(x: XValue, style?: PointStyle): number {
  return (typeof x === 'string' ? 40 + x.length : 16) + (style ? 64 + JSON.stringify(style).length : 0);
}

export class PointBuffer {
  private xs: XValue[] = [];
  private ys: number[] = [];
  /** Styles by absolute index; most streams have none, so a sparse map, not a column. */
  private styles = new Map<number, PointStyle>();
  /** Absolute index of xs[0] (grows as the arrays are compacted). */
  private base = 0;
  private head = 0;
  private bytes_ = 0;
  /** seq of the oldest point held. */
  startSeq = 0;
  /** Index (from the oldest) of the first point not yet written on the current connection. */
  cursor = 0;
  /** Points dropped because the budget was full. */
  dropped = 0;

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new RangeError(`the buffer budget must be above 0 bytes (got ${budgetBytes})`);
  }

  get length(): number {
    return this.xs.length - this.head;
  }

  get bytes(): number {
    return this.bytes_;
  }

  /** Points not yet written on this connection. */
  get unsent(): number {
    return this.length - this.cursor;
  }

  /** seq the next pushed point gets. */
  get nextSeq(): number {
    return this.startSeq + this.length;
  }

  /** Adds a point; returns how many old points the budget made it drop. */
  push(x: XValue, y: number, style?: PointStyle): number {
    if (style) this.styles.set(this.base + this.xs.length, style);
    this.xs.push(x);
    this.ys.push(y);
    this.bytes_ += pointBytes(x, style);
    let dropped = 0;
    while (this.bytes_ > this.budgetBytes && this.length > 1) {
      this.dropOldest();
      dropped++;
    }
    this.dropped += dropped;
    return dropped;
  }

  private dropOldest(): void {
    if (this.cursor > 0) {
      // It was written, so the server may have it: keep the others' numbers.
      this.cursor--;
      this.startSeq++;
    }
    // Never written: the next point takes its number, so the numbering the server sees has no hole.
    this.shift(1);
  }

  /** Forgets the n oldest points (stored by the server, or dropped). */
  private shift(n: number): void {
    for (let i = 0; i < n; i++) {
      const at = this.base + this.head + i;
      this.bytes_ -= pointBytes(this.xs[this.head + i] as XValue, this.styles.get(at));
      this.styles.delete(at);
    }
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.xs.length) {
      this.xs = this.xs.slice(this.head);
      this.ys = this.ys.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }

  /** The server stored every point before seq `next`: forget those. Returns how many. */
  acknowledge(next: number): number {
    const n = Math.min(Math.max(0, next - this.startSeq), this.cursor);
    if (n === 0) return 0;
    this.shift(n);
    this.startSeq += n;
    this.cursor -= n;
    return n;
  }

  /**
   * A new connection: the server has every point before `next`. Forgets those, renumbers what is
   * left to follow on from `next`, and rewinds the cursor so everything unstored is sent again.
   * Returns what did not line up: points the server lacks that this buffer no longer has (`gap`),
   * or points the server has that this client never sent (`ahead`).
   */
  resync(next: number): { stored: number; gap: number; ahead: number } {
    const held = this.length;
    let stored = 0;
    let gap = 0;
    let ahead = 0;
    if (next < this.startSeq) gap = this.startSeq - next;
    else if (next <= this.startSeq + held) stored = next - this.startSeq;
    else {
      stored = held;
      ahead = next - (this.startSeq + held);
    }
    this.shift(stored);
    this.startSeq = next;
    this.cursor = 0;
    return { stored, gap, ahead };
  }

  /** Numbers the held points from `next` on (a new client continuing a token's numbering). */
  renumber(next: number): void {
    this.startSeq = next;
    this.cursor = 0;
  }

  /**
   * Up to max unsent points from the cursor, with the seq of the first and, when any of them has
   * one, their styles (undefined for a point without); does not move the cursor.
   */
  peek(max: number): { seq: number; x: XValue[]; y: number[]; styles?: (PointStyle | undefined)[] } {
    const from = this.head + this.cursor;
    const to = Math.min(from + max, this.xs.length);
    const batch = { seq: this.startSeq + this.cursor, x: this.xs.slice(from, to), y: this.ys.slice(from, to) };
    if (this.styles.size === 0) return batch;
    const styles = batch.x.map((_, i) => this.styles.get(this.base + from + i));
    return styles.some((st) => st !== undefined) ? { ...batch, styles } : batch;
  }

  /** Marks n points as written. */
  advance(n: number): void {
    this.cursor = Math.min(this.cursor + n, this.length);
  }

  /** Drops everything (the token stopped); returns how many points were held. */
  clear(): number {
    const n = this.length;
    this.shift(n);
    this.cursor = 0;
    return n;
  }
}
