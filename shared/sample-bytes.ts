/**
 * A fast path for the one line kind that is nearly all the traffic: a sample line, decoded
 * straight from the serial bytes into reused storage (SampleScan), with no string, no JSON.parse
 * and no object per line. It accepts only plain lines (a flat object of numbers and arrays of
 * numbers, ASCII keys without escapes, no repeated key) and only when they are valid; for
 * anything else it returns false and the caller decodes the text the ordinary way
 * (decodeDeviceLine), which also names what is wrong.
 * A test holds it to JSON.parse + classifyDeviceLine on generated lines. Measured in
 * bench/bridge-throughput.ts.
 */
import { MAX_LINE, MAX_SAMPLES_PER_LINE } from './limits.js';
import { deviceKeys, isChannelKey, type SampleLine } from './device-lines.js';

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

/** Keys seen lately: a sample line's keys repeat on every line, so their strings are reused. */
const keyCache: string[] = [];
const KEY_CACHE_SIZE = 32;

function keyString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  for (let k = 0; k < keyCache.length; k++) {
    const key = keyCache[k] as string;
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
  if (keyCache.length >= KEY_CACHE_SIZE) keyCache.shift();
  keyCache.push(key);
  return key;
}

/** Scanner state: the position after the last thing read, or -1 when the line is not plain. */
let pos = 0;

const isSpace = (b: number | undefined): boolean => b === SPACE || b === TAB || b === CR || b === LF;

function skipSpace(buf: Uint8Array, end: number): void {
  while (pos < end && isSpace(buf[pos])) pos++;
}

/** The byte at pos, or -1 at the end of the line (never a byte of the next one). */
const peek = (buf: Uint8Array, end: number): number => (pos < end ? (buf[pos] as number) : -1);

/** A JSON number at pos, by JSON's grammar; NaN when there is none. */
function number(buf: Uint8Array, end: number): number {
  const start = pos;
  let negative = false;
  if (peek(buf, end) === MINUS) {
    negative = true;
    pos++;
  }
  const intStart = pos;
  let value = 0;
  while (pos < end) {
    const b = buf[pos] as number;
    if (b < ZERO || b > NINE) break;
    value = value * 10 + (b - ZERO);
    pos++;
  }
  const digits = pos - intStart;
  // No digits, or a leading zero followed by more digits: not JSON.
  if (digits === 0 || (digits > 1 && buf[intStart] === ZERO)) return NaN;
  let simple = digits <= 15;
  if (peek(buf, end) === DOT) {
    simple = false;
    pos++;
    const fracStart = pos;
    while (pos < end && (buf[pos] as number) >= ZERO && (buf[pos] as number) <= NINE) pos++;
    if (pos === fracStart) return NaN;
  }
  const e = peek(buf, end);
  if (e === LOWER_E || e === UPPER_E) {
    simple = false;
    pos++;
    const sign = peek(buf, end);
    if (sign === PLUS || sign === MINUS) pos++;
    const expStart = pos;
    while (pos < end && (buf[pos] as number) >= ZERO && (buf[pos] as number) <= NINE) pos++;
    if (pos === expStart) return NaN;
  }
  if (simple) return negative ? -value : value;
  // The same correctly rounded conversion JSON.parse uses, on the same text.
  return Number(String.fromCharCode.apply(null, Array.from(buf.subarray(start, pos))));
}

/** Most values a line can hold: each takes at least two bytes ("1,"). */
const MAX_VALUES = MAX_LINE / 2;

/**
 * A sample line decoded into storage that is reused line after line (no object per line, the
 * way nanopb decodes into a caller's struct): channel c is names[c], its values are
 * values[starts[c] .. starts[c + 1]), and scalar[c] says it was a number rather than an array.
 */
