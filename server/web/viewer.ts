/**
 * The live viewer: one EventSource per page; every trace's points kept here (series.ts), and
 * drawn at the display rate: a long live line as min and max per pixel column (m4.ts) on a
 * canvas over the plot (canvas-lines.ts), everything else by plotly.js. Laying out and stroking
 * the whole window of every trace in SVG is what made a draw slow. An update after a quiet frame is drawn at once; while updates come
 * faster they wait for the next frame and are drawn together, every trace in one redraw.
 *
 * Pause (the button, or zooming and panning the x axis) freezes the view while points keep
 * arriving and are counted; Resume draws the live window again with nothing missed. A frozen
 * view older than the points held here is filled from the server's stored history (/range).
 * The browser reconnects by itself and sends Last-Event-ID; the server sends what was missed.
 */
import { m4, xNumber } from './m4.js';
import { Series, lengthOf, type Columns } from './series.js';
import { Health } from './health.js';
import { startEditor } from './editor.js';
import { boardFlags } from './board-status.js';
import { fitLayout } from './fit.js';
import { CanvasLines, axisName, drawableAxis, type CanvasLine } from './canvas-lines.js';

interface PlotlyApi {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<unknown>;
}
declare const Plotly: PlotlyApi;

type Update = Record<string, unknown>;
/** The server gives every trace its stream.maxpoints (server/data/figure.ts): the points it keeps. */
type Trace = Record<string, unknown> & { stream: { maxpoints: number }; meta?: unknown };
type Layout = Record<string, unknown> & { title?: unknown };

interface Figure {
  data: Trace[];
  layout: Layout;
}

/** History fetched for a frozen view older than what is held: one segment per trace. */
interface Past {
  readonly from: number;
  readonly to: number;
  readonly reduced: boolean;
  readonly series: Series;
}

type PlotEl = HTMLElement & { data?: Trace[]; layout?: Layout; _fullLayout?: { _size?: { w: number } }; on?(event: string, fn: (e: Record<string, unknown>) => void): void };

/** A display frame (60 Hz). */
const FRAME_MS = 1000 / 60;
/** Waits between new EventSources when the browser gave up on one (an HTTP error, not a dropped line). */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];
/** Points a trace keeps here at most, paused or not (older ones are on the server). */
const MAX_HELD = 1_000_000;
/** Window lengths offered, in seconds (on a time axis; in x units otherwise). */
const WINDOWS = [5, 10, 30, 60, 300];
const CONFIG = { responsive: true, displaylogo: false };
/** Dark mode follows the system; a layout's own colours win. */
const dark = matchMedia('(prefers-color-scheme: dark)');
const DARK = { paper_bgcolor: '#111418', plot_bgcolor: '#111418', font: { color: '#e4e7eb' } };
const DARK_AXIS = { gridcolor: '#2c333a', zerolinecolor: '#3e4c59', linecolor: '#3e4c59' };

const plotEl = document.getElementById('plot') as PlotEl;
const titleEl = document.getElementById('title') as HTMLElement;
const pauseEl = document.getElementById('pause') as HTMLButtonElement;
const waitingEl = document.getElementById('waiting') as HTMLElement;
const windowEl = document.getElementById('window') as HTMLSelectElement;
const readoutsEl = document.getElementById('readouts') as HTMLElement;
const boardEl = document.getElementById('board') as HTMLElement;
const eventsUrl = document.body.dataset.events as string;
const rangeUrl = document.body.dataset.range as string;
/** Embedded, the header is a thin bar and the title is drawn by plotly.js; on the page the header shows it. */
const embedded = document.body.classList.contains('embed');
const canvas = new CanvasLines(plotEl);
const health = new Health(document.getElementById('state') as HTMLElement, document.getElementById('rate') as HTMLElement);

