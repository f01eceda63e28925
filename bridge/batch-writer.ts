/**
 * The batch writer: every pushed point is held in a memory-budgeted PointBuffer until the server
 * confirms it stored it, and each window's points go as one batch-append object numbered with
 * plotwire's `seq`, so nothing is lost and nothing doubled across breaks.
 */
import type { DateZone } from '../shared/dates.js';
import { takeBatch } from './batch.js';
import { PointBuffer, type PointStyle, type XValue } from './point-buffer.js';
import type { PointWriter, Sequence } from './point-writer.js';

export class BatchWriter implements PointWriter, Sequence {
  private readonly buffer: PointBuffer;

  constructor(
    bufferBytes: number,
    private readonly dates: DateZone | undefined,
    /** Called when the budget first drops points (then only counted). */
    private readonly onFull: (budgetBytes: number) => void,
  ) {
    this.buffer = new PointBuffer(bufferBytes);
  }

  get sequence(): Sequence {
    return this;
  }

  describe(): string {
    return `from seq ${this.buffer.startSeq}`;
  }

  push(x: XValue, y: number, style?: PointStyle): void {
    this.noteDropped(this.buffer.push(x, y, style));
  }

  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number): void {
    this.noteDropped(this.buffer.pushMany(xs, ys, from, to));
  }

  private noteDropped(dropped: number): void {
    if (dropped > 0 && this.buffer.dropped === dropped) this.onFull(this.buffer.budgetBytes);
  }

  get held(): number {
    return this.buffer.length;
  }

  get heldBytes(): number {
    return this.buffer.bytes;
  }

  get dropped(): number {
    return this.buffer.dropped;
  }

  get pending(): boolean {
    return this.buffer.unsent > 0;
  }

  take(): { line: Buffer; points: number } | undefined {
    return takeBatch(this.buffer, undefined, this.dates);
  }

  seal(): void {
    // Every held point already goes out as soon as its window comes.
  }

  rewind(): void {
    this.buffer.cursor = 0;
  }

  clear(): number {
    return this.buffer.clear();
  }

  get startSeq(): number {
    return this.buffer.startSeq;
  }

  get unconfirmed(): number {
    return this.buffer.cursor;
  }

  renumber(next: number): void {
    this.buffer.renumber(next);
  }

  resync(next: number): { stored: number; gap: number; ahead: number } {
    return this.buffer.resync(next);
  }

  acknowledge(next: number): number {
    return this.buffer.acknowledge(next);
  }
}
