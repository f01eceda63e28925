/**
 * The points a stream client holds until the server has stored them: a columnar ring of x and y
 * (two Float64Arrays, so a point costs 16 bytes and no garbage), implicit sequence numbers (point i
 * has seq startSeq + i), a write cursor, and a memory budget that drops the oldest points (counted)
 * when full.
 */
import { InvalidArgumentError } from '../shared/index.js';

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

/** Approximate memory of one point: its two column slots, plus an x string or a style when it has one. */
export function pointBytes(x: XValue, style?: PointStyle): number {
  return 16 + (typeof x === 'string' ? 40 + x.length : 0) + (style ? 64 + JSON.stringify(style).length : 0);
}

/** A power of two, as every capacity is: a slot is an index & (capacity - 1). */
const MIN_CAPACITY = 1024;

export class PointBuffer {
  private xs = new Float64Array(MIN_CAPACITY);
  private ys = new Float64Array(MIN_CAPACITY);
  /** Ring slot of the oldest point, and how many are held. */
  private head = 0;
  private count = 0;
  /** Absolute index of the oldest point: the key of the sparse maps below. */
  private base = 0;
  /** x values given as strings (rare: most x are times or numbers), by absolute index. */
  private readonly xStrings = new Map<number, string>();
  /** Styles by absolute index; most streams have none. */
  private readonly styles = new Map<number, PointStyle>();
  private bytes_ = 0;
  /** seq of the oldest point held. */
  startSeq = 0;
  /** Index (from the oldest) of the first point not yet written on the current connection. */
  cursor = 0;
  /** Points dropped because the budget was full. */
  dropped = 0;

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new InvalidArgumentError(`the buffer budget must be above 0 bytes (got ${budgetBytes})`);
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.bytes_;
  }

  /** Points not yet written on this connection. */
  get unsent(): number {
    return this.count - this.cursor;
  }

  /** seq the next pushed point gets. */
  get nextSeq(): number {
    return this.startSeq + this.count;
  }

  /** Whether any held point has a style (the batch then carries style columns). */
  get hasStyles(): boolean {
    return this.styles.size > 0;
  }

  /** Whether any held x is a string (its size must be measured). */
  get hasStringX(): boolean {
    return this.xStrings.size > 0;
  }

  /** Adds a point; returns how many old points the budget made it drop. */
  push(x: XValue, y: number, style?: PointStyle): number {
    if (this.count === this.xs.length) this.resize(this.xs.length * 2);
    const at = this.base + this.count;
    const slot = (this.head + this.count) & (this.xs.length - 1);
    let bytes = 16;
    if (typeof x === 'string') {
      this.xStrings.set(at, x);
      this.xs[slot] = NaN;
      bytes = pointBytes(x, style);
    } else {
      this.xs[slot] = x;
      if (style) bytes = pointBytes(x, style);
    }
    if (style) this.styles.set(at, style);
    this.ys[slot] = y;
    this.count++;
    this.bytes_ += bytes;
    return this.keepBudget();
  }

  /** Adds points i in [from, to) of two number columns; returns how many old points were dropped. */
  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from = 0, to = ys.length): number {
    const n = to - from;
    if (n <= 0) return 0;
    while (this.count + n > this.xs.length) this.resize(this.xs.length * 2);
    const mask = this.xs.length - 1;
    let slot = this.head + this.count;
    for (let i = from; i < to; i++, slot++) {
      this.xs[slot & mask] = xs[i] as number;
      this.ys[slot & mask] = ys[i] as number;
    }
    this.count += n;
    this.bytes_ += 16 * n;
    return this.keepBudget();
  }

  /** Drops the oldest points while over budget (always keeping one); returns how many. */
  private keepBudget(): number {
    let dropped = 0;
    while (this.bytes_ > this.budgetBytes && this.count > 1) {
      this.dropOldest();
      dropped++;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** x of the i-th unsent point (0 is the one at the cursor). */
  x(i: number): XValue {
    const k = this.cursor + i;
    if (this.xStrings.size > 0) {
      const s = this.xStrings.get(this.base + k);
      if (s !== undefined) return s;
    }
    return this.xs[(this.head + k) & (this.xs.length - 1)] as number;
  }

  /** y of the i-th unsent point. */
  y(i: number): number {
    return this.ys[(this.head + this.cursor + i) & (this.ys.length - 1)] as number;
  }

  /** Style of the i-th unsent point, if it has one. */
  style(i: number): PointStyle | undefined {
    return this.styles.size > 0 ? this.styles.get(this.base + this.cursor + i) : undefined;
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
    if (this.xStrings.size > 0 || this.styles.size > 0) {
      for (let at = this.base; at < this.base + n; at++) {
        const x = this.xStrings.get(at);
        const style = this.styles.get(at);
        if (x === undefined && style === undefined) {
          this.bytes_ -= 16;
          continue;
        }
        this.bytes_ -= pointBytes(x ?? 0, style);
        this.xStrings.delete(at);
        this.styles.delete(at);
      }
    } else this.bytes_ -= 16 * n;
    this.head = (this.head + n) & (this.xs.length - 1);
    this.base += n;
    this.count -= n;
    // Give back what an outage grew, once the backlog is gone.
    if (this.xs.length > MIN_CAPACITY && this.count < this.xs.length / 8) this.resize(Math.max(MIN_CAPACITY, this.xs.length / 4));
  }

  /** Moves the held points, oldest first, into columns of the given capacity. */
  private resize(capacity: number): void {
    const move = (from: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const to = new Float64Array(capacity);
      const first = Math.min(this.count, from.length - this.head);
      to.set(from.subarray(this.head, this.head + first));
      to.set(from.subarray(0, this.count - first), first);
      return to;
    };
    this.xs = move(this.xs);
    this.ys = move(this.ys);
    this.head = 0;
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
    const held = this.count;
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

  /** Marks n points as written. */
  advance(n: number): void {
    this.cursor = Math.min(this.cursor + n, this.count);
  }

  /** Drops everything (the token stopped); returns how many points were held. */
  clear(): number {
    const n = this.count;
    this.shift(n);
    this.cursor = 0;
    return n;
  }
}