let series: Series[] = [];
/** Each trace's attributes without its data, as the figure gave them. */
let base: Trace[] = [];
let maxpoints: number[] = [];
let layout: Layout = {};
let past: (Past | undefined)[] = [];
/** Seconds of the window, or undefined for each trace's maxpoints. */
let windowSeconds: number | undefined;
/** The frozen x range: plotly.js's own values (date strings on a date axis) and as numbers. */
let frozen: { raw: [unknown, unknown]; from: number; to: number } | undefined;
let waiting = 0;
/** Changes on resume, so plotly.js forgets a zoom of the y axes (uirevision). */
let uirevision = 0;
let ready = Promise.resolve<unknown>(undefined);
let dirty = false;
let frameRequested = false;
let drawing = false;
let lastDrawAt = -Infinity;
let draws = 0;
let plotlyDraws = 0;
/** Whether the next draw must be plotly.js's (a layout, an edit, a window, a resume...), not only the canvas's. */
let plotlyNeeded = true;
/**
 * The x range each live x axis got at plotly.js's last draw ("xaxis", "xaxis2"...), with room
 * ahead: while new points fit it and the y ranges, a frame is the canvas's alone, and plotly.js
 * lays out its axes again only when the line reaches the right edge (a step back of HEADROOM).
 */
let liveRanges = new Map<string, [number, number]>();
/** Which traces the canvas drew and how many points the others had, at plotly.js's last draw. */
let plotlyDrew = '';
let lastEventId = '';
let fetchSeq = 0;

/** {"x": [...], "marker": {"size": [...]}} -> {"x": [...], "marker.size": [...]} */
function flatten(update: Update): Columns {
  const out: Columns = {};
  for (const [key, value] of Object.entries(update)) {
    if (Array.isArray(value)) out[key] = value;
    else if (value && typeof value === 'object') for (const [sub, arr] of Object.entries(value)) out[`${key}.${sub}`] = arr as unknown[];
  }
  return out;
}

/** A figure's trace split into its data columns (x, y, z, text, marker.*, line.* arrays) and the rest. */
function splitTrace(trace: Trace): { props: Trace; cols: Columns } {
  const props = { ...trace };
  const cols: Columns = {};
  for (const key of ['x', 'y', 'z', 'text']) {
    if (Array.isArray(trace[key])) {
      cols[key] = trace[key] as unknown[];
      delete props[key];
    }
  }
  for (const key of ['marker', 'line']) {
    const style = trace[key];
    if (!style || typeof style !== 'object') continue;
    const rest: Record<string, unknown> = {};
    for (const [sub, v] of Object.entries(style)) {
      if (Array.isArray(v)) cols[`${key}.${sub}`] = v;
      else rest[sub] = v;
    }
    props[key] = rest;
  }
  // A streamed trace always has x and y, even empty: the server sends them so.
  return { props, cols };
}

/** A trace for plotly.js: its attributes with these columns as its data. */
function traceWith(props: Trace, cols: Columns): Trace {
  const t: Record<string, unknown> = { ...props };
  for (const [path, arr] of Object.entries(cols)) {
    const dot = path.indexOf('.');
    if (dot < 0) t[path] = arr;
    else {
      const key = path.slice(0, dot);
      t[key] = { ...(t[key] as object | undefined), [path.slice(dot + 1)]: arr };
    }
  }
  return t as Trace;
}

function titleText(): string {
  const t = layout.title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && 'text' in t) return String((t as { text: unknown }).text ?? '');
  return '';
}

function setTitle(): void {
  const text = titleText();
  titleEl.textContent = text;
  document.title = text ? `${text} · plotwire` : 'plotwire';
}

/** The layout plotly.js draws: on the page the header carries the title, so the plot does not repeat it. */
function drawnLayout(): Record<string, unknown> {
  const drawn: Record<string, unknown> = { ...(dark.matches && DARK), ...layout, ...fastAxes(), autosize: true, uirevision };
  if (frozen) drawn.xaxis = { ...(drawn.xaxis as object), range: [...frozen.raw], autorange: false };
  else for (const [name, range] of liveRanges) drawn[name] = { ...(drawn[name] as object), range, autorange: false };
  // Room on the right for half of the last tick label (labels are not hidden at the edge); on the page the header has the title.
  const fitted = fitLayout(drawn, plotEl.clientWidth, plotEl.clientHeight, embedded);
  return embedded ? fitted : { ...fitted, title: { text: '' } };
}

/**
 * Every axis with ticklabeloverflow "allow" unless the layout says otherwise: plotly.js's default
 * measures every tick label against every other on each redraw, a fifth of a live redraw's time;
 * "allow" lets a label at the very edge be clipped by the plot's border instead of hidden.
 */
function fastAxes(): Record<string, unknown> {
  const axes: Record<string, unknown> = {};
  const names = new Set(['xaxis', 'yaxis', ...Object.keys(layout).filter((k) => /^[xy]axis\d+$/.test(k))]);
  for (const name of names) {
    const axis = (layout[name] ?? {}) as Record<string, unknown>;
    axes[name] = { ticklabeloverflow: 'allow', ...(dark.matches && DARK_AXIS), ...axis };
  }
  return axes;
}

