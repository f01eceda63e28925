/**
 * A fast path for the one line kind that is nearly all the traffic: a sample line, decoded
 * straight from the serial bytes without making a string or calling JSON.parse. It accepts only
 * plain lines (a flat object of numbers and arrays of numbers, ASCII keys without escapes, no
 * repeated key) and only when they are valid; for anything else it returns undefined and the
 * caller decodes the text the ordinary way (decodeDeviceLine), which also names what is wrong.
 * A test holds it to JSON.parse + classifyDeviceLine on generated lines. Measured in
 * bench/bridge-throughput.ts.
 */
import { MAX_LINE, MAX_SAMPLES_PER_LINE } from './limits.js';
import { deviceKeys, type SampleLine } from './device-lines.js';

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

/** A number, or an array of 1..MAX_SAMPLES_PER_LINE finite numbers; undefined when not plain. */
function channelValue(buf: Uint8Array, end: number): number | number[] | undefined {
  if (peek(buf, end) !== LBRACKET) {
    const v = number(buf, end);
    return Number.isFinite(v) ? v : undefined;
  }
  pos++;
  const values: number[] = [];
  skipSpace(buf, end);
  for (;;) {
    const v = number(buf, end);
    if (!Number.isFinite(v) || values.length === MAX_SAMPLES_PER_LINE) return undefined;
    values.push(v);
    skipSpace(buf, end);
    const b = peek(buf, end);
    pos++;
    if (b === RBRACKET) return values;
    if (b !== COMMA) return undefined;
    skipSpace(buf, end);
  }
}

const isUint = (v: number | number[], max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/**
 * The sample line in buf[start, end) (without its newline), or undefined when it is not a plain,
 * valid sample line: then decode its text with decodeDeviceLine.
 */
export function decodeSampleBytes(buf: Uint8Array, start: number, end: number): SampleLine | undefined {
  if (end - start >= MAX_LINE) return undefined;
  pos = start;
  skipSpace(buf, end);
  if (peek(buf, end) !== LBRACE) return undefined;
  pos++;
  const line: Record<string, number | number[]> = {};
  let channels = 0;
  skipSpace(buf, end);
  if (peek(buf, end) === RBRACE) return undefined; // {} has no channel
  for (;;) {
    if (peek(buf, end) !== QUOTE) return undefined;
    const keyStart = ++pos;
    while (pos < end) {
      const b = buf[pos] as number;
      if (b === QUOTE) break;
      // Escapes, control characters and non-ASCII keys take the ordinary path.
      if (b === BACKSLASH || b < SPACE || b > 0x7e) return undefined;
      pos++;
    }
    if (pos >= end) return undefined;
    const key = keyString(buf, keyStart, pos);
    pos++;
    skipSpace(buf, end);
    if (peek(buf, end) !== COLON) return undefined;
    pos++;
    skipSpace(buf, end);
    const value = channelValue(buf, end);
    if (value === undefined || key in line) return undefined;
    if (key === deviceKeys.SEQ) {
      if (!isUint(value, 65_535)) return undefined;
    } else if (key === deviceKeys.TIME) {
      if (!isUint(value, 4_294_967_295)) return undefined;
    } else if (key === deviceKeys.HELLO || key === deviceKeys.EVENT || key === '__proto__') {
      return undefined; // not a sample line (or a key an object literal treats specially)
    } else channels++;
    line[key] = value;
    skipSpace(buf, end);
    const b = peek(buf, end);
    pos++;
    if (b === RBRACE) break;
    if (b !== COMMA) return undefined;
    skipSpace(buf, end);
  }
  skipSpace(buf, end);
  return pos === end && channels > 0 ? (line as SampleLine) : undefined;
}
