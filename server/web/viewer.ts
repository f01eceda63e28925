/**
 * The live viewer: one EventSource per page, updates coalesced to the display rate with
 * extendTraces (trimmed to each trace's maxpoints), so a fast stream never freezes the page. An
 * update after a quiet frame is drawn at once (waiting for the frame is latency); while updates
 * come faster, they wait for the next frame and are drawn together, every trace in one redraw.
 * The browser reconnects by itself and sends Last-Event-ID; the server sends what was missed.
 */
interface PlotlyApi {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<unknown>;
  extendTraces(el: HTMLElement, update: Record<string, unknown[][]>, indices: number[], maxPoints?: number | Record<string, number[]>): Promise<unknown>;
  restyle(el: HTMLElement, update: Record<string, unknown[]>, indices: number[]): Promise<unknown>;
}
declare const Plotly: PlotlyApi;

/** One array per data path ("x", "marker.size"), all the same length: what the server keeps. */
type Columns = Record<string, unknown[]>;
type Update = Record<string, unknown>;
/** The server gives every trace its stream.maxpoints (server/data/figure.ts): the points it keeps. */
type Trace = Record<string, unknown> & { stream: { maxpoints: number } };

interface Figure {
  data: Trace[];
  layout: Record<string, unknown> & { title?: unknown };
}

interface Pending {
  cols: Columns;
  length: number;
}

/** A display frame (60 Hz). */
const FRAME_MS = 1000 / 60;
const RATE_WINDOW_MS = 5000;
/** Waits between new EventSources when the browser gave up on one (an HTTP error, not a dropped line). */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

const plotEl = document.getElementById('plot') as HTMLElement & { data?: Trace[] };
const stateEl = document.getElementById('state') as HTMLElement;
const rateEl = document.getElementById('rate') as HTMLElement;
const titleEl = document.getElementById('title') as HTMLElement;
const eventsUrl = document.body.dataset.events as string;
/** Embedded, the header is a thin bar and the title is drawn by plotly.js; on the page the header shows it. */
const embedded = document.body.classList.contains('embed');

let maxpoints: number[] = [];
/** The data paths of each trace; an append that lacks one gets nulls there, as on the server. */
let paths: Set<string>[] = [];
let layout: Figure['layout'] = {};
let ready = Promise.resolve<unknown>(undefined);
/** Appends waiting for the next frame, per trace, never more than the trace keeps. */
let pending = new Map<number, Pending>();
let frameRequested = false;
let drawing = false;
let lastDrawAt = -Infinity;
let received = 0;
let updates = 0;
let draws = 0;
let lastEventId = '';
let lastDataAt = 0;
/** (time, points, updates) once a second, for the rate over the last few seconds. */
const samples: { at: number; points: number; updates: number }[] = [];

const nulls = (n: number): null[] => new Array<null>(n).fill(null);
const lengthOf = (cols: Columns): number => (Object.values(cols)[0] ?? []).length;

/** {"x": [...], "marker": {"size": [...]}} -> {"x": [...], "marker.size": [...]} */
function flatten(update: Update): Columns {
  const out: Columns = {};
  for (const [key, value] of Object.entries(update)) {
    if (Array.isArray(value)) out[key] = value;
    else if (value && typeof value === 'object') for (const [sub, arr] of Object.entries(value)) out[`${key}.${sub}`] = arr as unknown[];
  }
  return out;
}

/** The data paths of a figure's trace: every array under x, y, z, text, marker, line. */
function dataPaths(trace: Trace): Set<string> {
  const out = new Set<string>();
  for (const key of ['x', 'y', 'z', 'text']) if (Array.isArray(trace[key])) out.add(key);
  for (const key of ['marker', 'line']) {
    const style = trace[key];
    if (style && typeof style === 'object') for (const [sub, v] of Object.entries(style)) if (Array.isArray(v)) out.add(`${key}.${sub}`);
  }
  return out;
}