/** Runs drawing steps one after another, so an init is drawn before what follows it. */
function then(step: () => Promise<unknown> | void): Promise<unknown> {
  ready = ready.then(step).catch((err: unknown) => console.error('plotwire viewer:', err));
  return ready;
}

/** Pixel columns of the plot area, the resolution a trace is reduced to. */
const plotColumns = (): number => Math.max(100, Math.round(plotEl._fullLayout?._size?.w ?? plotEl.clientWidth));

/** Whether a trace is a plain line, which min/max per column draws pixel for pixel (markers and bars need every point). */
function reducible(i: number): boolean {
  const t = base[i] as Trace;
  const mode = typeof t.mode === 'string' ? t.mode : 'lines';
  return (series[i] as Series).ordered && (t.type === undefined || t.type === 'scatter') && !mode.includes('markers') && !mode.includes('text');
}

/** Points [from, to) of trace i as plotly.js should get them. */
function columnsFor(i: number, s: Series, from: number, to: number, x0: number, x1: number): Columns {
  const columns = plotColumns();
  if (to - from <= 4 * columns || !reducible(i)) return s.slice(from, to);
  return s.pick(m4(s.xs, s.cols.y ?? [], x0, x1, columns, from, to));
}

/** The start of trace i's live window. */
function windowStart(i: number): number {
  const s = series[i] as Series;
  const byPoints = Math.max(0, s.length - (maxpoints[i] as number));
  if (windowSeconds === undefined || !s.ordered) return byPoints;
  return s.indexAtX(s.lastX - windowSpan(s));
}

/** The window in x units: seconds as ms on a time axis. */
const windowSpan = (s: Series): number => ((windowSeconds ?? 0) * (typeof s.cols.x?.[0] === 'string' ? 1000 : 1));

/** plotly.js's default colours, for a line drawn on the canvas whose trace names none. */
const COLORWAY = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** Columns of the invisible stand-in plotly.js gets for a line on the canvas: enough for its autorange (extremes are kept). */
const STAND_IN_COLUMNS = 64;

/** Whether trace i's axes can be drawn on by the canvas (as laid out by the last draw). */
function canvasAxes(t: Trace): boolean {
  const full = plotEl._fullLayout as Record<string, unknown> | undefined;
  const name = (id: unknown, letter: string): string => (typeof id === 'string' && id.length > 1 ? `${letter}axis${id.slice(1)}` : `${letter}axis`);
  return !full || (drawableAxis(full[name(t.xaxis, 'x')]) && drawableAxis(full[name(t.yaxis, 'y')]));
}

/** Trace i's live window as a canvas line, when it is long enough to be one and its axes allow it. */
function liveLine(i: number): CanvasLine | undefined {
  const s = series[i] as Series;
  const t = base[i] as Trace;
  const from = windowStart(i);
  const columns = plotColumns();
  if (s.length - from <= 4 * columns || !reducible(i) || !canvasAxes(t)) return undefined;
  const ys = s.cols.y ?? [];
  const line = (t.line ?? {}) as { color?: unknown; width?: unknown };
  const colorway = (layout.colorway as string[] | undefined) ?? COLORWAY;
  return {
    trace: i,
    xaxis: typeof t.xaxis === 'string' ? t.xaxis : 'x',
    yaxis: typeof t.yaxis === 'string' ? t.yaxis : 'y',
    xs: s.xs,
    ys,
    indices: m4(s.xs, ys, s.xs[from] ?? 0, s.lastX, columns, from, s.length),
    color: typeof line.color === 'string' ? line.color : (colorway[i % colorway.length] as string),
    width: typeof line.width === 'number' ? line.width : 2,
  };
}

/** Trace i live, for plotly.js: its window, or for a line on the canvas an invisible stand-in (for the autorange). */
function liveTrace(i: number, onCanvas: boolean): Trace {
  const s = series[i] as Series;
  const t = base[i] as Trace;
  const from = windowStart(i);
  const x0 = s.xs[from] ?? 0;
  if (!onCanvas) return traceWith(t, columnsFor(i, s, from, s.length, x0, s.lastX));
  const standIn = s.pick(m4(s.xs, s.cols.y ?? [], x0, s.lastX, STAND_IN_COLUMNS, from, s.length));
  return { ...traceWith(t, standIn), opacity: 0, hoverinfo: 'skip' };
}

