/**
 * Plotly's own REST calls, as its old clients make them: POST /clientresp creates (or overwrites,
 * extends, appends to) a plot, GET /apigetfile/:owner/:fileId reads a figure back.
 */
import { shareUrl, type Core } from '../core.js';
import { columnLength } from '../data/columns.js';
import type { Plot, TraceSpec } from '../store/plots.js';
import { apiUser } from './auth.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, closeAfterAnswer, sendJson, type Router } from './router.js';
import { ByteBudget, UNAUTHENTICATED_TOTAL, readClientForm } from './client-form.js';
import { traceInput } from './trace-input.js';

/**
 * JSON as Python's json.dumps writes it (", " and ": ", non-ASCII escaped), as Plotly's server
 * answered: the Arduino libraries scan the answer for `"url": "http://...` byte by byte.
 */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  }
  return (JSON.stringify(value) ?? 'null').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Plotly's /clientresp answer: always 200, the fields in Plotly's order, errors in `error`. The
 * connection closes after it unless the client asked to keep it: the Arduino libraries read
 * until the server closes, and send no Connection header.
 */
function answer(req: IncomingMessage, res: ServerResponse, fields: Record<string, unknown>): void {
  const body = pythonJson({ 'stream-host': '', 'stream-status': '', url: '', filename: '', message: '', warning: '', error: '', ...fields });
  // A body left unread (credentials refused early) is not drained: the connection closes.
  const keep = req.headers.connection?.toLowerCase() === 'keep-alive' && req.complete;
  closeAfterAnswer(req, res);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(!keep && { connection: 'close' }),
  });
  res.end(body);
}

function parseJsonField(form: Record<string, string>, name: string, fallback: unknown): unknown {
  const raw = form[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new HttpError(400, `${name} is not valid JSON: ${(err as Error).message}`);
  }
}

/** fileopt=extend: each given trace's data goes on the end of the existing trace of the same index. */
async function extend(core: Core, plot: Plot, specs: TraceSpec[], initial: ReturnType<typeof traceInput>['initial']): Promise<Plot> {
  const traces = [...plot.traces];
  for (const [i, spec] of specs.entries()) {
    const old = traces[i];
    if (!old) {
      traces.push(spec);
      continue;
    }
    if (old.tokenId !== undefined) {
      const cols = spec.tokenId === undefined ? spec.data : initial.find((x) => x.tokenId === spec.tokenId)?.columns;
      const count = cols ? columnLength(cols) : 0;
      // Points from outside the token's writer: stored now, the writer's sequence (next) untouched.
      if (cols && count > 0) await core.service.extend(old.tokenId, cols, count);
      continue;
    }
    const data = { ...old.data };
    for (const [k, v] of Object.entries(spec.data ?? {})) data[k] = [...(data[k] ?? []), ...v];
    traces[i] = { ...old, data };
  }
  return core.service.edit(plot.id, { traces });
}

export function plotlyRoutes(core: Core, router: Router): void {
  const unauthenticated = new ByteBudget(UNAUTHENTICATED_TOTAL);
  router.add('POST', /^\/clientresp$/, async ({ req, res }) => {
    const read = await readClientForm(req, core.accounts, unauthenticated);
    if (!read.user) return answer(req, res, { error: `Aw, snap! The username "${read.name}" or its API key is not valid.` });
    const { fields: form, user } = read;
    if ((form.origin ?? 'plot') !== 'plot') return answer(req, res, { error: `origin "${form.origin}" is not supported; use origin=plot` });
    try {
      const args = parseJsonField(form, 'args', []);
      const kwargs = parseJsonField(form, 'kwargs', {}) as Record<string, unknown>;
      const traces = Array.isArray(args) ? args : [args];
      const input = traceInput(core, user.id, traces);
      const layout = (typeof kwargs.layout === 'object' && kwargs.layout !== null ? kwargs.layout : {}) as Record<string, unknown>;
      const fileopt = typeof kwargs.fileopt === 'string' ? kwargs.fileopt : 'overwrite';
      const filename = typeof kwargs.filename === 'string' && kwargs.filename ? kwargs.filename : `plot from ${form.platform ?? 'api'}`;
      const worldReadable = kwargs.world_readable !== false && kwargs.world_readable !== 'false';
      const existing = core.plots.byFilename(user.id, filename);
      let plot: Plot;
      let warning = '';
      if (fileopt === 'new' || !existing) {
        plot = await core.service.create(user.id, { filename: core.plots.uniqueFilename(user.id, filename), layout, traces: input.specs, worldReadable }, input.initial);
        if (fileopt !== 'new' && fileopt !== 'overwrite' && !existing) warning = `no plot named "${filename}" to ${fileopt}: created it`;
      } else if (fileopt === 'overwrite') {
        plot = await core.service.edit(existing.id, { layout, traces: input.specs, worldReadable }, input.initial);
      } else if (fileopt === 'extend') {
        plot = await extend(core, existing, input.specs, input.initial);
      } else if (fileopt === 'append') {
        plot = await core.service.edit(existing.id, { traces: [...existing.traces, ...input.specs] }, input.initial);
      } else {
        return answer(req, res, { error: `fileopt must be new, overwrite, extend or append (got "${fileopt}")` });
      }
      const url = shareUrl(core, plot);
      answer(req, res, {
        'stream-host': core.streamUrl,
        'stream-status': 'All Streams Go!',
        url,
        filename: plot.filename,
        message: `High five! You successfully sent some data to your account on plotwire. View your plot in your browser at ${url} or inside your plotwire account where it is named '${plot.filename}'`,
        warning,
      });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // Their Content-Length assumes 10-character keys and tokens: longer ones cut the form short.
      const hint =
        form.platform === 'arduino'
          ? ". Plotly's Arduino libraries need Plotly-format (10-character) API keys and stream tokens: plotwire user add NAME --plotly-format, plotwire token create --user NAME --plotly-format"
          : '';
      return answer(req, res, { error: `${err.message}${hint}` });
    }
  });

  router.add('GET', /^\/apigetfile\/([^/]+)\/(\d+)$/, async ({ req, res, params }) => {
    const user = apiUser(core, req);
    const plot = core.plots.byFile(params[0] as string, Number(params[1]));
    if (!plot || (!plot.worldReadable && plot.userId !== user.id)) {
      return sendJson(res, 404, { error: `no plot ${params[0]}:${params[1]} that ${user.name} may read` });
    }
    sendJson(res, 200, { payload: { figure: await core.service.figure(plot) } });
  });
}
