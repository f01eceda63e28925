/** plotly.js relayout semantics for stored layouts: objects merge, arrays and scalars replace, null removes. */
import { PlotwireError } from '../../shared/errors.js';
import { isObject } from '../../shared/validate.js';

const MAX_DEPTH = 16;
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

export class LayoutError extends PlotwireError {
  readonly code = 'PW_ERR_LAYOUT';
}

/** A new layout: `base` with `patch` merged in. Throws LayoutError for unsafe or too deep input. */
export function mergeLayout(base: Record<string, unknown>, patch: Record<string, unknown>, depth = 0): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new LayoutError(`layout is nested deeper than ${MAX_DEPTH} levels`);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (UNSAFE.has(key)) throw new LayoutError(`layout key "${key}" is not allowed`);
    if (value === null) delete out[key];
    else if (isObject(value)) out[key] = mergeLayout(isObject(out[key]) ? out[key] : {}, value, depth + 1);
    else out[key] = value;
  }
  return out;
}
