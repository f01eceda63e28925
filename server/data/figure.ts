/** A plot as a plotly.js figure ({data, layout}), each streamed trace with its newest maxpoints points. */
import type { PointsEngine } from '../engine.js';
import type { Plot, TraceSpec } from '../store/plots.js';
import { traceUpdate, type Columns } from './columns.js';

/** The plotly.js trace: attributes, data columns (styles merged into marker/line), stream.maxpoints. */
export function traceFigure(spec: TraceSpec, cols: Columns): Record<string, unknown> {
  const data = traceUpdate(cols);
  const trace: Record<string, unknown> = { ...spec.props };
  for (const [key, value] of Object.entries(data)) {
    trace[key] = key === 'marker' || key === 'line' ? { ...(spec.props[key] as object | undefined), ...(value as object) } : value;
  }
  trace.stream = { maxpoints: spec.maxpoints };
  return trace;
}

export function traceColumns(spec: TraceSpec, store: PointsEngine): Columns {
  if (spec.tokenId === undefined) return spec.data ?? {};
  // A streamed trace always has x and y, even empty: plotly.js extends only arrays that exist.
  return { x: [], y: [], ...store.tail(spec.tokenId, spec.maxpoints) };
}

export type Figure = { data: Record<string, unknown>[]; layout: Record<string, unknown> };

export function figure(plot: Plot, store: PointsEngine): Figure {
  return { data: plot.traces.map((t) => traceFigure(t, traceColumns(t, store))), layout: plot.layout };
}
