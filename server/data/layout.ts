/**
 * plotly.js relayout semantics for stored layouts: objects merge, arrays and scalars replace, null
 * removes. A layout is bounded in depth and in size (MAX_LAYOUT bytes as JSON), because every
 * change to it is written to the database and sent whole to every viewer.
 */
import { MAX_JSON_DEPTH, MAX_LAYOUT } from '../../shared/limits.js';
import { PlotwireError } from '../../shared/errors.js';
import { isObject, nestedDeeperThan } from '../../shared/validate.js';

const MAX_DEPTH = 16;
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/** A layout (or a patch of one) that breaks a rule: unsafe keys, too deep. */
export class LayoutError extends PlotwireError {
  readonly code = 'PW_ERR_LAYOUT';
}

/** A layout that would be larger than MAX_LAYOUT bytes (413: the layout stays as it was). */
export class LayoutTooLargeError extends PlotwireError {
  readonly code = 'PW_ERR_LAYOUT_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit = MAX_LAYOUT,
  ) {
    super(`the layout would be ${size} bytes as JSON, over the ${limit}-byte limit (MAX_LAYOUT); it stays as it was`);
  }
}

/** A new layout: `base` with `patch` merged in. Throws LayoutError for unsafe or too deep input. */
export function mergeLayout(base: Record<string, unknown>, patch: Record<string, unknown>, depth = 0): Record<string, unknown> {
  if (depth === 0 && nestedDeeperThan(patch, MAX_JSON_DEPTH)) throw new LayoutError(`layout is nested deeper than ${MAX_JSON_DEPTH} levels`);
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

/** A whole layout as stored: checked for depth and size; its JSON, which the caller stores. */
export function layoutJson(layout: Record<string, unknown>): string {
  if (nestedDeeperThan(layout, MAX_JSON_DEPTH)) throw new LayoutError(`layout is nested deeper than ${MAX_JSON_DEPTH} levels`);
  const text = JSON.stringify(layout);
  const size = Buffer.byteLength(text);
  if (size > MAX_LAYOUT) throw new LayoutTooLargeError(size);
  return text;
}
