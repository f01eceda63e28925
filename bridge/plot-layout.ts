/**
 * The plot --create-plot makes (and the demo), laid out from what the board said: one panel per
 * kind of channel, stacked on one time axis; axis titles with the units of the hello; the heart
 * rate with a marker at each beat on a fixed 30-220 range and a big BPM readout; a fixed range
 * wherever the quantity has one; the board's status (lead off, signal state, drops) as hidden
 * traces the viewer reads into its status line. Channels of one unit share a panel; a channel whose unit is not known has its own,
 * so quantities of different scales never squash each other on one axis.
 * It makes a plotly.js layout and traces only: the server and the viewer draw them.
 */
import { MAXPOINTS_DEFAULT, MAXPOINTS_MAX, deviceKeys, eventTypes, firmwareModes, type HelloLine } from '../shared/index.js';
import { SIGNAL_CODES } from './point-router.js';

export interface LayoutBoard {
  /** The board's hello, when it said one. */
  readonly hello?: HelloLine;
  /** CHANNEL (or EVENT.KEY) to token. */
  readonly map: Readonly<Record<string, string>>;
}

export interface LayoutOptions {
  readonly title: string;
  /** Points every trace keeps; without it, enough for `seconds` of each. */
  readonly maxpoints?: number;
  /** The time window shown, in seconds (default 20), when maxpoints is not given. */
  readonly seconds?: number;
  /** x is wall-clock dates (default) or seconds since the start. */
  readonly x?: 'date' | 'seconds';
}

export interface LayoutTrace {
  readonly token: string;
  readonly maxpoints: number;
  /** plotly.js trace attributes: name, type, mode, line, marker, yaxis. */
  readonly props: Record<string, unknown>;
}

export interface PlotLayout {
  readonly layout: Record<string, unknown>;
  readonly traces: LayoutTrace[];
}

/** What a quantity looks like, when plotwire knows it. */
interface Quantity {
  readonly title: string;
  readonly unit: string;
  readonly range?: readonly [number, number];
  /** Points a second at most, to size maxpoints for the window. */
  readonly perSecond: number;
  /** Each point is an event (a beat): drawn with a marker. */
  readonly markers?: boolean;
  /** The unit of a big readout of its last value beside the plot (trace meta.readout). */
  readonly readout?: string;
}

/**
 * The board's status, streamed like any value but not plotted: a hidden trace each, which the
 * viewer reads into its status line (trace meta.status).
 */
const statusTraces: Record<string, Record<string, unknown>> = {
  [`${eventTypes.LEAD}.${deviceKeys.OFF}`]: { name: 'lead off', meta: { status: 'lead' } },
  [`${eventTypes.QUALITY}.${deviceKeys.SIGNAL}`]: { name: 'signal', meta: { status: 'signal', states: SIGNAL_CODES } },
  [`${eventTypes.DROP}.${deviceKeys.LINES}`]: { name: 'lines the board dropped', meta: { status: 'drops' } },
};
/** Points a status trace keeps: the last is what counts. */
const STATUS_POINTS = 100;

/** Beats a second assumed to size the heart-rate trace: 90/min keeps its window about the samples' one. */
const BEATS_PER_SECOND = 1.5;

const known: Record<string, Quantity> = {
  [`${eventTypes.BEAT}.${deviceKeys.BPM}`]: { title: 'heart rate', unit: 'beats per minute', range: [30, 220], perSecond: BEATS_PER_SECOND, markers: true, readout: 'BPM' },
  [`${eventTypes.QUALITY}.${deviceKeys.BPM}`]: { title: 'heart rate', unit: 'beats per minute', range: [30, 220], perSecond: 1 },
  [`${eventTypes.BEAT}.${deviceKeys.IBI}`]: { title: 'interval between beats', unit: 'ms', perSecond: BEATS_PER_SECOND, markers: true },
  [`${eventTypes.QUALITY}.${deviceKeys.QUALITY}`]: { title: 'signal quality', unit: '%', range: [0, 100], perSecond: 1 },
};

const palette = ['#c81e1e', '#1f4e8c', '#2a7a2a', '#b35c00', '#6b3fa0', '#00808a', '#8a6d00', '#555555'];

interface Panel {
  readonly key: string;
  readonly title: string;
  readonly range?: readonly [number, number];
  readonly weight: number;
  readonly traces: Array<{ token: string; name: string; markers: boolean; perSecond: number | undefined; readout?: string }>;
}