/** Room ahead of the newest point on a live x axis, as a share of the span shown. */
const HEADROOM = 0.1;

/** Which traces are canvas lines and how many points each other trace has: plotly.js draws again when it changes. */
function drawnBy(onCanvas: ReadonlySet<number>): string {
  return series.map((s, i) => (onCanvas.has(i) ? 'c' : s.length)).join(',');
}

/** A plotly.js axis as laid out: its range in linear values (ms on a date axis). */
function laidOut(name: string): [number, number] | undefined {
  const axis = (plotEl._fullLayout as Record<string, unknown> | undefined)?.[name] as { range?: unknown[]; r2l?(v: unknown): number } | undefined;
  if (!axis?.range || !axis.r2l) return undefined;
  return [axis.r2l(axis.range[0]), axis.r2l(axis.range[1])];
}

/** Whether a canvas line's newest points still fall inside the axes plotly.js last laid out. */
function fitsAxes(line: CanvasLine): boolean {
  const x = liveRanges.get(axisName(line.xaxis)) ?? laidOut(axisName(line.xaxis));
  const y = laidOut(axisName(line.yaxis));
  const last = line.indices.at(-1);
  if (!x || !y || last === undefined || (line.xs[last] as number) > x[1]) return false;
  const [lo, hi] = y[0] <= y[1] ? y : [y[1], y[0]];
  for (const i of line.indices) {
    const v = line.ys[i];
    if (typeof v === 'number' && (v < lo || v > hi)) return false;
  }
  return true;
}

/** The x range of each axis the canvas draws on, from its lines' window to HEADROOM past their newest point (an axis the owner fixed keeps its range). */
function liveXRanges(lines: readonly CanvasLine[]): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  for (const line of lines) {
    const name = axisName(line.xaxis);
    const fixed = layout[name] as { range?: unknown; autorange?: unknown } | undefined;
    if (Array.isArray(fixed?.range) && fixed?.autorange !== true) continue;
    const first = line.xs[line.indices[0] as number] as number;
    const last = line.xs[line.indices.at(-1) as number] as number;
    const had = spans.get(name);
    spans.set(name, had ? [Math.min(had[0], first), Math.max(had[1], last)] : [first, last]);
  }
  for (const [name, [a, b]] of spans) spans.set(name, [a, b + Math.max(HEADROOM * (b - a), Number.EPSILON)]);
  return spans;
}

/** Trace i over the frozen range: the history fetched for it, then the points held. */
function frozenTrace(i: number, range: NonNullable<typeof frozen>): Trace {
  const s = series[i] as Series;
  if (!s.ordered) return traceWith(base[i] as Trace, s.slice(0, s.length));
  const p = past[i];
  let view = s;
  let from = Math.max(0, s.indexAtX(range.from) - 1);
  let to = Math.min(s.length, s.indexAtX(range.to) + 1);
  if (p && (s.length === 0 || range.from < s.firstX)) {
    view = new Series(p.series.slice(0, p.series.length));
    view.append(s.slice(0, to));
    from = Math.max(0, view.indexAtX(range.from) - 1);
    to = view.length;
  }
  return traceWith(base[i] as Trace, columnsFor(i, view, from, to, range.from, range.to));
}

/** A draw soon; `pointsOnly` when only new points came (the canvas may draw them alone). */
function requestDraw(pointsOnly = false): void {
  dirty = true;
  if (!pointsOnly) plotlyNeeded = true;
  // One draw at a time: while plotly.js is busy, points keep piling into the series.
  if (frameRequested || drawing) return;
  frameRequested = true;
  // A timeout, not a call: points of the same burst of messages join this draw.
  if (performance.now() - lastDrawAt >= FRAME_MS) setTimeout(drawNow, 0);
  else requestAnimationFrame(drawNow);
}