function valueAt(trace: Trace | undefined, path: string): unknown {
  let v: unknown = trace;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function setState(state: string, text = state): void {
  stateEl.dataset.state = state;
  stateEl.textContent = text;
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
  const drawn: Record<string, unknown> = { ...layout, ...fastAxes(), autosize: true };
  if (embedded) return drawn;
  // Room on the right for half of the last tick label (labels are not hidden at the edge).
  return { ...drawn, title: { text: '' }, margin: { t: 24, r: 40, ...(layout.margin as object | undefined) } };
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
    axes[name] = { ticklabeloverflow: 'allow', ...axis };
  }
  return axes;
}

/** Runs drawing steps one after another, so an init is drawn before the appends that follow it. */
function then(step: () => Promise<unknown> | void): Promise<unknown> {
  ready = ready.then(step).catch((err: unknown) => console.error('plotwire viewer:', err));
  return ready;
}

/** `a` then `b`, each padded with nulls where it lacks a path the other has, trimmed to `keep`. */
function concat(a: Pending | undefined, cols: Columns, keep: number): Pending {
  const n = lengthOf(cols);
  const have = a?.length ?? 0;
  const length = Math.min(keep, have + n);
  const out: Columns = {};
  for (const key of new Set([...Object.keys(a?.cols ?? {}), ...Object.keys(cols)])) {
    const joined = (a?.cols[key] ?? nulls(have)).concat(cols[key] ?? nulls(n));
    out[key] = joined.length > keep ? joined.slice(joined.length - keep) : joined;
  }
  return { cols: out, length };
}

function queueAppend(traces: number[], cols: Columns): void {
  const n = lengthOf(cols);
  received += n * traces.length;
  lastDataAt = performance.now();
  for (const i of traces) pending.set(i, concat(pending.get(i), cols, maxpoints[i] as number));
  requestDraw();
}

function requestDraw(): void {
  // One draw at a time: while plotly.js is busy, appends keep piling into `pending` (bounded by maxpoints).
  if (frameRequested || drawing || pending.size === 0) return;
  frameRequested = true;
  // A timeout, not a call: appends of the same burst of messages join this draw.
  if (performance.now() - lastDrawAt >= FRAME_MS) setTimeout(drawPending, 0);
  else requestAnimationFrame(drawPending);
}

function drawPending(): void {
  frameRequested = false;
  const batch = pending;
  pending = new Map();
  drawing = true;
  lastDrawAt = performance.now();
  draws++;
  void then(() => extend(batch)).then(() => {
    drawing = false;
    requestDraw();
  });
}

/**
 * Appends to the traces: one extendTraces (one redraw) for all traces with the same data paths,
 * after giving each trace any path it lacks (nulls for its older points).
 */
async function extend(batch: Map<number, Pending>): Promise<void> {
  const groups = new Map<string, { indices: number[]; update: Record<string, unknown[][]>; max: number[] }>();
  for (const [i, { cols, length }] of batch) {
    await addPaths(i, cols);
    const keys = [...(paths[i] ?? [])].sort();
    const id = keys.join('\n');
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { indices: [], update: Object.fromEntries(keys.map((k) => [k, []])), max: [] }));
    group.indices.push(i);
    group.max.push(maxpoints[i] as number);
    for (const key of keys) group.update[key]?.push(cols[key] ?? nulls(length));
  }
  for (const { update, indices, max } of groups.values()) {
    // Per-trace limits go as an object shaped like the update (a plain array would be ignored).
    await Plotly.extendTraces(plotEl, update, indices, Object.fromEntries(Object.keys(update).map((k) => [k, max])));
  }
}

/** Gives trace i the data paths of an append it lacks, as nulls for the points it has. */
async function addPaths(i: number, cols: Columns): Promise<void> {
  const known = (paths[i] ??= new Set());
  const trace = plotEl.data?.[i];
  const current = Math.max(0, ...[...known].map((p) => (valueAt(trace, p) as unknown[] | undefined)?.length ?? 0));
  const fresh: Record<string, unknown[]> = {};
  for (const key of Object.keys(cols)) {
    if (!Array.isArray(valueAt(trace, key))) fresh[key] = [nulls(current)];
    known.add(key);
  }
  if (Object.keys(fresh).length) await Plotly.restyle(plotEl, fresh, [i]);
}

