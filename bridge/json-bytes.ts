/**
 * Writes JSON text straight into bytes: the stream objects the bridge sends are mostly numbers
 * and date strings, and writing their digits into a Buffer makes no string per value (the strings
 * and their garbage cost more than decoding the serial lines; bench/bridge-throughput.ts).
 * Every value is written exactly as JSON.stringify would write it (a test holds it to that).
 */
import { datePrefix, microsIntoSecond, toMicros, type DateZone } from '../shared/dates.js';

const ZERO = 0x30;
const QUOTE = 0x22;
const MINUS = 0x2d;
const DOT = 0x2e;

/** The most bytes a number takes as JSON ("-1.2345678901234567e-308" is 24). */
export const MAX_NUMBER_BYTES = 24;
/** A quoted date string: "YYYY-MM-DD HH:MM:SS.ffffff". */
export const DATE_BYTES = 28;

/** "00".."99" as little-endian byte pairs: two digits in one 16-bit write. */
const DIGIT_PAIRS = new Uint16Array(100).map((_, i) => (ZERO + (i % 10)) * 256 + ZERO + Math.floor(i / 10));

/**
 * The last date prefix ("YYYY-MM-DD HH:MM:SS.") as little-endian 32-bit words plus its length:
 * converted once a second, written with five word writes a point instead of twenty byte writes.
 */
let lastPrefix = '';
let prefixWords = new Uint32Array(0);

function wordsOf(prefix: string): Uint32Array {
  if (prefix !== lastPrefix) {
    lastPrefix = prefix;
    const bytes = new Uint8Array(Math.ceil(prefix.length / 4) * 4);
    bytes.set(Buffer.from(prefix, 'latin1'));
    prefixWords = new Uint32Array(bytes.buffer);
  }
  return prefixWords;
}

/**
 * Writers take their memory from shared slabs, as Buffer's own pool does for small buffers: a
 * stream object is written where the last one ended, so a batch costs no allocation of its own
 * (a fresh half-megabyte buffer per batch, and its page faults, cost more than writing it).
 * A slab is freed once no object written in it is referenced any more.
 */
const SLAB_BYTES = 1 << 20;
const pool = { slab: Buffer.allocUnsafeSlow(0), offset: 0 };

/** Reserves `bytes` of a slab; returns the slab and where the reservation starts. */
function reserve(bytes: number): { slab: Buffer; start: number } {
  if (pool.offset + bytes > pool.slab.length) {
    pool.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
    pool.offset = 0;
  }
  const start = pool.offset;
  pool.offset += bytes;
  return { slab: pool.slab, start };
}

export class JsonBytes {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  /** The slab reservation, while this writer still writes in it. */
  private reserved: { slab: Buffer; start: number; end: number } | undefined;

  /** A writer for about `capacity` bytes (an upper bound keeps it from ever copying itself). */
  constructor(capacity: number) {
    const bytes = Math.max(64, capacity);
    const { slab, start } = reserve(bytes);
    this.reserved = { slab, start, end: start + bytes };
    this.buf = slab.subarray(start, start + bytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /**
   * The bytes written, as a view of the slab; gives the unused rest of the reservation back.
   * The writer must not be used after.
   */
  finish(): Buffer {
    const r = this.reserved;
    // Only the newest reservation can shrink; an older one just leaves its tail unused.
    if (r && pool.slab === r.slab && pool.offset === r.end) pool.offset = r.start + ((this.pos + 7) & ~7);
    this.reserved = undefined;
    return this.buf.subarray(0, this.pos);
  }

  /** ASCII text written as it is (keys, brackets). */
  ascii(text: string): this {
    this.ensure(text.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
    return this;
  }

  /** Any string value, escaped and quoted by JSON.stringify. */
  string(text: string): this {
    return this.text(JSON.stringify(text));
  }

  /** JSON text already made (UTF-8). */
  text(json: string): this {
    this.ensure(Buffer.byteLength(json));
    this.pos += this.buf.write(json, this.pos);
    return this;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b;
    return this;
  }

  /** A number as JSON.stringify writes it (null when not finite). */
  number(v: number): this {
    if (!Number.isFinite(v)) return this.ascii('null');
    this.ensure(MAX_NUMBER_BYTES);
    const negative = v < 0;
    const a = negative ? -v : v;
    if (Number.isInteger(a) && a < 1e15) {
      if (negative) this.buf[this.pos++] = MINUS;
      this.digits(a, 0);
      return this;
    }
    // A whole number of millionths (seconds since start, most readings) below 1e9: its digits,
    // trailing zeros trimmed, are the shortest text that reads back as v, which is what
    // JSON.stringify writes (fewer than 16 significant digits name one double each).
    if (a >= 1e-6 && a < 1e9) {
      const m = Math.round(a * 1e6);
      if (m / 1e6 === a) {
        if (negative) this.buf[this.pos++] = MINUS;
        const whole = Math.floor(a);
        let frac = (m - whole * 1e6) | 0;
        let width = 6;
        while (frac % 10 === 0) {
          frac = (frac / 10) | 0;
          width--;
        }
        this.digits(whole, 0);
        this.buf[this.pos++] = DOT;
        this.digits(frac, width);
        return this;
      }
    }
    return this.ascii(`${v}`);
  }

  /** A time in ms as a quoted Plotly date string, like formatPlotlyDate. */
  date(ms: number, zone: DateZone): this {
    const micros = toMicros(ms);
    const prefix = datePrefix(micros, zone);
    const words = wordsOf(prefix);
    this.ensure(DATE_BYTES + 4);
    this.buf[this.pos++] = QUOTE;
    // Whole words, some bytes past the prefix: the digits below overwrite them.
    for (let i = 0; i < words.length; i++) this.view.setUint32(this.pos + i * 4, words[i] as number, true);
    let pos = this.pos + prefix.length;
    // The six digits of the microseconds as three digit pairs.
    const f = microsIntoSecond(micros);
    const high = (f / 10_000) | 0;
    const rest = f - high * 10_000;
    const mid = (rest / 100) | 0;
    this.view.setUint16(pos, DIGIT_PAIRS[high] as number, true);
    this.view.setUint16(pos + 2, DIGIT_PAIRS[mid] as number, true);
    this.view.setUint16(pos + 4, DIGIT_PAIRS[rest - mid * 100] as number, true);
    pos += 6;
    this.buf[pos++] = QUOTE;
    this.pos = pos;
    return this;
  }

  /** A whole number >= 0 below 2^53, zero-padded to `width` digits. */
  private digits(n: number, width: number): void {
    let len = 1;
    for (let p = 10; p <= n; p *= 10) len++;
    if (len < width) len = width;
    const buf = this.buf;
    const start = this.pos;
    let at = start + len;
    this.pos = at;
    while (n >= 2 ** 31) {
      const q = Math.floor(n / 10);
      buf[--at] = ZERO + (n - q * 10);
      n = q;
    }
    // Small integer arithmetic, two digits at a time, for the rest (nearly always all of it).
    let i = n | 0;
    while (at - start >= 2) {
      const q = (i / 100) | 0;
      at -= 2;
      this.view.setUint16(at, DIGIT_PAIRS[i - q * 100] as number, true);
      i = q;
    }
    if (at > start) buf[--at] = ZERO + i;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Outgrown: move to a buffer of its own (the reservation stays, unused).
    this.reserved = undefined;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }
}