function drawNow(): void {
  frameRequested = false;
  if (!dirty) return;
  dirty = false;
  drawing = true;
  lastDrawAt = performance.now();
  draws++;
  void then(() => {
    const range = frozen;
    const lines = range ? [] : series.flatMap((_, i) => liveLine(i) ?? []);
    canvas.set(lines);
    const onCanvas = new Set(lines.map((l) => l.trace));
    const drew = range ? '' : drawnBy(onCanvas);
    if (!range && !plotlyNeeded && drew === plotlyDrew && lines.every(fitsAxes)) return canvas.draw();
    const data = series.map((_, i) => (range ? frozenTrace(i, range) : liveTrace(i, onCanvas.has(i))));
    plotlyNeeded = false;
    plotlyDrew = drew;
    plotlyDraws++;
    liveRanges = range ? new Map() : liveXRanges(lines);
    return Plotly.react(plotEl, data, drawnLayout(), CONFIG);
  }).then(() => {
    if (!listening) canvas.draw();
    listenToZoom();
    drawing = false;
    showReadouts();
    showBoard();
    if (dirty) requestDraw();
  });
}

/** Keeps what a trace still needs: its live window (or, paused, everything up to MAX_HELD). */
function trim(i: number): void {
  const s = series[i] as Series;
  const excess = frozen ? s.length - MAX_HELD : Math.min(windowStart(i), s.length - (maxpoints[i] as number));
  // In steps, so the arrays are not shifted on every append.
  if (excess > Math.max(1000, s.length / 8)) s.dropOldest(excess);
}

function onAppend(traces: number[], cols: Columns): void {
  const n = lengthOf(cols);
  health.points(n * traces.length);
  for (const i of traces) {
    series[i]?.append(cols);
    trim(i);
  }
  if (frozen) {
    waiting += n * traces.length;
    showPause();
    // The board's status stays current while the view is paused.
    showBoard();
  } else requestDraw(true);
}

function onInit(fig: Figure): void {
  const split = fig.data.map(splitTrace);
  base = split.map((t) => t.props);
  series = split.map((t) => new Series(t.cols));
  maxpoints = fig.data.map((t) => t.stream.maxpoints);
  past = [];
  setLayout(fig.layout);
  requestDraw();
}

function onReplace(traces: number[], cols: Columns): void {
  health.points(0);
  for (const i of traces) series[i]?.replace(cols);
  requestDraw();
}

function setLayout(next: Layout): void {
  layout = next;
  setTitle();
  const meta = layout.meta as { window?: unknown } | undefined;
  const seconds = typeof meta?.window === 'number' && meta.window > 0 ? meta.window : undefined;
  if (seconds !== undefined && windowEl.dataset.chosen !== '1') setWindow(seconds);
}

function onLayout(next: Layout): void {
  setLayout(next);
  requestDraw();
}

// ---- Pause, resume, zoom and the window ----

function showPause(): void {
  pauseEl.textContent = frozen ? 'Resume' : 'Pause';
  pauseEl.setAttribute('aria-pressed', String(Boolean(frozen)));
  waitingEl.hidden = !frozen;
  waitingEl.dataset.waiting = String(waiting);
  waitingEl.textContent = `${waiting.toLocaleString('en-US')} new points waiting`;
  document.body.classList.toggle('paused', Boolean(frozen));
}

/** Freezes the view at this x range (plotly.js's values) and fills it from history when it reaches past what is held. */
function freeze(raw: [unknown, unknown]): void {
  const from = xNumber(raw[0]);
  const to = xNumber(raw[1]);
  if (!(from <= to)) return;
  if (!frozen) waiting = 0;
  frozen = { raw, from, to };
  showPause();
  void fillPast(from, to);
}

function resume(): void {
  frozen = undefined;
  past = [];
  waiting = 0;
  uirevision++;
  series.forEach((_, i) => trim(i));
  showPause();
  requestDraw();
}

function pause(): void {
  const range = (plotEl.layout?.xaxis as { range?: [unknown, unknown] } | undefined)?.range;
  if (range) freeze([range[0], range[1]]);
}

/** The x range a relayout event (a zoom, a pan, a double-click) set, or "auto". */
function relayoutRange(e: Record<string, unknown>): [unknown, unknown] | 'auto' | undefined {
  if (e['xaxis.autorange'] === true) return 'auto';
  if ('xaxis.range[0]' in e && 'xaxis.range[1]' in e) return [e['xaxis.range[0]'], e['xaxis.range[1]']];
  const r = e['xaxis.range'];
  return Array.isArray(r) && r.length === 2 ? [r[0], r[1]] : undefined;
}

async function fetchRange(from: number, to: number): Promise<{ traces: ({ columns: Columns; reduced: boolean } | null)[] } | undefined> {
  const url = `${rangeUrl}${rangeUrl.includes('?') ? '&' : '?'}from=${from}&to=${to}&columns=${plotColumns()}`;
  const res = await fetch(url);
  if (!res.ok) {
    console.warn(`plotwire viewer: history ${res.status} ${await res.text()}`);
    return undefined;
  }
  return res.json();
}

