/**
 * `trace_props` of a plot edit: attributes merged into each trace (name, colour, mode, type,
 * meta.readout), by position, keeping its stream and data. The owner's editor in the page sends
 * these: it has no stream tokens, so it cannot send whole traces.
 */
import { LayoutError, mergeLayout } from '../data/layout.js';
import { splitTrace, type Plot, type TraceSpec } from '../store/plots.js';
import { isObject } from '../../shared/validate.js';
import { HttpError } from './router.js';

export function mergeTraceProps(plot: Plot, value: unknown): TraceSpec[] {
  if (!Array.isArray(value)) throw new HttpError(400, 'trace_props must be an array: one object (or null) per trace, in order');
  if (value.length > plot.traces.length) throw new HttpError(400, `trace_props has ${value.length} entries; plot ${plot.id} has ${plot.traces.length} traces`);
  return plot.traces.map((spec, i) => {
    const patch: unknown = value[i];
    if (patch === null || patch === undefined) return spec;
    if (!isObject(patch)) throw new HttpError(400, `trace_props[${i}] must be an object or null`);
    let props: Record<string, unknown>;
    try {
      props = mergeLayout(spec.props, patch);
    } catch (err) {
      if (err instanceof LayoutError) throw new HttpError(400, `trace_props[${i}]: ${err.message}`);
      throw err;
    }
    const { data } = splitTrace(props);
    if (Object.keys(data).length > 0 || 'stream' in patch) throw new HttpError(400, `trace_props[${i}] sets ${Object.keys(data)[0] ?? 'stream'}: trace_props carry attributes, not data or streams (send traces for that)`);
    return { ...spec, props };
  });
}
