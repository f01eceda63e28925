/**
 * The messages of Plotly's Yún library (plotly_yun), as its sketch prints them to the Console
 * between YunMessenger's markers, and as its Python daemon on the Yún's Linux side read them:
 *   {"x": 1.00, "y": 10.00, "token": "T"}                          x and y given (Arduino prints 2 decimals)
 *   {"timezone": "America/Montreal", "y": "512.00", "token": "T"}   y only (quoted): x is the arrival time in that zone
 * x or y may be quoted strings (its char* and String overloads). Each message names its own
 * stream token, so no --map is needed.
 */
import { formatDateInZone, isTimeZone } from '../shared/dates.js';
import type { XValue } from './point-buffer.js';

/** The subscriber name the library's messages go to. */
export const YUN_SUBSCRIBER = 'plotly';
const TOKEN_MAX = 256;

export type YunPoint = { readonly token: string; readonly x: XValue; readonly y: number; readonly unknownZone?: string };

/** A point, or why the message cannot be one. */
export function parseYunMessage(text: string, arrivedAt: number): YunPoint | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'must be a JSON object' };
  const m = value as Record<string, unknown>;
  const token = m.token;
  if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX || /[\s\x00-\x1f]/.test(token)) {
    return { error: `"token" must be a stream token (1 to ${TOKEN_MAX} characters, no spaces)` };
  }
  const y = typeof m.y === 'string' ? Number(m.y.trim() === '' ? NaN : m.y) : m.y;
  if (typeof y !== 'number' || !Number.isFinite(y)) {
    // Arduino's print(float) writes "nan", "inf" and "ovf" (beyond +-4294967040).
    return { error: `"y" must be a number (got ${JSON.stringify(m.y)})` };
  }
  if ('x' in m) {
    const x = m.x;
    if (typeof x === 'number' && Number.isFinite(x)) return { token, x, y };
    if (typeof x === 'string' && x.length > 0 && x.length <= TOKEN_MAX) return { token, x, y };
    return { error: `"x" must be a number or a string (got ${JSON.stringify(x)})` };
  }
  const zone = typeof m.timezone === 'string' ? m.timezone.trim() : '';
  if (zone !== '' && isTimeZone(zone)) return { token, x: formatDateInZone(arrivedAt, zone), y };
  // No zone (the library prints "" when the sketch set none), or one Node does not know: local time.
  const local = formatDateInZone(arrivedAt, Intl.DateTimeFormat().resolvedOptions().timeZone);
  return zone === '' ? { token, x: local, y } : { token, x: local, y, unknownZone: zone };
}
