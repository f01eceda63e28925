/**
 * Min and max per pixel column (M4: Jugel et al., "M4: A Visualization-Oriented Time Series Data
 * Aggregation", VLDB 2014): of the points in each of `columns` equal slices of [x0, x1], the
 * first, the lowest, the highest and the last. A line through them lights the same pixels as a
 * line through every point, with a few thousand points however many there are. The viewer draws
 * each long live trace so, and the server sends history too long to send whole so. The reduction
 * composes: M4 of M4s over the same columns is M4 of the whole, so chunks can be reduced one by one.
 * This file is plain TypeScript without DOM or Node, compiled for both.
 */

/** An x as a number: numbers as they are, plotly.js date strings ("2026-12-02 09:55:01.123456") as ms; NaN for anything else. */
export function xNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d/.test(v)) return NaN;
  // Dates carry no zone in plotly.js; reading all of them as UTC keeps them in order and apart.
  const iso = v.length <= 10 ? `${v}T00:00:00Z` : `${v.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(v.slice(10)) ? '' : 'Z'}`;
  return Date.parse(iso);
}

/**
 * Indices (ascending) of the points of [from, to) to draw for `columns` pixel columns over
 * [x0, x1]. xs must be nondecreasing; a point outside [x0, x1] counts in the nearest edge column
 * (so the line still reaches the edge). A y that is not a finite number (a gap) is always kept.
 */
export function m4(xs: ArrayLike<number>, ys: ArrayLike<unknown>, x0: number, x1: number, columns: number, from = 0, to = xs.length): number[] {
  const out: number[] = [];
  const width = (x1 - x0) / Math.max(1, Math.floor(columns));
  if (!(width > 0) || !Number.isFinite(width)) {
    for (let i = from; i < to; i++) out.push(i);
    return out;
  }
  const last = Math.max(1, Math.floor(columns)) - 1;
  let bucket = -1;
  let first = -1;
  let lo = -1;
  let hi = -1;
  let end = -1;
  let loY = 0;
  let hiY = 0;
  const flush = (): void => {
    if (first < 0) return;
    out.push(first);
    const a = Math.min(lo, hi);
    const b = Math.max(lo, hi);
    if (a !== first) out.push(a);
    if (b !== a && b !== first) out.push(b);
    if (end !== b && end !== first) out.push(end);
    first = -1;
  };
  for (let i = from; i < to; i++) {
    const y = ys[i];
    if (typeof y !== 'number' || !Number.isFinite(y)) {
      flush();
      bucket = -1;
      out.push(i);
      continue;
    }
    const b = Math.min(last, Math.max(0, Math.floor(((xs[i] as number) - x0) / width)));
    if (b !== bucket || first < 0) {
      flush();
      bucket = b;
      first = lo = hi = end = i;
      loY = hiY = y;
    } else {
      if (y < loY) (lo = i), (loY = y);
      if (y > hiY) (hi = i), (hiY = y);
      end = i;
    }
  }
  flush();
  return out;
}
