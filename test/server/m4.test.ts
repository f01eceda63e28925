/** Min/max per pixel column (server/web/m4.ts) against the obvious reduction, on seeded random series. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { m4, xNumber } from '../../server/web/m4.js';

/** Per column: the first and last index, and the lowest and highest y, of all points (the obvious way). */
function columnsOf(xs: number[], ys: (number | null)[], x0: number, x1: number, columns: number, keep: (i: number) => boolean) {
  const out = new Map<number, { first: number; last: number; lo: number; hi: number }>();
  const width = (x1 - x0) / columns;
  xs.forEach((x, i) => {
    const y = ys[i];
    if (!keep(i) || typeof y !== 'number') return;
    const c = Math.min(columns - 1, Math.max(0, Math.floor((x - x0) / width)));
    const e = out.get(c);
    if (!e) out.set(c, { first: i, last: i, lo: y, hi: y });
    else Object.assign(e, { last: i, lo: Math.min(e.lo, y), hi: Math.max(e.hi, y) });
  });
  return out;
}

describe('m4', () => {
  it('keeps, per pixel column, the first and last point and the lowest and highest y; every gap; indices ascending', () => {
    const series = fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(null))), { maxLength: 400 });
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 60 }), (steps, columns) => {
        let x = 0;
        const xs = steps.map(([dx]) => (x += dx));
        const ys = steps.map(([, y]) => y);
        const x0 = xs[0] ?? 0;
        const x1 = xs.at(-1) ?? 0;
        const kept = m4(xs, ys, x0, x1, columns);
        for (let k = 1; k < kept.length; k++) expect(kept[k]).toBeGreaterThan(kept[k - 1] as number);
        for (const [i, y] of ys.entries()) if (y === null) expect(kept).toContain(i);
        if (x1 === x0) {
          expect(kept).toEqual(xs.map((_, i) => i));
          return;
        }
        // Gaps split a column's run; compare run by run, as the line is drawn.
        const runs: number[][] = [[]];
        ys.forEach((y, i) => (y === null ? runs.push([]) : runs.at(-1)?.push(i)));
        for (const run of runs) {
          const inRun = new Set(run);
          const all = columnsOf(xs, ys, x0, x1, columns, (i) => inRun.has(i));
          const some = columnsOf(xs, ys, x0, x1, columns, (i) => inRun.has(i) && kept.includes(i));
          expect(some).toEqual(all);
        }
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it('keeps at most four points a column', () => {
    const xs = Array.from({ length: 100_000 }, (_, i) => i);
    const ys = xs.map((i) => Math.sin(i / 7) * 100 + (i % 13));
    expect(m4(xs, ys, 0, 99_999, 500).length).toBeLessThanOrEqual(2000);
  });

  it('reads plotly.js date strings as ms, in order, and anything else as NaN', () => {
    expect(xNumber('2026-12-02 09:55:01.5')).toBe(Date.UTC(2026, 11, 2, 9, 55, 1, 500));
    expect(xNumber('2026-12-02 09:55:01.123456')).toBeLessThan(xNumber('2026-12-02 09:55:01.2'));
    expect(xNumber('2026-12-02')).toBe(Date.UTC(2026, 11, 2));
    expect(xNumber(12.5)).toBe(12.5);
    expect(xNumber('apples')).toBeNaN();
    expect(xNumber(null)).toBeNaN();
  });
});
