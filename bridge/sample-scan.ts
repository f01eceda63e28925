/**
 * The bridge's fast path for the one line kind that is nearly all the traffic: a sample line,
 * decoded straight from the serial bytes into reused storage (SampleScan), with no string, no
 * JSON.parse and no object per line. All its state (the read position, the keys it has seen) is
 * the instance's, so two decoders never share any. It accepts only plain lines (a flat object of numbers and arrays of
 * numbers, ASCII keys without escapes, no repeated key) and only when they are valid; for
 * anything else it returns false and the caller decodes the text the ordinary way
 * (decodeDeviceLine), which also names what is wrong.
 * A test holds it to JSON.parse + classifyDeviceLine on generated lines. Measured in
 * bench/bridge-throughput.ts.
 */
import { MAX_LINE, MAX_SAMPLES_PER_LINE, deviceKeys, isChannelKey, type SampleLine } from '../shared/index.js';

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Keys kept for reuse: a sample line's keys repeat on every line. */
const KEY_CACHE_SIZE = 32;

const isSpace = (b: number | undefined): boolean => b === SPACE || b === TAB || b === CR || b === LF;

const isUint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;

/** Most values a line can hold: each takes at least two bytes ("1,"). */
const MAX_VALUES = MAX_LINE / 2;

/**
 * A sample line decoded into storage that is reused line after line (no object per line, the
 * way nanopb decodes into a caller's struct): channel c is names[c], its values are
 * values[starts[c] .. starts[c + 1]), and scalar[c] says it was a number rather than an array.
 */
export class SampleScan {
  static readonly MAX_VALUES = MAX_VALUES;
  /** "n" and "t", when the line has them and they are stamps (a hello declared them). */
  seq: number | undefined;
  time: number | undefined;
  channels = 0;
  readonly names: string[] = [];
  readonly starts = new Int32Array(MAX_VALUES + 1);
  readonly scalar = new Uint8Array(MAX_VALUES);
  readonly values = new Float64Array(MAX_VALUES);

  /** The read position while scanning a line. */
  private pos = 0;
  /** Keys seen lately, so a line's keys are not made into new strings every time. */
  private readonly keys: string[] = [];

  /**
   * Scans the sample line in buf[start, end) (without its newline); `stamped` when "n" and "t"
   * are stamps rather than channels. False when it is not a plain, valid sample line (the scan
   * is then meaningless): decode its text with decodeDeviceText, which also says what is wrong.
   */
  read(buf: Uint8Array, start: number, end: number, stamped = true): boolean {
    if (end - start >= MAX_LINE) return false;
    this.pos = start;
    this.skipSpace(buf, end);
    if (this.peek(buf, end) !== LBRACE) return false;
    this.pos++;
    this.seq = undefined;
    this.time = undefined;
    let channels = 0;
    let at = 0;
    this.skipSpace(buf, end);
    if (this.peek(buf, end) === RBRACE) return false; // {} has no channel
    for (;;) {
      if (this.peek(buf, end) !== QUOTE) return false;
      const keyStart = ++this.pos;
      while (this.pos < end) {
        const b = buf[this.pos] as number;
        if (b === QUOTE) break;
        // Escapes, control characters and non-ASCII keys take the ordinary path.
        if (b === BACKSLASH || b < SPACE || b > 0x7e) return false;
        this.pos++;
      }
      if (this.pos >= end) return false;
      const key = this.keyString(buf, keyStart, this.pos);
      this.pos++;
      this.skipSpace(buf, end);
      if (this.peek(buf, end) !== COLON) return false;
      this.pos++;
      this.skipSpace(buf, end);
      const scalar = this.peek(buf, end) !== LBRACKET;
      const next = this.channelValue(buf, end, at);
      if (next < 0) return false;
      const value = this.values[at] as number;
      if (stamped && key === deviceKeys.SEQ) {
        if (!scalar || this.seq !== undefined || !isUint(value, 65_535)) return false;
        this.seq = value;
      } else if (stamped && key === deviceKeys.TIME) {
        if (!scalar || this.time !== undefined || !isUint(value, 4_294_967_295)) return false;
        this.time = value;
      } else if (key === deviceKeys.HELLO || key === deviceKeys.EVENT || key === '__proto__') {
        return false; // not a sample line (or a key an object literal treats specially)
      } else {
        // A repeated key: JSON.parse keeps the last; the ordinary path sorts that out.
        for (let c = 0; c < channels; c++) if (this.names[c] === key) return false;
        this.names[channels] = key;
        this.starts[channels] = at;
        this.scalar[channels] = scalar ? 1 : 0;
        channels++;
        at = next;
      }
      this.skipSpace(buf, end);
      const b = this.peek(buf, end);
      this.pos++;
      if (b === RBRACE) break;
      if (b !== COMMA) return false;
      this.skipSpace(buf, end);
    }
    this.skipSpace(buf, end);
    this.channels = channels;
    this.starts[channels] = at;
    return this.pos === end && channels > 0;
  }

