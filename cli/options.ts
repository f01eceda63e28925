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

type Spec<V extends string, F extends string, L extends string> = Flat<
  { [K in V]: { type: 'string' } } & { [K in F]: { type: 'boolean' } } & { [K in L]: { type: 'string'; multiple: true } }
>;
type Flat<T> = { [K in keyof T]: T[K] };

/**
 * node:util parseArgs options: every name in `values` takes a value, every name in `flags` is a
 * switch, every name in `lists` takes a value and may repeat.
 */
export function optionSpec<const V extends string, const F extends string = never, const L extends string = never>(values: readonly V[], flags?: readonly F[], lists?: readonly L[]): Spec<V, F, L> {
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: true }> = {};
  for (const name of values) spec[name] = { type: 'string' };
  for (const name of flags ?? []) spec[name] = { type: 'boolean' };
  for (const name of lists ?? []) spec[name] = { type: 'string', multiple: true };
  return spec as Spec<V, F, L>;
}