/** The unit of a board's channel: the hello's "unit", else raw ADC counts in plotwire's firmware modes. */
export function unitOf(hello: HelloLine | undefined, channel: string): string | undefined {
  if (!hello) return undefined;
  const i = hello[deviceKeys.CHANNELS].indexOf(channel);
  const given = i >= 0 ? hello[deviceKeys.UNITS]?.[i] : undefined;
  if (given !== undefined) return given || undefined;
  const mode = hello[deviceKeys.MODE];
  return i >= 0 && mode !== undefined && (Object.values(firmwareModes) as string[]).includes(mode) ? 'ADC counts' : undefined;
}

export function plotLayout(boards: readonly LayoutBoard[], options: LayoutOptions): PlotLayout {
  const panels = new Map<string, Panel>();
  const panel = (key: string, make: () => Omit<Panel, 'key' | 'traces'>): Panel => {
    let p = panels.get(key);
    if (!p) panels.set(key, (p = { key, ...make(), traces: [] }));
    return p;
  };
  const hidden: LayoutTrace[] = [];
  boards.forEach((board, b) => {
    const rate = board.hello ? board.hello[deviceKeys.RATE] : undefined;
    for (const [channel, token] of Object.entries(board.map)) {
      const status = statusTraces[channel];
      if (status) {
        hidden.push({ token, maxpoints: STATUS_POINTS, props: { ...status, type: 'scatter', mode: 'markers', visible: false, showlegend: false } });
        continue;
      }
      const q = known[channel];
      if (q) {
        panel(`q:${q.title}`, () => ({ title: `${q.title} (${q.unit})`, range: q.range, weight: 1 })).traces.push({ token, name: q.title, markers: q.markers ?? false, perSecond: q.perSecond, ...(q.readout && { readout: q.readout }) });
      } else if (channel.includes('.')) {
        panel(`e:${b}:${channel}`, () => ({ title: channel, weight: 1 })).traces.push({ token, name: channel, markers: true, perSecond: undefined });
      } else {
        const unit = unitOf(board.hello, channel);
        const key = unit ? `u:${unit}` : `c:${b}:${channel}`;
        panel(key, () => ({ title: unit ? unit : channel, weight: 2 })).traces.push({ token, name: channel, markers: false, perSecond: rate });
      }
    }
  });
  // Samples above events, in the order of the maps.
  const ordered = [...panels.values()].sort((a, b) => b.weight - a.weight);
  const layout: Record<string, unknown> = {
    title: { text: options.title },
    showlegend: ordered.some((p) => p.traces.length > 1),
    margin: { l: 70, r: 40, t: 50, b: 40 },
    xaxis: { title: { text: options.x === 'seconds' ? 'seconds' : 'time' } },
  };
  const gap = 0.06;
  const total = ordered.reduce((n, p) => n + p.weight, 0);
  const room = 1 - gap * Math.max(0, ordered.length - 1);
  let top = 1;
  const traces: LayoutTrace[] = [];
  let color = 0;
  ordered.forEach((p, i) => {
    const height = (room * p.weight) / total;
    const bottom = Math.max(0, top - height);
    const axis = i === 0 ? 'y' : `y${i + 1}`;
    // A single channel's axis says which it is; a shared one names the unit, the legend the channels.
    const title = p.traces.length === 1 && p.weight === 2 && p.title !== p.traces[0]!.name ? `${p.traces[0]!.name} (${p.title})` : p.title;
    layout[i === 0 ? 'yaxis' : `yaxis${i + 1}`] = {
      title: { text: title },
      domain: [round(bottom), round(top)],
      anchor: 'x',
      ...(p.range && { range: [...p.range], autorange: false }),
    };
    top = bottom - gap;
    for (const t of p.traces) {
      const c = palette[color++ % palette.length] as string;
      traces.push({
        token: t.token,
        maxpoints: maxpoints(options, t.perSecond),
        props: {
          name: t.name,
          type: 'scatter',
          mode: t.markers ? 'lines+markers' : 'lines',
          line: { width: t.markers ? 2 : 1, color: c },
          ...(t.markers && { marker: { size: 7, symbol: 'diamond', color: c } }),
          ...(t.readout && { meta: { readout: t.readout } }),
          yaxis: axis,
        },
      });
    }
  });
  // The time axis (and its title) under the lowest panel, not between the first and the second.
  if (ordered.length > 1) (layout.xaxis as Record<string, unknown>).anchor = `y${ordered.length}`;
  return { layout, traces: [...traces, ...hidden] };
}

function maxpoints(options: LayoutOptions, perSecond: number | undefined): number {
  if (options.maxpoints !== undefined) return options.maxpoints;
  if (perSecond === undefined) return MAXPOINTS_DEFAULT;
  return Math.max(1, Math.min(MAXPOINTS_MAX, Math.ceil((options.seconds ?? 20) * perSecond)));
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