export class SampleScan {
  static readonly MAX_VALUES = MAX_VALUES;
  /** "n" and "t", when the line has them. */
  seq: number | undefined;
  time: number | undefined;
  channels = 0;
  readonly names: string[] = [];
  readonly starts = new Int32Array(MAX_VALUES + 1);
  readonly scalar = new Uint8Array(MAX_VALUES);
  readonly values = new Float64Array(MAX_VALUES);

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
  fromLine(line: SampleLine): this {
    this.seq = line[deviceKeys.SEQ];
    this.time = line[deviceKeys.TIME];
    this.channels = 0;
    let at = 0;
    for (const key in line) {
      const value = line[key];
      if (!isChannelKey(key) || value === undefined) continue;
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

/**
 * Reads a number, or an array of 1..MAX_SAMPLES_PER_LINE finite numbers, into scan.values from
 * index `at`; returns the index after them, or -1 when the value is not plain.
 */
function channelValue(buf: Uint8Array, end: number, scan: SampleScan, at: number): number {
  if (peek(buf, end) !== LBRACKET) {
    const v = number(buf, end);
    if (!Number.isFinite(v)) return -1;
    scan.values[at] = v;
    return at + 1;
  }
  pos++;
  const first = at;
  skipSpace(buf, end);
  for (;;) {
    const v = number(buf, end);
    if (!Number.isFinite(v) || at - first === MAX_SAMPLES_PER_LINE) return -1;
    scan.values[at++] = v;
    skipSpace(buf, end);
    const b = peek(buf, end);
    pos++;
    if (b === RBRACKET) return at;
    if (b !== COMMA) return -1;
    skipSpace(buf, end);
  }
}

const isUint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;

/**
 * Scans the sample line in buf[start, end) (without its newline) into `scan`. False when it is
 * not a plain, valid sample line (the scan is then meaningless): decode its text with
 * decodeDeviceLine, which also says what is wrong.
 */
export function scanSampleBytes(buf: Uint8Array, start: number, end: number, scan: SampleScan): boolean {
  if (end - start >= MAX_LINE) return false;
  pos = start;
  skipSpace(buf, end);
  if (peek(buf, end) !== LBRACE) return false;
  pos++;
  scan.seq = undefined;
  scan.time = undefined;
  let channels = 0;
  let at = 0;
  skipSpace(buf, end);
  if (peek(buf, end) === RBRACE) return false; // {} has no channel
  for (;;) {
    if (peek(buf, end) !== QUOTE) return false;
    const keyStart = ++pos;
    while (pos < end) {
      const b = buf[pos] as number;
      if (b === QUOTE) break;
      // Escapes, control characters and non-ASCII keys take the ordinary path.
      if (b === BACKSLASH || b < SPACE || b > 0x7e) return false;
      pos++;
    }
    if (pos >= end) return false;
    const key = keyString(buf, keyStart, pos);
    pos++;
    skipSpace(buf, end);
    if (peek(buf, end) !== COLON) return false;
    pos++;
    skipSpace(buf, end);
    const scalar = peek(buf, end) !== LBRACKET;
    const next = channelValue(buf, end, scan, at);
    if (next < 0) return false;
    const value = scan.values[at] as number;
    if (key === deviceKeys.SEQ) {
      if (!scalar || scan.seq !== undefined || !isUint(value, 65_535)) return false;
      scan.seq = value;
    } else if (key === deviceKeys.TIME) {
      if (!scalar || scan.time !== undefined || !isUint(value, 4_294_967_295)) return false;
      scan.time = value;
    } else if (key === deviceKeys.HELLO || key === deviceKeys.EVENT || key === '__proto__') {
      return false; // not a sample line (or a key an object literal treats specially)
    } else {
      // A repeated key: JSON.parse keeps the last; the ordinary path sorts that out.
      for (let c = 0; c < channels; c++) if (scan.names[c] === key) return false;
      scan.names[channels] = key;
      scan.starts[channels] = at;
      scan.scalar[channels] = scalar ? 1 : 0;
      channels++;
      at = next;
    }
    skipSpace(buf, end);
    const b = peek(buf, end);
    pos++;
    if (b === RBRACE) break;
    if (b !== COMMA) return false;
    skipSpace(buf, end);
  }
  skipSpace(buf, end);
  scan.channels = channels;
  scan.starts[channels] = at;
  return pos === end && channels > 0;
}