/** History for a frozen view reaching before the points held (one request for all traces, the newest answer wins). */
async function fillPast(from: number, to: number): Promise<void> {
  const need = series.map((s, i) => s.ordered && (s.length === 0 || from < s.firstX) && !covered(past[i], from, Math.min(to, s.firstX || to)));
  if (!need.some(Boolean)) return requestDraw();
  const until = Math.max(...series.map((s, i) => (need[i] ? Math.min(to, s.length ? s.firstX : to) : -Infinity)));
  const seq = ++fetchSeq;
  const answer = await fetchRange(from, until);
  if (seq !== fetchSeq || !answer || !frozen) return;
  answer.traces.forEach((t, i) => {
    if (t && need[i]) past[i] = { from, to: until, reduced: t.reduced, series: new Series(t.columns) };
  });
  requestDraw();
}

/** Whether fetched history already covers [from, to], at full resolution or with room to zoom. */
const covered = (p: Past | undefined, from: number, to: number): boolean => p !== undefined && p.from <= from && p.to >= to && (!p.reduced || to - from > 0.7 * (p.to - p.from));

function setWindow(seconds: number | undefined): void {
  windowSeconds = seconds;
  windowEl.value = seconds === undefined ? 'points' : String(seconds);
  if (seconds !== undefined && !Array.from(windowEl.options).some((o) => o.value === String(seconds))) {
    windowEl.add(new Option(`${seconds} s`, String(seconds)));
    windowEl.value = String(seconds);
  }
  void fillWindow();
  requestDraw();
}

/** A window longer than the points held: the older part comes from history, put before them. */
async function fillWindow(): Promise<void> {
  if (windowSeconds === undefined) return;
  const wants = series.map((s) => s.ordered && s.length > 0 && s.firstX > s.lastX - windowSpan(s));
  if (!wants.some(Boolean)) return;
  const from = Math.min(...series.map((s, i) => (wants[i] ? s.lastX - windowSpan(s) : Infinity)));
  const to = Math.max(...series.map((s, i) => (wants[i] ? s.firstX : -Infinity)));
  const answer = await fetchRange(from, to);
  answer?.traces.forEach((t, i) => {
    if (t && wants[i]) series[i]?.prepend(t.columns);
  });
  requestDraw();
}

let listening = false;

/** A zoom or a pan of the x axis freezes the view there; a double-click (autorange) resumes. plotly.js gives the plot `on` at its first draw. */
function listenToZoom(): void {
  if (listening || !plotEl.on) return;
  listening = true;
  // After every draw of plotly.js (each frame, and a resize), the canvas follows its axes.
  plotEl.on('plotly_afterplot', () => canvas.draw());
  plotEl.on('plotly_relayout', (e) => {
    const range = relayoutRange(e);
    if (range === 'auto') resume();
    else if (range) freeze(range);
  });
}

function setupControls(): void {
  windowEl.add(new Option('plot’s points', 'points'));
  for (const s of WINDOWS) windowEl.add(new Option(s < 60 ? `${s} s` : `${s / 60} min`, String(s)));
  windowEl.addEventListener('change', () => {
    windowEl.dataset.chosen = '1';
    setWindow(windowEl.value === 'points' ? undefined : Number(windowEl.value));
  });
  pauseEl.addEventListener('click', () => (frozen ? resume() : pause()));
  showPause();
}

// ---- Readouts: big current values of the traces the owner marked ----

/** The unit a trace's readout shows, when the owner marked it (trace meta.readout; "" shows the bare value). */
function readoutUnit(t: Trace | undefined): string | undefined {
  const r = (t?.meta as { readout?: unknown } | undefined)?.readout;
  return typeof r === 'string' ? r : r === true ? '' : undefined;
}

const format = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2 });

