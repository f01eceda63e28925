/**
 * Framing of device lines from serial bytes, with a bound. node-serialport's delimiter parser
 * buffers without limit; here a line longer than maxLine bytes (newline included) is discarded up
 * to the next newline and counted, so a flood with no newline costs at most maxLine bytes.
 */
import { InvalidArgumentError, MAX_LINE } from '../shared/index.js';

const LF = 0x0a;
const CR = 0x0d;

export interface FramerCounts {
  /** Complete lines handed on (empty lines are not counted or handed on). */
  lines: number;
  /** Lines discarded for being longer than maxLine. */
  overlong: number;
  /** Bytes thrown away with those lines. */
  discardedBytes: number;
}

export class DeviceLineFramer {
  readonly counts: FramerCounts = { lines: 0, overlong: 0, discardedBytes: 0 };
  private readonly buf: Buffer;
  private fill = 0;
  private discarding = false;

  constructor(readonly maxLine: number = MAX_LINE) {
    if (!Number.isInteger(maxLine) || maxLine < 2) throw new InvalidArgumentError(`maxLine must be an integer >= 2 (got ${maxLine})`);
    // Room for the longest line plus a "\r" before its newline.
    this.buf = Buffer.allocUnsafe(maxLine);
  }

  /**
   * Splits a chunk; calls onLine with each complete line as bytes buf[start, end), without its
   * "\n" or "\r\n". The bytes are valid only during the call (buf is reused).
   */
  push(chunk: Buffer, onLine: (buf: Buffer, start: number, end: number) => void): void {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(LF, start);
      const stop = nl === -1 ? end : nl;
      const len = stop - start;
      if (this.discarding) {
        this.counts.discardedBytes += len + (nl === -1 ? 0 : 1);
        if (nl === -1) return;
        this.discarding = false;
        start = nl + 1;
        continue;
      }
      if (this.fill + len > this.maxLine) {
        // Too long already: drop what is held and everything up to the next newline.
        this.counts.overlong++;
        this.counts.discardedBytes += this.fill + len + (nl === -1 ? 0 : 1);
        this.fill = 0;
        if (nl === -1) {
          this.discarding = true;
          return;
        }
        start = nl + 1;
        continue;
      }
      if (nl === -1) {
        chunk.copy(this.buf, this.fill, start, end);
        this.fill += len;
        return;
      }
      let buf: Buffer;
      let from: number;
      let bytes: number;
      if (this.fill === 0) {
        [buf, from] = [chunk, start];
        bytes = len > 0 && chunk[stop - 1] === CR ? len - 1 : len;
      } else {
        chunk.copy(this.buf, this.fill, start, stop);
        const total = this.fill + len;
        [buf, from] = [this.buf, 0];
        bytes = this.buf[total - 1] === CR ? total - 1 : total;
        this.fill = 0;
      }
      start = nl + 1;
      if (bytes >= this.maxLine) {
        // Its newline makes it one byte too long.
        this.counts.overlong++;
        this.counts.discardedBytes += bytes + 1;
      } else if (bytes > 0) {
        this.counts.lines++;
        onLine(buf, from, from + bytes);
      }
    }
  }

  /** Forgets a partial line (after a reopen: the rest of it will never come). */
  reset(): void {
    this.fill = 0;
    this.discarding = false;
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.fill;
  }
}
