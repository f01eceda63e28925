import { describe, expect, it } from 'vitest';
import { DATE_PATTERN, formatPlotlyDate } from '../../shared/index.js';

describe('formatPlotlyDate', () => {
  it('writes UTC dates in Plotly form with microseconds', () => {
    expect(formatPlotlyDate(Date.UTC(2026, 10, 22, 10, 0, 0, 50), true)).toBe('2026-11-22 10:00:00.050000');
    expect(formatPlotlyDate(Date.UTC(2026, 0, 2, 3, 4, 5, 6) + 0.789, true)).toBe('2026-01-02 03:04:05.006789');
    expect(formatPlotlyDate(Date.UTC(1999, 11, 31, 23, 59, 59, 999) + 0.9996, true)).toBe('2000-01-01 00:00:00.000000');
  });

  it('agrees with Date for local time across minutes, hours and years', () => {
    const start = new Date(2026, 11, 31, 23, 58, 0).getTime();
    for (let ms = start; ms < start + 180_000; ms += 777.25) {
      const d = new Date(Math.floor(ms));
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      const want = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${p(Math.round((ms % 1) * 1000), 3)}`;
      const got = formatPlotlyDate(ms);
      expect(got).toBe(want);
      expect(got).toMatch(DATE_PATTERN);
    }
  });

  it('goes back in time correctly (the minute cache is not one-way)', () => {
    const t = Date.UTC(2026, 5, 1, 12, 30, 15, 0);
    expect(formatPlotlyDate(t, true)).toBe('2026-06-01 12:30:15.000000');
    expect(formatPlotlyDate(t - 60_000, true)).toBe('2026-06-01 12:29:15.000000');
  });

  it('rejects what is not a time', () => {
    expect(() => formatPlotlyDate(NaN)).toThrow(/not a time/);
  });
});
