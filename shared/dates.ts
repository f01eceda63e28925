/**
 * Plotly's date form for x values, "YYYY-MM-DD HH:MM:SS.ffffff" (DATE_PATTERN), written fast:
 * a writer formats one date per point, so the "YYYY-MM-DD HH:MM:SS." part is cached per second
 * (and its "YYYY-MM-DD HH:MM:" per minute).
 */
import { InvalidArgumentError } from './errors.js';

/** Local time or UTC. Plotly's date strings carry no zone; the viewer shows them as written. */
export type DateZone = 'local' | 'utc';

interface Cache {
  start: number;
  prefix: string;
}

const minutes: Record<DateZone, Cache> = { local: { start: NaN, prefix: '' }, utc: { start: NaN, prefix: '' } };
const seconds: Record<DateZone, Cache> = { local: { start: NaN, prefix: '' }, utc: { start: NaN, prefix: '' } };

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

function minutePrefix(minuteStart: number, zone: DateZone): string {
  const d = new Date(minuteStart);
  return zone === 'utc'
    ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:`
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:`;
}

/** A time in ms since the epoch as whole microseconds (what a date string keeps). */
export function toMicros(ms: number): number {
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`not a time: ${ms}`);
  return Math.round(ms * 1000);
}

/** The microseconds into its second (0 to 999999): the date string's ".ffffff". */
export function microsIntoSecond(micros: number): number {
  // Not %: on numbers this large it is a slow floating-point remainder.
  return micros - Math.floor(micros / 1_000_000) * 1_000_000;
}

/** "YYYY-MM-DD HH:MM:SS." of the second holding a time in microseconds (cached: points come in runs within a second). */
export function datePrefix(micros: number, zone: DateZone): string {
  const second = Math.floor(micros / 1_000_000);
  const sec = seconds[zone];
  if (second !== sec.start) {
    sec.start = second;
    const wholeMs = second * 1000;
    const cache = minutes[zone];
    // Local-time offsets are whole minutes, so a local minute starts on a multiple of 60 s.
    if (!(wholeMs >= cache.start && wholeMs < cache.start + 60_000)) {
      cache.start = wholeMs - (((wholeMs % 60_000) + 60_000) % 60_000);
      cache.prefix = minutePrefix(cache.start, zone);
    }
    sec.prefix = `${cache.prefix}${pad2((wholeMs - cache.start) / 1000)}.`;
  }
  return sec.prefix;
}

/**
 * A time in ms since the epoch (fractions kept to the microsecond) as "YYYY-MM-DD HH:MM:SS.ffffff",
 * in local time unless `utc`.
 */
export function formatPlotlyDate(ms: number, utc = false): string {
  const micros = toMicros(ms);
  const f = microsIntoSecond(micros);
  return datePrefix(micros, utc ? 'utc' : 'local') + (f >= 100_000 ? '' : f >= 10_000 ? '0' : f >= 1_000 ? '00' : f >= 100 ? '000' : f >= 10 ? '0000' : '00000') + f;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Whether `zone` is an IANA time zone name this Node knows ("America/Montreal"). */
export function isTimeZone(zone: string): boolean {
  return zoneFormat(zone) !== undefined;
}

function zoneFormat(zone: string): Intl.DateTimeFormat | undefined {
  let format = zoneFormats.get(zone);
  if (format) return format;
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  } catch {
    return undefined;
  }
  if (zoneFormats.size < 64) zoneFormats.set(zone, format);
  return format;
}

/** A time in ms since the epoch as "YYYY-MM-DD HH:MM:SS.ffffff" on the wall clock of an IANA zone. */
export function formatPlotlyDateIn(ms: number, zone: string): string {
  const format = zoneFormat(zone);
  if (!format) throw new InvalidArgumentError(`unknown time zone "${zone}"`);
  const micros = toMicros(ms);
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(new Date(Math.floor(micros / 1000)))) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${String(microsIntoSecond(micros)).padStart(6, '0')}`;
}
