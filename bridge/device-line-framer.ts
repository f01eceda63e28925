/**
 * Framing of what a board writes, with a bound. Two framings share one port:
 * - NDJSON lines ended by "\n" ("\r\n" tolerated), plotwire's own;
 * - Plotly's Yún library messages, ASCII 29, a subscriber name ("plotly"), ASCII 30, a JSON
 *   object, ASCII 31, with no newline (its YunMessenger framing, as its Console daemon parsed it).
 * node-serialport's delimiter parser buffers without limit; here a line or message longer than
 * maxLine bytes is discarded up to its end and counted, so a flood costs at most maxLine bytes,
 * and every discard is handed to the sink with its kind and first bytes, so it can be shown.
 */
import { InvalidArgumentError, MAX_LINE } from '../shared/index.js';

const LF = 0x0a;
const CR = 0x0d;
/** YunMessenger's markers: name start, data start, message end. */
export const YUN_NAME = 0x1d;
export const YUN_DATA = 0x1e;
export const YUN_END = 0x1f;
/** Longest subscriber name kept ("plotly" is 6). */
const MAX_NAME = 32;

export interface FramerCounts {
  /** Complete lines handed on (empty lines are not counted or handed on). */
  lines: number;
  /** Yún messages handed on. */
  messages: number;
  /** Lines or messages discarded for being longer than maxLine. */
  overlong: number;
  /** Yún messages cut off by the start of another (a reset mid-message). */
  cut: number;
  /** Bytes thrown away with those. */
  discardedBytes: number;
}

export type DiscardKind = 'overlong' | 'cut';

/**
 * Where frames go. Bytes are buf[start, end), valid only during the call; `began` is the offset
 * in the current chunk where the frame's first byte was, or -1 when it began in an earlier chunk.
 */
export interface FrameSink {
  line(buf: Buffer, start: number, end: number, began: number): void;
  message?(subscriber: string, buf: Buffer, start: number, end: number, began: number): void;
  /** What was thrown away: its kind and its first bytes (at most maxLine). */
  discard?(kind: DiscardKind, buf: Buffer, start: number, end: number, began: number): void;
}

type Mode = 'line' | 'name' | 'data';

export class DeviceLineFramer {
  readonly counts: FramerCounts = { lines: 0, messages: 0, overlong: 0, cut: 0, discardedBytes: 0 };
  private readonly buf: Buffer;
  private fill = 0;
  private discarding = false;
  private mode: Mode = 'line';
  private name = '';
  /** Offset in the last chunk where the held bytes began; -1 when earlier (or none held). */
  private began = -1;

  constructor(readonly maxLine: number = MAX_LINE) {
    if (!Number.isInteger(maxLine) || maxLine < 2) throw new InvalidArgumentError(`maxLine must be an integer >= 2 (got ${maxLine})`);
    this.buf = Buffer.allocUnsafe(maxLine);
  }

  /** Splits a chunk into frames for the sink (or a function taking lines only). */
  push(chunk: Buffer, sink: FrameSink | FrameSink['line']): void {
    const out: FrameSink = typeof sink === 'function' ? { line: sink } : sink;
    const end = chunk.length;
    let pos = 0;
    // One search per chunk for the Yún marker: most chunks have none.
    let nextName = chunk.indexOf(YUN_NAME);
    // Whatever is held now began in an earlier chunk.
    this.began = -1;
    while (pos < end) {
      if (nextName !== -1 && nextName < pos) nextName = chunk.indexOf(YUN_NAME, pos);
      if (this.mode === 'line') pos = this.lineBytes(chunk, pos, end, nextName, out);
      else if (this.mode === 'name') pos = this.nameBytes(chunk, pos, end, out);
      else pos = this.dataBytes(chunk, pos, end, nextName, out);
    }
  }

  /** Forgets a partial frame (after a reopen: the rest of it will never come). */
  reset(): void {
    this.fill = 0;
    this.discarding = false;
    this.mode = 'line';
    this.began = -1;
  }

  /** Bytes held for an unfinished frame. */
  get pending(): number {
    return this.fill;
  }

  /** Offset in the last chunk where the held partial frame began; -1 when it began earlier. */
  get heldSince(): number {
    return this.began;
  }

