/**
 * The owner's editor, in place on the plot's page (only the owner's page has the Edit button): the
 * title, axis titles and ranges, each trace's name, colour, mode, type and readout, the window
 * length, public or private and the share link. Saved with one PATCH of the plot API, made with
 * the login session (the server checks it comes from its own page); every viewer, this one too,
 * gets the change through its event stream.
 */
import { plotApi } from './plot-api.js';

type Json = Record<string, unknown>;

interface PlotJson {
  title: string;
  world_readable: boolean;
  url: string;
  share_url?: string;
  figure: { layout: Json; data: Json[] };
}

const COLORWAY = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof obj(v).text === 'string' ? (obj(v).text as string) : '');

/** An element with attributes and children, built without markup (names and titles are text, never HTML). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    if (k === 'value' && 'value' in node) (node as HTMLInputElement).value = String(v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children);
  return node;
}

/** A labelled control; the name is set on the control too (a select's name would otherwise take in its options' text). */
function field(label: string, control: HTMLElement): HTMLLabelElement {
  control.setAttribute('aria-label', label);
  return el('label', {}, `${label} `, control);
}

function select(name: string, value: string, options: string[]): HTMLSelectElement {
  const s = el('select', { name });
  for (const o of options) s.add(new Option(o, o, false, o === value));
  return s;
}

/** The y axes of a layout, in order: yaxis, yaxis2, ... */
const yAxes = (layout: Json): string[] => ['yaxis', ...Object.keys(layout).filter((k) => /^yaxis\d+$/.test(k)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))];

function axisFields(name: string, axis: Json, label: string): HTMLFieldSetElement {
  const range = Array.isArray(axis.range) ? (axis.range as unknown[]) : [];
  const fixed = axis.autorange === false || (range.length === 2 && axis.autorange !== true);
  return el(
    'fieldset',
    { 'data-axis': name },
    el('legend', {}, label),
    field(`${label} title`, el('input', { name: 'title', value: text(axis.title) })),
    field(`${label} range`, select('range', fixed ? 'fixed' : 'auto', ['auto', 'fixed'])),
    field(`${label} from`, el('input', { name: 'from', type: 'number', step: 'any', value: range.length === 2 ? String(range[0]) : '' })),
    field(`${label} to`, el('input', { name: 'to', type: 'number', step: 'any', value: range.length === 2 ? String(range[1]) : '' })),
  );
}

function traceFields(i: number, trace: Json, colorway: string[]): HTMLFieldSetElement {
  const line = obj(trace.line);
  const readout = obj(trace.meta).readout;
  const label = `Trace ${i + 1}`;
  return el(
    'fieldset',
    { 'data-trace': String(i) },
    el('legend', {}, `${label}${typeof trace.name === 'string' ? `: ${trace.name}` : ''}`),
    field(`${label} name`, el('input', { name: 'name', value: typeof trace.name === 'string' ? trace.name : '' })),
    field(`${label} colour`, el('input', { name: 'color', type: 'color', value: typeof line.color === 'string' && /^#[0-9a-f]{6}$/i.test(line.color) ? line.color : (colorway[i % colorway.length] as string) })),
    field(`${label} mode`, select('mode', typeof trace.mode === 'string' ? trace.mode : 'lines', ['lines', 'markers', 'lines+markers'])),
    field(`${label} type`, select('type', typeof trace.type === 'string' ? trace.type : 'scatter', ['scatter', 'bar'])),
    field(`${label} readout`, el('input', { name: 'readout', type: 'checkbox', checked: readout !== undefined })),
    field(`${label} unit`, el('input', { name: 'unit', value: typeof readout === 'string' ? readout : '' })),
  );
}

const value = (root: ParentNode, name: string): string => (root.querySelector(`[name="${name}"]`) as HTMLInputElement).value;
const checked = (root: ParentNode, name: string): boolean => (root.querySelector(`[name="${name}"]`) as HTMLInputElement).checked;

/** The PATCH body the form says: the layout and trace attributes it shows, changed or not. */
function patchOf(form: HTMLFormElement, plot: PlotJson): Json {
  const layout: Json = { title: { text: value(form, 'plot-title') }, xaxis: { title: { text: value(form, 'x-title') } } };
  for (const set of Array.from(form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-axis]'))) {
    const from = value(set, 'from');
    const to = value(set, 'to');
    const fixed = value(set, 'range') === 'fixed' && from !== '' && to !== '';
    layout[set.dataset.axis as string] = { title: { text: value(set, 'title') }, ...(fixed ? { range: [Number(from), Number(to)], autorange: false } : { range: null, autorange: true }) };
  }
  const seconds = Number(value(form, 'window'));
  layout.meta = { window: value(form, 'window') !== '' && seconds > 0 ? seconds : null };
  const traceProps = Array.from(form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-trace]')).map((set) => {
    const color = value(set, 'color');
    const unit = value(set, 'unit');
    return {
      name: value(set, 'name'),
      mode: value(set, 'mode'),
      type: value(set, 'type'),
      line: { color },
      marker: { color },
      meta: { readout: checked(set, 'readout') ? unit : null },
    };
  });
  const before = plot.figure.data.map((t) => {
    const p: Json = { ...t };
    for (const k of ['x', 'y', 'z', 'text', 'stream']) delete p[k];
    return p;
  });
  // Trace attributes only when one changed: a trace edit starts every viewer over.
  const changed = traceProps.some((p, i) => {
    const b = before[i] ?? {};
    return p.name !== (b.name ?? '') || p.mode !== (b.mode ?? 'lines') || p.type !== (b.type ?? 'scatter') || p.line.color !== obj(b.line).color || (p.meta.readout ?? undefined) !== obj(b.meta).readout;
  });
  return { layout, ...(changed && { trace_props: traceProps }), world_readable: checked(form, 'public') };
}

/** Copies a link, or selects it for Ctrl-C where the clipboard is not allowed. */
export async function copyLink(link: string, fallback?: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(link);
    return true;
  } catch {
    fallback?.select();
    return false;
  }
}

