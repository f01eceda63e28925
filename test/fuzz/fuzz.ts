/**
 * The fuzz suite's settings: every property runs from a fixed seed (FUZZ_SEED to try another; a
 * failure prints the seed and path that reproduce it) and within a time budget, so `npm test`
 * stays deterministic and bounded. FUZZ_RUNS scales the number of cases for a longer hunt.
 */
import type { Parameters } from 'fast-check';

export const fuzzSeed = Number(process.env.FUZZ_SEED ?? 20261201);

export function fuzzParams<T>(runs: number, timeLimitMs: number): Parameters<T> {
  const scale = Number(process.env.FUZZ_RUNS ?? 1);
  return { seed: fuzzSeed, numRuns: Math.round(runs * scale), interruptAfterTimeLimit: timeLimitMs * scale, markInterruptAsFailure: false };
}

/** Splits bytes at the given cut points (taken modulo the length): any read boundaries. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}
