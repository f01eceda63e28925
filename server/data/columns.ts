/**
 * Point data as columns: one array per data path ("x", "y", "text", "marker.size", ...), all the
 * same length. It is the shape of plotwire's batch append flattened, so what arrives, what is
 * stored and what viewers get are the same arrays.
 */
import { dataKeys, type StreamObject } from '../../shared/index.js';

export type Columns = Record<string, unknown[]>;

/** What one stream object does to a token's data. */
export interface DataChange {
  /** Arrays that replace the token's data (Plotly: an array value replaces). */
  readonly replace?: Columns;
  /** Points to append after any replace. */
  readonly append?: Columns;
  readonly appendCount: number;
}

const isStyle = (key: string): boolean => key === 'marker' || key === 'line';

/** Splits a validated stream object into a replace and an append, per Plotly's per-key rule. */
export function dataChange(obj: StreamObject): DataChange {
  if (obj.append) {
    const append: Columns = {};
    for (const key of dataKeys) {
      const v = obj.append[key];
      if (v === undefined) continue;
      if (isStyle(key)) for (const [sub, arr] of Object.entries(v as Record<string, unknown[]>)) append[`${key}.${sub}`] = arr;
      else append[key] = v as unknown[];
    }
    return { append, appendCount: columnLength(append) };
  }
  let replace: Columns | undefined;
  let append: Columns | undefined;
  const put = (path: string, v: unknown): void => {
    if (Array.isArray(v)) (replace ??= {})[path] = v;
    else (append ??= {})[path] = [v];
  };
  for (const key of dataKeys) {
    const v = obj[key];
    if (v === undefined) continue;
    if (isStyle(key)) for (const [sub, sv] of Object.entries(v as Record<string, unknown>)) put(`${key}.${sub}`, sv);
    else put(key, v);
  }
  return { ...(replace && { replace }), ...(append && { append }), appendCount: append ? 1 : 0 };
}

/**
 * Columns of one length: a replace may carry arrays of different lengths (Plotly takes each key's
 * array as given, and plotly.js draws as many points as the shortest has), but the points kept
 * here are numbered across columns, so shorter ones are padded with null (no point drawn there).
 */
export function alignColumns(cols: Columns): Columns {
  let n = 0;
  for (const key in cols) n = Math.max(n, (cols[key] as unknown[]).length);
  let out: Columns | undefined;
  for (const key in cols) {
    const col = cols[key] as unknown[];
    if (col.length < n) (out ??= { ...cols })[key] = [...col, ...new Array<null>(n - col.length).fill(null)];
  }
  return out ?? cols;
}

export function columnLength(cols: Columns): number {
  for (const key in cols) return (cols[key] as unknown[]).length;
  return 0;
}

export function sliceColumns(cols: Columns, start: number, end?: number): Columns {
  const out: Columns = {};
  for (const key in cols) out[key] = (cols[key] as unknown[]).slice(start, end);
  return out;
}

/** Columns as a plotly.js trace update: {"x": [...], "marker": {"size": [...]}}. */
export function traceUpdate(cols: Columns): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, arr] of Object.entries(cols)) {
    const dot = path.indexOf('.');
    if (dot < 0) out[path] = arr;
    else ((out[path.slice(0, dot)] ??= {}) as Record<string, unknown>)[path.slice(dot + 1)] = arr;
  }
  return out;
}
