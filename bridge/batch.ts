/**
 * plotwire's batch append: the next unsent points of a buffer as one stream object
 * {"append":{"x":[...],"y":[...]},"seq":N}, within MAX_BATCH_POINTS and MAX_STREAM_LINE.
 * The object is written column by column straight from the buffer into bytes (json-bytes.ts).
 */
import { MAX_BATCH_POINTS, MAX_STREAM_LINE } from '../shared/index.js';
import type { DateZone } from '../shared/dates.js';
import { DATE_BYTES, JsonBytes, MAX_NUMBER_BYTES } from './json-bytes.js';
import type { PointBuffer, PointStyle } from './point-buffer.js';

/** A style column: "text", or a key of the marker or line group. */
interface StyleColumn {
  readonly group: 'text' | 'marker' | 'line';
  readonly key: string;
}

/** The style columns the first n unsent points need, in the order they first appear. */
function styleColumns(buffer: PointBuffer, n: number): StyleColumn[] {
  const columns = new Map<string, StyleColumn>();
  const add = (group: StyleColumn['group'], key: string): void => {
    const id = `${group}.${key}`;
    if (!columns.has(id)) columns.set(id, { group, key });
  };
  for (let i = 0; i < n; i++) {
    const style = buffer.style(i);
    if (!style) continue;
    if (style.text !== undefined) add('text', '');
    for (const group of ['marker', 'line'] as const) for (const key of Object.keys(style[group] ?? {})) add(group, key);
  }
  // Grouped as the object nests them: text, then marker's keys, then line's.
  const order = { text: 0, marker: 1, line: 2 };
  return [...columns.values()].sort((a, b) => order[a.group] - order[b.group]);
}

/** A point's cell of a style column as JSON text (null when it has none). */
function styleCell(style: PointStyle | undefined, column: StyleColumn): string {
  const value = column.group === 'text' ? style?.text : style?.[column.group]?.[column.key];
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** Bytes of the object around its values: keys, brackets, seq, newline (style keys counted apart). */
const FRAME_BYTES = 64;

/**
 * How many of the n next points fit in one stream line, and an upper bound of its bytes: numbers
 * and dates have a bounded size; string x values and styles are measured. One point always goes,
 * so an impossible point is refused by the server rather than stuck here.
 */
function fit(buffer: PointBuffer, n: number, columns: readonly StyleColumn[], dates: boolean): { points: number; bytes: number } {
  const numberBytes = (dates ? DATE_BYTES : MAX_NUMBER_BYTES) + MAX_NUMBER_BYTES + 2;
  let bytes = FRAME_BYTES + columns.reduce((sum, c) => sum + c.key.length + 16, 0);
  if (!buffer.hasStyles && !buffer.hasStringX) {
    const points = Math.max(1, Math.min(n, Math.floor((MAX_STREAM_LINE - 1 - bytes) / numberBytes)));
    return { points, bytes: bytes + points * numberBytes };
  }
  for (let i = 0; i < n; i++) {
    const x = buffer.x(i);
    let add = numberBytes + (typeof x === 'string' ? Buffer.byteLength(JSON.stringify(x)) : 0);
    const style = buffer.style(i);
    for (const c of columns) add += Buffer.byteLength(styleCell(style, c)) + 1;
    if (i > 0 && bytes + add >= MAX_STREAM_LINE) return { points: i, bytes };
    bytes += add;
  }
  return { points: n, bytes };
}

/**
 * The object's line (newline included) and its point count; moves the buffer's cursor past them.
 * With `dates`, numeric x values (times in ms) go as Plotly date strings in that zone.
 */
export function takeBatch(buffer: PointBuffer, maxPoints = MAX_BATCH_POINTS, dates?: DateZone): { line: Buffer; points: number } | undefined {
  const n = Math.min(buffer.unsent, maxPoints);
  if (n === 0) return undefined;
  const columns = buffer.hasStyles ? styleColumns(buffer, n) : [];
  const { points, bytes } = fit(buffer, n, columns, dates !== undefined);
  const out = new JsonBytes(bytes).ascii('{"append":{"x":[');
  for (let i = 0; i < points; i++) {
    if (i > 0) out.byte(0x2c);
    const x = buffer.x(i);
    if (typeof x === 'string') out.string(x);
    else if (dates) out.date(x, dates);
    else out.number(x);
  }
  out.ascii('],"y":[');
  for (let i = 0; i < points; i++) {
    if (i > 0) out.byte(0x2c);
    out.number(buffer.y(i));
  }
  out.byte(0x5d);
  let group: StyleColumn['group'] | undefined;
  for (const c of columns) {
    if (c.group === 'text') out.ascii(',"text":[');
    else {
      out.ascii(group === c.group ? ',' : `${group && group !== 'text' ? '}' : ''},"${c.group}":{`).string(c.key).ascii(':[');
    }
    group = c.group;
    for (let i = 0; i < points; i++) out.ascii(i > 0 ? ',' : '').text(styleCell(buffer.style(i), c));
    out.byte(0x5d);
  }
  if (group && group !== 'text') out.byte(0x7d);
  const line = out.ascii(`},"seq":${buffer.startSeq + buffer.cursor}}\n`).finish();
  buffer.advance(points);
  return { line, points };
}
