/**
 * The live viewer: one EventSource per page, updates coalesced to the display rate with
 * extendTraces (trimmed to each trace's maxpoints), so a fast stream never freezes the page.
 * The browser reconnects by itself and sends Last-Event-ID; the server sends what was missed.
 */
interface PlotlyApi {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): Promise<unknown>;
  extendTraces(el: HTMLElement, update: Record<string, unknown[][]>, indices: number[], maxPoints?: number | number[]): Promise<unknown>;
  restyle(el: HTMLElement, update: Record<string, unknown[][]>, indices: number[]): Promise<unknown>;
}
declare const Plotly: PlotlyApi;

type Columns = Record<string, unknown[]>;
type Update = Record<string, unknown>;

interface Figure {
  data: (Record<string, unknown> & { stream?: { maxpoints?: number } })[];
  layout: Record<string, unknown> & { title?: unknown };
}

const plotEl = document.getElementById('plot') as HTMLElement;
const stateEl = document.getElementById('state') as HTMLElement;
const rateEl = document.getElementById('rate') as HTMLElement;
const titleEl = document.getElementById('title') as HTMLElement;
const eventsUrl = document.body.dataset.events as string;

let maxpoints: number[] = [];
let layout: Figure['layout'] = {};
let ready = Promise.resolve<unknown>(undefined);
/** Appends waiting for the next frame, per trace, never more than the trace keeps. */
let pending = new Map<number, Columns>();
let frameRequested = false;
const arrivals: { at: number; points: number }[] = [];
let received = 0;

/** {"x": [...], "marker": {"size": [...]}} -> {"x": [...], "marker.size": [...]} */
function flatten(update: Update): Columns {
  const out: Columns = {};
  for (const [key, value] of Object.entries(update)) {
    if (Array.isArray(value)) out[key] = value;
    else if (value && typeof value === 'object') for (const [sub, arr] of Object.entries(value)) out[`${key}.${sub}`] = arr as unknown[];
  }
  return out;
}

function setState(state: string, text = state): void {
  stateEl.dataset.state = state;
  stateEl.textContent = text;
}

function setTitle(): void {
  const t = layout.title;
  const text = typeof t === 'string' ? t : t && typeof t === 'object' && 'text' in t ? String((t as { text: unknown }).text) : '';
  titleEl.textContent = text;
  if (text) document.title = `${text} · plotwire`;
}

/** Runs drawing steps one after another, so an init is drawn before the appends that follow it. */
function then(step: () => Promise<unknown> | void): void {
  ready = ready.then(step).catch((err: unknown) => console.error('plotwire viewer:', err));
}

function queueAppend(traces: number[], cols: Columns): void {
  const n = (Object.values(cols)[0] ?? []).length;
  received += n * traces.length;
  arrivals.push({ at: performance.now(), points: n });
  for (const i of traces) {
    const keep = maxpoints[i] ?? 500;
    const have = pending.get(i);
    const merged: Columns = {};
    for (const key of new Set([...Object.keys(have ?? {}), ...Object.keys(cols)])) {
      const joined = [...(have?.[key] ?? []), ...(cols[key] ?? [])];
      merged[key] = joined.length > keep ? joined.slice(joined.length - keep) : joined;
    }
    pending.set(i, merged);
  }
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(drawPending);
  }
}

function drawPending(): void {
  frameRequested = false;
  const batch = pending;
  pending = new Map();
  then(async () => {
    for (const [i, cols] of batch) {
      const update: Record<string, unknown[][]> = {};
      for (const [key, arr] of Object.entries(cols)) update[key] = [arr];
      await Plotly.extendTraces(plotEl, update, [i], maxpoints[i] ?? 500);
    }
  });
}

/** Appends queued before a replace, an init or a layout change are drawn first. */
function flushPending(): void {
  if (pending.size) drawPending();
}

function onInit(fig: Figure): void {
  pending = new Map();
  maxpoints = fig.data.map((t) => t.stream?.maxpoints ?? 500);
  layout = fig.layout;
  setTitle();
  then(() => Plotly.react(plotEl, fig.data, { ...layout, autosize: true }, { responsive: true, displaylogo: false }));
}

function connect(): void {
  const source = new EventSource(eventsUrl);
  setState('connecting');
  source.onopen = () => setState('live');
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'ended' : 'reconnecting');
  source.addEventListener('init', (e) => onInit(JSON.parse((e as MessageEvent<string>).data) as Figure));
  source.addEventListener('append', (e) => {
    const msg = JSON.parse((e as MessageEvent<string>).data) as { traces: number[]; update: Update };
    queueAppend(msg.traces, flatten(msg.update));
  });
  source.addEventListener('replace', (e) => {
    const msg = JSON.parse((e as MessageEvent<string>).data) as { traces: number[]; update: Update };
    flushPending();
    const cols = flatten(msg.update);
    then(() => {
      const update: Record<string, unknown[][]> = {};
      for (const [key, arr] of Object.entries(cols)) update[key] = msg.traces.map(() => arr);
      return Plotly.restyle(plotEl, update, msg.traces);
    });
  });
  source.addEventListener('layout', (e) => {
    flushPending();
    layout = (JSON.parse((e as MessageEvent<string>).data) as { layout: Figure['layout'] }).layout;
    setTitle();
    then(() => Plotly.react(plotEl, (plotEl as unknown as { data: unknown[] }).data, { ...layout, autosize: true }));
  });
  source.addEventListener('deleted', () => {
    source.close();
    setState('ended', 'plot deleted');
  });
}

// The update rate over the last 5 s, for the header.
setInterval(() => {
  const now = performance.now();
  while (arrivals.length && now - (arrivals[0] as { at: number }).at > 5000) arrivals.shift();
  const points = arrivals.reduce((sum, a) => sum + a.points, 0);
  rateEl.textContent = `${(points / 5).toFixed(points >= 50 ? 0 : 1)} points/s`;
}, 1000);

// For tests and curious users: what this page has received.
(window as unknown as { plotwire: unknown }).plotwire = { received: () => received, state: () => stateEl.dataset.state };

connect();