  /** NDJSON: up to the next newline, or a Yún message's start (which ends a partial line). */
  private lineBytes(chunk: Buffer, pos: number, end: number, nextName: number, out: FrameSink): number {
    const nl = chunk.indexOf(LF, pos);
    const yun = nextName !== -1 && (nl === -1 || nextName < nl);
    const stop = yun ? nextName : nl === -1 ? end : nl;
    const len = stop - pos;
    const began = this.fill === 0 && !this.discarding ? pos : -1;
    if (this.discarding) {
      this.counts.discardedBytes += len + (stop < end ? 1 : 0);
      if (stop === end) return end;
      this.discarding = false;
      return this.after(stop, yun);
    }
    if (this.fill + len > this.maxLine) {
      // Too long already: drop what is held and everything up to the line's end.
      return this.overflow(chunk, pos, stop, end, began, out) ? end : this.after(stop, yun);
    }
    if (stop === end) {
      if (this.fill === 0) this.began = pos;
      chunk.copy(this.buf, this.fill, pos, end);
      this.fill += len;
      return end;
    }
    let buf = chunk;
    let from = pos;
    let bytes = len;
    if (this.fill > 0) {
      chunk.copy(this.buf, this.fill, pos, stop);
      [buf, from, bytes] = [this.buf, 0, this.fill + len];
      this.fill = 0;
    }
    if (bytes > 0 && buf[from + bytes - 1] === CR) bytes--;
    if (!yun && bytes >= this.maxLine) {
      // Its newline makes it one byte too long.
      this.counts.overlong++;
      this.counts.discardedBytes += bytes + 1;
      out.discard?.('overlong', buf, from, from + bytes, began);
    } else if (bytes > 0) {
      this.counts.lines++;
      out.line(buf, from, from + bytes, began);
    }
    return this.after(stop, yun);
  }

  /** Past a line's end: its newline, or a Yún marker that starts a message. */
  private after(stop: number, yun: boolean): number {
    if (yun) {
      this.mode = 'name';
      this.name = '';
      this.began = stop;
    }
    return stop + 1;
  }

  private nameBytes(chunk: Buffer, pos: number, end: number, out: FrameSink): number {
    const data = chunk.indexOf(YUN_DATA, pos);
    const stop = data === -1 ? end : data;
    if (this.name.length + (stop - pos) > MAX_NAME) {
      // Not a YunMessenger name: throw the frame away up to its end marker.
      this.mode = 'data';
      this.discarding = true;
      this.counts.overlong++;
      this.counts.discardedBytes += this.name.length + (stop - pos) + 1;
      out.discard?.('overlong', ...this.sample(chunk, pos, stop), this.began);
      return stop;
    }
    this.name += chunk.toString('latin1', pos, stop);
    if (data === -1) return end;
    this.mode = 'data';
    this.fill = 0;
    return data + 1;
  }

  private dataBytes(chunk: Buffer, pos: number, end: number, nextName: number, out: FrameSink): number {
    const fin = chunk.indexOf(YUN_END, pos);
    // Another message starting before this one ended: a reset cut it short.
    const cut = nextName !== -1 && (fin === -1 || nextName < fin);
    const stop = cut ? nextName : fin === -1 ? end : fin;
    const len = stop - pos;
    if (this.discarding) {
      this.counts.discardedBytes += len + (stop < end ? 1 : 0);
      if (stop === end) return end;
      this.discarding = false;
      return this.endMessage(stop, cut);
    }
    if (this.fill + len > this.maxLine) return this.overflow(chunk, pos, stop, end, this.began, out) ? end : this.endMessage(stop, cut);
    chunk.copy(this.buf, this.fill, pos, stop);
    this.fill += len;
    if (stop === end) return end;
    if (cut) {
      this.counts.cut++;
      this.counts.discardedBytes += this.fill + 1;
      out.discard?.('cut', this.buf, 0, this.fill, this.began);
    } else {
      this.counts.messages++;
      if (out.message) out.message(this.name, this.buf, 0, this.fill, this.began);
    }
    this.fill = 0;
    return this.endMessage(stop, cut);
  }

  private endMessage(stop: number, cut: boolean): number {
    this.mode = 'line';
    return this.after(stop, cut);
  }

  /**
   * A frame grew past maxLine: counted, handed to the sink, and skipped to its end; true when
   * its end is not in this chunk (the rest is discarded as it comes).
   */
  private overflow(chunk: Buffer, pos: number, stop: number, end: number, began: number, out: FrameSink): boolean {
    this.counts.overlong++;
    this.counts.discardedBytes += this.fill + (stop - pos) + (stop < end ? 1 : 0);
    out.discard?.('overlong', ...this.sample(chunk, pos, stop), began);
    this.fill = 0;
    if (stop < end) return false;
    this.discarding = true;
    return true;
  }

  /** The first bytes of a frame being discarded: what is held, else the chunk's part. */
  private sample(chunk: Buffer, pos: number, stop: number): [Buffer, number, number] {
    if (this.fill > 0) return [this.buf, 0, this.fill];
    return [chunk, pos, Math.min(stop, pos + this.maxLine)];
  }
}