function showReadouts(): void {
  const marked = base.map((t, i) => ({ i, unit: readoutUnit(t) })).filter((r) => r.unit !== undefined);
  if (readoutsEl.childElementCount !== marked.length) {
    readoutsEl.replaceChildren(
      ...marked.map(({ i }) => {
        const el = document.createElement('output');
        el.className = 'readout';
        el.dataset.trace = String(i);
        el.setAttribute('aria-label', String(base[i]?.name ?? `trace ${i}`));
        el.innerHTML = '<span class="value"></span> <span class="unit"></span><span class="name"></span>';
        return el;
      }),
    );
  }
  marked.forEach(({ i, unit }, k) => {
    const el = readoutsEl.children[k] as HTMLElement;
    const ys = series[i]?.cols.y ?? [];
    const last = ys.findLast((v) => typeof v === 'number') as number | undefined;
    (el.querySelector('.value') as HTMLElement).textContent = last === undefined ? '–' : format(last);
    (el.querySelector('.unit') as HTMLElement).textContent = unit ?? '';
    (el.querySelector('.name') as HTMLElement).textContent = String(base[i]?.name ?? '');
    el.dataset.value = last === undefined ? '' : String(last);
  });
}

/** The board's status line: lead off, the signal state, drops (board-status.ts). */
function showBoard(): void {
  const flags = boardFlags(base, (i) => series[i]?.cols.y ?? []);
  const text = flags.map((f) => `${f.kind}:${f.level}:${f.text}`).join('|');
  if (boardEl.dataset.flags === text) return;
  boardEl.dataset.flags = text;
  boardEl.replaceChildren(
    ...flags.map((f) => {
      const span = document.createElement('span');
      span.className = 'flag';
      span.dataset.kind = f.kind;
      span.dataset.level = f.level;
      span.textContent = f.text;
      return span;
    }),
  );
}

// ---- The connection ----

let failures = 0;

function connect(): void {
  // A new EventSource sends no Last-Event-ID of its own, so the one it resumes from goes in the URL.
  const url = lastEventId ? `${eventsUrl}${eventsUrl.includes('?') ? '&' : '?'}last_event_id=${encodeURIComponent(lastEventId)}` : eventsUrl;
  const source = new EventSource(url);
  const data = <T>(e: Event): T => {
    const msg = e as MessageEvent<string>;
    if (msg.lastEventId) lastEventId = msg.lastEventId;
    health.update();
    return JSON.parse(msg.data) as T;
  };
  health.set('connecting', failures ? 'reconnecting…' : 'connecting…');
  source.onopen = () => {
    failures = 0;
    health.set('live');
  };
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) return health.set('reconnecting', 'reconnecting…');
    // The browser gave up (the server answered with an error): try again, more slowly each time.
    const wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)] as number;
    health.set('offline', `offline, retrying in ${Math.round(wait / 1000)} s`);
    setTimeout(connect, wait);
  };
  source.addEventListener('init', (e) => onInit(data<Figure>(e)));
  source.addEventListener('append', (e) => {
    const msg = data<{ traces: number[]; update: Update }>(e);
    onAppend(msg.traces, flatten(msg.update));
  });
  source.addEventListener('replace', (e) => {
    const msg = data<{ traces: number[]; update: Update }>(e);
    onReplace(msg.traces, flatten(msg.update));
  });
  source.addEventListener('layout', (e) => onLayout(data<{ layout: Layout }>(e).layout));
  source.addEventListener('deleted', () => {
    source.close();
    health.set('ended', 'plot deleted');
  });
}

// For tests and curious users: what this page has received and holds.
(window as unknown as { plotwire: unknown }).plotwire = {
  received: () => health.received,
  /** Traces drawn on the canvas at the last draw. */
  canvasLines: () => canvas.count,
  updates: () => health.updates,
  draws: () => draws,
  /** Draws plotly.js made (the others were the canvas's alone). */
  plotlyDraws: () => plotlyDraws,
  state: () => health.state,
  lastEventId: () => lastEventId,
  paused: () => Boolean(frozen),
  waiting: () => waiting,
  held: (i: number) => series[i]?.slice(0, series[i]?.length ?? 0),
  /** The live window of each trace, every point in it (plotly.js or the canvas may draw fewer). */
  windows: () => series.map((s, i) => s.slice(windowStart(i), s.length)),
};

setupControls();
const editButton = document.getElementById('edit') as HTMLButtonElement | null;
if (editButton && document.body.dataset.plotId) startEditor(document.body.dataset.plotId, editButton);
dark.addEventListener('change', () => requestDraw());
// The plot's box changes without a window resize (the readouts and the board line come and go):
// plotly.js lays out again for it, since most frames are the canvas's alone and do not measure.
new ResizeObserver(() => requestDraw()).observe(plotEl);
connect();
