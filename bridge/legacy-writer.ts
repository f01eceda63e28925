/**
 * The legacy writer (--legacy), for a Plotly endpoint without plotwire's batch append: each
 * window's points are reduced to one (or, for minmax, two) by decimate.ts, and sent as plain
 * {"x": ..., "y": ...} objects. It LOSES points (counted as dropped); it has no seq, so no resume.
 */
import { formatPlotlyDate } from '../shared/index.js';
import type { DateZone } from '../shared/dates.js';
import { decimate, type DecimateMode } from './decimate.js';
import type { XValue } from './point-buffer.js';
import type { PointWriter } from './point-writer.js';

/** Decimated objects kept while they cannot go out (the server is away, or the socket is full)... */
const LEGACY_BACKLOG = 2;
/** ...made from windows of at most this many points (a window is 50 ms while objects go out). */
const LEGACY_MAX_WINDOW = 1024;

export class LegacyWriter implements PointWriter {
  private windowX: XValue[] = [];
  private windowY: number[] = [];
  private outbox: string[] = [];
  private dropped_ = 0;

  constructor(
    private readonly mode: DecimateMode,
    private readonly dates: DateZone | undefined,
  ) {}

  describe(): string {
    return `(legacy, ${this.mode})`;
  }

  push(x: XValue, y: number): void {
    this.add(x, y);
  }

  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number): void {
    for (let i = from; i < to; i++) this.add(xs[i] as number, ys[i] as number);
  }

  /**
   * A point joins the current window. A window nobody sends is decimated once it holds
   * LEGACY_MAX_WINDOW points, and only the last LEGACY_BACKLOG objects are kept (the rest
   * counted as dropped): bounded memory.
   */
  private add(x: XValue, y: number): void {
    this.windowX.push(x);
    this.windowY.push(y);
    if (this.windowY.length < LEGACY_MAX_WINDOW) return;
    this.seal();
    const extra = this.outbox.length - LEGACY_BACKLOG;
    if (extra > 0) this.dropped_ += this.outbox.splice(0, extra).length;
  }

  get held(): number {
    return this.windowY.length + this.outbox.length;
  }

  get heldBytes(): number {
    return 0;
  }

  get dropped(): number {
    return this.dropped_;
  }

  get pending(): boolean {
    return this.windowY.length > 0 || this.outbox.length > 0;
  }

  take(): { line: string; points: number } | undefined {
    if (this.outbox.length === 0) this.seal();
    const line = this.outbox.shift();
    return line === undefined ? undefined : { line, points: 1 };
  }

  /** Decimates the current window into objects. */
  seal(): void {
    if (this.windowY.length === 0) return;
    const points = decimate(this.mode, this.windowX, this.windowY);
    this.dropped_ += this.windowY.length - points.length;
    this.windowX = [];
    this.windowY = [];
    for (const p of points) this.outbox.push(`${JSON.stringify({ x: this.dates && typeof p.x === 'number' ? formatPlotlyDate(p.x, this.dates === 'utc') : p.x, y: p.y })}\n`);
  }

  rewind(): void {
    // What was sent is gone either way: there is no seq to resend by.
  }

  clear(): number {
    const held = this.windowY.length;
    this.windowX = [];
    this.windowY = [];
    this.outbox = [];
    return held;
  }
}