  private keyString(buf: Uint8Array, start: number, end: number): string {
    const len = end - start;
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      if (key.length !== len) continue;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (key.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return key;
    }
    const key = String.fromCharCode.apply(null, Array.from(buf.subarray(start, end)));
    if (keys.length >= KEY_CACHE_SIZE) keys.shift();
    keys.push(key);
    return key;
  }

  private skipSpace(buf: Uint8Array, end: number): void {
    while (this.pos < end && isSpace(buf[this.pos])) this.pos++;
  }

  /** The byte at pos, or -1 at the end of the line (never a byte of the next one). */
  private peek(buf: Uint8Array, end: number): number {
    return this.pos < end ? (buf[this.pos] as number) : -1;
  }

  /** A JSON number at pos, by JSON's grammar; NaN when there is none. */
  private number(buf: Uint8Array, end: number): number {
    const start = this.pos;
    let negative = false;
    if (this.peek(buf, end) === MINUS) {
      negative = true;
      this.pos++;
    }
    const intStart = this.pos;
    let value = 0;
    while (this.pos < end) {
      const b = buf[this.pos] as number;
      if (b < ZERO || b > NINE) break;
      value = value * 10 + (b - ZERO);
      this.pos++;
    }
    const digits = this.pos - intStart;
    // No digits, or a leading zero followed by more digits: not JSON.
    if (digits === 0 || (digits > 1 && buf[intStart] === ZERO)) return NaN;
    let simple = digits <= 15;
    if (this.peek(buf, end) === DOT) {
      simple = false;
      this.pos++;
      if (!this.digits(buf, end)) return NaN;
    }
    const e = this.peek(buf, end);
    if (e === LOWER_E || e === UPPER_E) {
      simple = false;
      this.pos++;
      const sign = this.peek(buf, end);
      if (sign === PLUS || sign === MINUS) this.pos++;
      if (!this.digits(buf, end)) return NaN;
    }
    if (simple) return negative ? -value : value;
    // The same correctly rounded conversion JSON.parse uses, on the same text.
    return Number(String.fromCharCode.apply(null, Array.from(buf.subarray(start, this.pos))));
  }

  /** Skips one or more digits; false when there is none. */
  private digits(buf: Uint8Array, end: number): boolean {
    const start = this.pos;
    while (this.pos < end && (buf[this.pos] as number) >= ZERO && (buf[this.pos] as number) <= NINE) this.pos++;
    return this.pos > start;
  }

  /**
   * Reads a number, or an array of 1..MAX_SAMPLES_PER_LINE finite numbers, into values from
   * index `at`; returns the index after them, or -1 when the value is not plain.
   */
  private channelValue(buf: Uint8Array, end: number, at: number): number {
    if (this.peek(buf, end) !== LBRACKET) {
      const v = this.number(buf, end);
      if (!Number.isFinite(v)) return -1;
      this.values[at] = v;
      return at + 1;
    }
    this.pos++;
    const first = at;
    this.skipSpace(buf, end);
    for (;;) {
      const v = this.number(buf, end);
      if (!Number.isFinite(v) || at - first === MAX_SAMPLES_PER_LINE) return -1;
      this.values[at++] = v;
      this.skipSpace(buf, end);
      const b = this.peek(buf, end);
      this.pos++;
      if (b === RBRACKET) return at;
      if (b !== COMMA) return -1;
      this.skipSpace(buf, end);
    }
  }

  /** The line as an object, as JSON.parse would give it (to keep it beyond the next scan). */
  toLine(): SampleLine {
    const line: SampleLine = {};
    if (this.seq !== undefined) line[deviceKeys.SEQ] = this.seq;
    if (this.time !== undefined) line[deviceKeys.TIME] = this.time;
    for (let c = 0; c < this.channels; c++) {
      const from = this.starts[c] as number;
      line[this.names[c] as string] = this.scalar[c] ? (this.values[from] as number) : Array.from(this.values.subarray(from, this.starts[c + 1]));
    }
    return line;
  }

  /** Fills the scan from a sample line already decoded as an object. */
  fromLine(line: SampleLine, stamped = true): this {
    this.seq = stamped ? line[deviceKeys.SEQ] : undefined;
    this.time = stamped ? line[deviceKeys.TIME] : undefined;
    this.channels = 0;
    let at = 0;
    for (const key in line) {
      const value = line[key];
      if ((stamped && !isChannelKey(key)) || value === undefined) continue;
      const c = this.channels++;
      this.names[c] = key;
      this.starts[c] = at;
      this.scalar[c] = typeof value === 'number' ? 1 : 0;
      if (typeof value === 'number') this.values[at++] = value;
      else for (const v of value) this.values[at++] = v;
    }
    this.starts[this.channels] = at;
    return this;
  }
}