function onInit(fig: Figure): void {
  pending = new Map();
  maxpoints = fig.data.map((t) => t.stream.maxpoints);
  paths = fig.data.map(dataPaths);
  layout = fig.layout;
  setTitle();
  void then(() => Plotly.react(plotEl, fig.data, drawnLayout(), { responsive: true, displaylogo: false }));
}

function onReplace(traces: number[], cols: Columns): void {
  // The replace makes appends still waiting for these traces moot.
  for (const i of traces) pending.delete(i);
  void then(() => {
    const update: Record<string, unknown[]> = {};
    const known = new Set(traces.flatMap((i) => [...(paths[i] ?? [])]));
    // Paths the new data lacks are gone, as on the server.
    for (const key of known) if (!(key in cols)) update[key] = [null];
    for (const [key, arr] of Object.entries(cols)) update[key] = [arr];
    for (const i of traces) paths[i] = new Set(Object.keys(cols));
    return Plotly.restyle(plotEl, update, traces);
  });
}

function onLayout(next: Figure['layout']): void {
  layout = next;
  setTitle();
  void then(() => Plotly.react(plotEl, plotEl.data ?? [], drawnLayout()));
}

let failures = 0;

function connect(): void {
  // A new EventSource sends no Last-Event-ID of its own, so the one it resumes from goes in the URL.
  const url = lastEventId ? `${eventsUrl}${eventsUrl.includes('?') ? '&' : '?'}last_event_id=${encodeURIComponent(lastEventId)}` : eventsUrl;
  const source = new EventSource(url);
  const data = <T>(e: Event): T => {
    const msg = e as MessageEvent<string>;
    if (msg.lastEventId) lastEventId = msg.lastEventId;
    updates++;
    return JSON.parse(msg.data) as T;
  };
  setState('connecting', failures ? 'reconnecting…' : 'connecting…');
  source.onopen = () => {
    failures = 0;
    setState('live');
  };
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) return setState('reconnecting', 'reconnecting…');
    // The browser gave up (the server answered with an error): try again, more slowly each time.
    const wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)] as number;
    setState('offline', `offline, retrying in ${Math.round(wait / 1000)} s`);
    setTimeout(connect, wait);
  };
  source.addEventListener('init', (e) => onInit(data<Figure>(e)));
  source.addEventListener('append', (e) => {
    const msg = data<{ traces: number[]; update: Update }>(e);
    queueAppend(msg.traces, flatten(msg.update));
  });
  source.addEventListener('replace', (e) => {
    const msg = data<{ traces: number[]; update: Update }>(e);
    lastDataAt = performance.now();
    onReplace(msg.traces, flatten(msg.update));
  });
  source.addEventListener('layout', (e) => onLayout(data<{ layout: Figure['layout'] }>(e).layout));
  source.addEventListener('deleted', () => {
    source.close();
    setState('ended', 'plot deleted');
  });
}

const format = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: n >= 10 ? 0 : 1 });

/** The header's rate: points and updates a second over the last few seconds, or how long it has been quiet. */
function showRate(): void {
  const now = performance.now();
  samples.push({ at: now, points: received, updates });
  while (samples.length > 1 && now - (samples[0] as { at: number }).at > RATE_WINDOW_MS) samples.shift();
  const first = samples[0] as { at: number; points: number; updates: number };
  const seconds = (now - first.at) / 1000;
  const points = seconds > 0 ? (received - first.points) / seconds : 0;
  const perSecond = seconds > 0 ? (updates - first.updates) / seconds : 0;
  rateEl.dataset.pointsPerSecond = String(points);
  if (points > 0) rateEl.textContent = `${format(points)} points/s · ${format(perSecond)} updates/s`;
  else if (lastDataAt) rateEl.textContent = `no new points for ${Math.round((now - lastDataAt) / 1000)} s`;
  else rateEl.textContent = 'waiting for points';
}
showRate();
setInterval(showRate, 1000);

// For tests and curious users: what this page has received.
(window as unknown as { plotwire: unknown }).plotwire = {
  received: () => received,
  updates: () => updates,
  draws: () => draws,
  state: () => stateEl.dataset.state,
  lastEventId: () => lastEventId,
};

connect();
