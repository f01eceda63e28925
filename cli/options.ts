/** Checks of option values shared by the commands. */
import { UsageError } from './command.js';

/** An integer option within [min, max], or the default when absent. */
export function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}
