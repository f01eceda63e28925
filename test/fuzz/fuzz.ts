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
