/**
 * Legacy mode (--legacy): a Plotly endpoint without plotwire's batch append takes one point per
 * 50 ms per token, so each window is reduced to one point (last, mean) or, for minmax, two points
 * sent in consecutive windows. All three LOSE points; they exist for endpoints that cannot batch.
 */
import type { XValue } from './point-buffer.js';

export const decimateModes = ['last', 'mean', 'minmax'] as const;
export type DecimateMode = (typeof decimateModes)[number];

export interface Point {
  readonly x: XValue;
  readonly y: number;
}

/** The window's points (at least one) reduced by mode, in time order. */
export function decimate(mode: DecimateMode, xs: readonly XValue[], ys: readonly number[]): Point[] {
  const n = ys.length;
  if (n === 0) return [];
  const last = n - 1;
  switch (mode) {
    case 'last':
      return [{ x: xs[last] as XValue, y: ys[last] as number }];
    case 'mean': {
      let sum = 0;
      for (const y of ys) sum += y;
      // The mean stands for the window, so it is stamped with the window's last time.
      return [{ x: xs[last] as XValue, y: sum / n }];
    }
    case 'minmax': {
      let lo = 0;
      let hi = 0;
      for (let i = 1; i < n; i++) {
        if ((ys[i] as number) < (ys[lo] as number)) lo = i;
        if ((ys[i] as number) > (ys[hi] as number)) hi = i;
      }
      if (lo === hi) return [{ x: xs[lo] as XValue, y: ys[lo] as number }];
      const [a, b] = lo < hi ? [lo, hi] : [hi, lo];
      return [
        { x: xs[a] as XValue, y: ys[a] as number },
        { x: xs[b] as XValue, y: ys[b] as number },
      ];
    }
  }
}
