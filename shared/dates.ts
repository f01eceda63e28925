/**
 * Plotly's date form for x values, "YYYY-MM-DD HH:MM:SS.ffffff" (DATE_PATTERN), written fast:
 * a writer formats one date per point, so the "YYYY-MM-DD HH:MM:" part is cached per minute.
 */

interface MinuteCache {
  start: number;
  prefix: string;
}

const caches: Record<'local' | 'utc', MinuteCache> = {
  local: { start: NaN, prefix: '' },
  utc: { start: NaN, prefix: '' },
};

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

function minutePrefix(minuteStart: number, utc: boolean): string {
  const d = new Date(minuteStart);
  return utc
    ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:`
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:`;
}

/** The "YYYY-MM-DD HH:MM:SS." of the last second formatted: points come in runs within a second. */
const seconds: Record<'local' | 'utc', { start: number; prefix: string }> = {
  local: { start: NaN, prefix: '' },
  utc: { start: NaN, prefix: '' },
};

/**
 * A time in ms since the epoch (fractions kept to the microsecond) as "YYYY-MM-DD HH:MM:SS.ffffff",
 * in local time unless `utc`. Plotly's date strings carry no zone; the viewer shows them as written.
 */
export function formatPlotlyDate(ms: number, utc = false): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatPlotlyDate: not a time: ${ms}`);
  const micros = Math.round(ms * 1000);
  const second = Math.floor(micros / 1_000_000);
  const zone = utc ? 'utc' : 'local';
  const sec = seconds[zone];
  if (second !== sec.start) {
    sec.start = second;
    sec.prefix = secondPrefix(second * 1000, caches[zone], utc);
  }
  const f = micros - second * 1_000_000;
  return sec.prefix + (f >= 100_000 ? '' : f >= 10_000 ? '0' : f >= 1_000 ? '00' : f >= 100 ? '000' : f >= 10 ? '0000' : '00000') + f;
}

function secondPrefix(wholeMs: number, cache: MinuteCache, utc: boolean): string {
  // Local-time offsets are whole minutes, so a local minute starts on a multiple of 60 s.
  if (!(wholeMs >= cache.start && wholeMs < cache.start + 60_000)) {
    cache.start = wholeMs - (((wholeMs % 60_000) + 60_000) % 60_000);
    cache.prefix = minutePrefix(cache.start, utc);
  }
  return `${cache.prefix}${pad2((wholeMs - cache.start) / 1000)}.`;
}
