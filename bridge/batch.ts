/**
 * plotwire's batch append: the next unsent points of a buffer as one stream object
 * {"append":{"x":[...],"y":[...]},"seq":N}, within MAX_BATCH_POINTS and MAX_STREAM_LINE.
 */
import { MAX_BATCH_POINTS, MAX_STREAM_LINE } from '../shared/index.js';
import type { PointBuffer, PointStyle, XValue } from './point-buffer.js';

/** The batch's text, marker.* and line.* columns from per-point styles (null where a point has none). */
function styleColumns(styles: readonly (PointStyle | undefined)[]): Record<string, unknown> {
  const out: { text?: (string | null)[]; marker?: Record<string, unknown[]>; line?: Record<string, unknown[]> } = {};
  const column = (group: 'marker' | 'line', key: string): unknown[] => ((out[group] ??= {})[key] ??= styles.map(() => null));
  styles.forEach((style, i) => {
    if (!style) return;
    if (style.text !== undefined) (out.text ??= styles.map(() => null))[i] = style.text;
    for (const group of ['marker', 'line'] as const) for (const [key, v] of Object.entries(style[group] ?? {})) column(group, key)[i] = v;
  });
  return out;
}

/**
 * The object's text (without newline) and its point count; moves the buffer's cursor past them.
 * formatX, when given, turns each x into what is sent (a time into a date string): done here,
 * just before sending, the strings die young instead of aging in the buffer (cheaper to collect).
 */
export function takeBatch(
  buffer: PointBuffer,
  maxPoints = MAX_BATCH_POINTS,
  formatX?: (x: XValue) => XValue,
): { line: string; points: number } | undefined {
  let max = Math.min(buffer.unsent, maxPoints);
  while (max > 0) {
    const batch = buffer.peek(max);
    const x = formatX ? batch.x.map(formatX) : batch.x;
    const line = JSON.stringify({ append: { x, y: batch.y, ...(batch.styles && styleColumns(batch.styles)) }, seq: batch.seq });
    // Long text values could make even a short batch too long: halve until it fits.
    if (line.length < MAX_STREAM_LINE || max === 1) {
      buffer.advance(batch.y.length);
      return { line, points: batch.y.length };
    }
    max = Math.ceil(max / 2);
  }
  return undefined;
}