export function startEditor(plotId: string, button: HTMLButtonElement): void {
  const panel = el('aside', { id: 'editor', 'aria-label': 'Edit plot', hidden: true });
  document.body.append(panel);
  const close = (): void => {
    panel.hidden = true;
    panel.replaceChildren();
    button.setAttribute('aria-expanded', 'false');
  };
  const say = (message: string): void => {
    panel.replaceChildren(el('p', { role: 'alert' }, message));
    panel.hidden = false;
  };
  async function open(): Promise<void> {
    const answer = await plotApi('GET', `/api/v1/plots/${plotId}`);
    if (!answer.ok) return say(`The editor could not load the plot: ${answer.error}`);
    const plot = answer.body as unknown as PlotJson;
    const { layout, data } = plot.figure;
    const colorway = Array.isArray(layout.colorway) ? (layout.colorway as string[]) : COLORWAY;
    const link = plot.share_url ?? plot.url;
    const linkInput = el('input', { name: 'link', readonly: true, value: link });
    const status = el('p', { class: 'status', role: 'alert' });
    const copy = el('button', { type: 'button' }, 'Copy link');
    copy.addEventListener('click', async () => (status.textContent = (await copyLink(link, linkInput)) ? 'Link copied.' : 'Link selected: press Ctrl-C to copy it.'));
    const window = obj(layout.meta).window;
    const form = el(
      'form',
      {},
      el('h2', {}, 'Edit plot'),
      field('Title', el('input', { name: 'plot-title', value: text(layout.title) })),
      field('X axis title', el('input', { name: 'x-title', value: text(obj(layout.xaxis).title) })),
      ...yAxes(layout).map((name, k) => axisFields(name, obj(layout[name]), k === 0 ? 'Y axis' : `Y axis ${k + 1}`)),
      field('Window (seconds, empty for the plot’s points)', el('input', { name: 'window', type: 'number', min: '0', step: 'any', value: typeof window === 'number' ? String(window) : '' })),
      ...data.map((t, i) => traceFields(i, t, colorway)),
      field('Public (anyone with the link)', el('input', { name: 'public', type: 'checkbox', checked: plot.world_readable })),
      field('Share link', linkInput),
      el('div', { class: 'buttons' }, copy, el('button', { type: 'submit' }, 'Save'), el('button', { type: 'button', 'data-action': 'cancel' }, 'Cancel')),
      status,
    );
    form.querySelector('[data-action="cancel"]')?.addEventListener('click', close);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      status.textContent = 'Saving…';
      const saved = await plotApi('PATCH', `/api/v1/plots/${plotId}`, patchOf(form, plot));
      if (saved.ok) close();
      else status.textContent = `Not saved: ${saved.error}`;
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    (form.querySelector('input') as HTMLInputElement).focus();
  }
  button.addEventListener('click', () => {
    if (!panel.hidden) return close();
    void open();
  });
}
