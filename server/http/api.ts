/** plotwire's JSON API under /api/v1: plots, tokens, a trace's history, a token's stored position. */
import type { ServerResponse } from 'node:http';
import { stringify } from 'csv-stringify/sync';
import { STREAM_TOKEN_HEADER } from '../../shared/index.js';
import { embedUrl, shareUrl, type Core } from '../core.js';
import type { Figure } from '../data/figure.js';
import type { Columns } from '../data/columns.js';
import type { Plot } from '../store/plots.js';
import type { TokenRow } from '../store/accounts.js';
import { apiOrSessionUser, apiUser } from './auth.js';
import { mergeTraceProps } from './trace-props.js';
import { HttpError, readJson, sendJson, type Context, type Router } from './router.js';
import { traceInput } from './trace-input.js';
import { isObject } from '../../shared/validate.js';

const BODY_LIMIT = 8 * 1024 * 1024;

/** A plot as the API answers it; with its figure when one is given (PlotService.figure). */
export function plotJson(core: Core, plot: Plot, fig?: Figure): Record<string, unknown> {
  return {
    id: plot.id,
    owner: plot.owner,
    file_id: plot.fileId,
    filename: plot.filename,
    title: titleOf(plot.layout) ?? plot.filename,
    world_readable: plot.worldReadable,
    url: shareUrl(core, plot),
    embed_url: embedUrl(core, plot),
    ...(!plot.worldReadable && { share_url: `${shareUrl(core, plot)}?share_key=${plot.shareKey}` }),
    created_at: new Date(plot.createdAt).toISOString(),
    updated_at: new Date(plot.updatedAt).toISOString(),
    ...(fig && { figure: fig }),
  };
}

export function titleOf(layout: Record<string, unknown>): string | undefined {
  const t = layout.title;
  if (typeof t === 'string') return t;
  if (typeof t === 'object' && t !== null && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text;
  return undefined;
}

const tokenJson = (t: TokenRow): Record<string, unknown> => ({
  id: t.id,
  hint: `${t.hint}…`,
  created_at: new Date(t.createdAt).toISOString(),
  revoked: t.revokedAt !== null,
  next: t.nextSeq,
});

/** A plot of the caller (API key or, from the plot's page, the owner's session), or 404. */
function ownPlot(core: Core, ctx: Context): Plot {
  const user = apiOrSessionUser(core, ctx.req);
  const plot = core.plots.get(Number(ctx.params[0]));
  if (!plot || plot.userId !== user.id) throw new HttpError(404, `no plot ${ctx.params[0]} of user ${user.name}`);
  return plot;
}

function layoutOf(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new HttpError(400, 'layout must be an object');
  return value;
}

export function apiRoutes(core: Core, router: Router): void {
  router.add('GET', /^\/api\/v1\/streams\/state$/, async ({ req, res }) => {
    const secret = req.headers[STREAM_TOKEN_HEADER];
    if (typeof secret !== 'string') throw new HttpError(406, `missing header '${STREAM_TOKEN_HEADER}'`);
    const token = core.accounts.tokenBySecret(secret.trim());
    if (!token) throw new HttpError(404, 'this stream token is not registered');
    if (token.revokedAt !== null) throw new HttpError(403, 'this stream token was revoked');
    await core.store.load?.([token.id]);
    core.store.flush();
    const live = core.store.token(token.id);
    sendJson(res, 200, { next: live.committedNext, writer: await core.ingest.writerOf(token.id) });
  });

  router.add('POST', /^\/api\/v1\/plots$/, async ({ req, res }) => {
    const user = apiUser(core, req);
    const body = await readJson(req, BODY_LIMIT);
    const input = traceInput(core, user.id, body.traces ?? []);
    const layout = layoutOf(body.layout);
    if (typeof body.title === 'string') layout.title = { text: body.title };
    const explicit = typeof body.filename === 'string' && body.filename ? body.filename : undefined;
    if (explicit && core.plots.byFilename(user.id, explicit)) throw new HttpError(409, `user ${user.name} already has a plot named "${explicit}"`);
    const filename = explicit ?? core.plots.uniqueFilename(user.id, titleOf(layout) ?? 'plot');
    const plot = await core.service.create(user.id, { filename, layout, traces: input.specs, worldReadable: body.world_readable !== false }, input.initial);
    sendJson(res, 201, plotJson(core, plot, await core.service.figure(plot)));
  });

  router.add('GET', /^\/api\/v1\/plots$/, ({ req, res }) => {
    const user = apiOrSessionUser(core, req);
    sendJson(res, 200, { plots: core.plots.list(user.id).map((p) => plotJson(core, p)) });
  });

  router.add('GET', /^\/api\/v1\/plots\/(\d+)$/, async (ctx) => {
    const plot = ownPlot(core, ctx);
    sendJson(ctx.res, 200, plotJson(core, plot, await core.service.figure(plot)));
  });

  router.add('PATCH', /^\/api\/v1\/plots\/(\d+)$/, async (ctx) => {
    const plot = ownPlot(core, ctx);
    const body = await readJson(ctx.req, BODY_LIMIT);
    const input = body.traces === undefined ? undefined : traceInput(core, plot.userId, body.traces);
    if (input && body.trace_props !== undefined) throw new HttpError(400, 'send traces or trace_props, not both');
    const restyled = body.trace_props === undefined ? undefined : mergeTraceProps(plot, body.trace_props);
    if (body.filename !== undefined) {
      if (typeof body.filename !== 'string' || body.filename === '') throw new HttpError(400, 'filename must be a non-empty string');
      const other = core.plots.byFilename(plot.userId, body.filename);
      if (other && other.id !== plot.id) throw new HttpError(409, `user ${plot.owner} already has a plot named "${body.filename}"`);
    }
    let layout = body.layout === undefined ? undefined : layoutOf(body.layout);
    if (typeof body.title === 'string') layout = { ...layout, title: { text: body.title } };
    // A layout too deep or too large is refused by the service (400, 413), nothing changed.
    const updated = await core.service.edit(
      plot.id,
      {
        ...(layout && { layout }),
        ...(input && { traces: input.specs }),
        ...(restyled && { traces: restyled }),
        ...(typeof body.filename === 'string' && { filename: body.filename }),
        ...(typeof body.world_readable === 'boolean' && { worldReadable: body.world_readable }),
      },
      input?.initial,
    );
    sendJson(ctx.res, 200, plotJson(core, updated, await core.service.figure(updated)));
  });

  router.add('DELETE', /^\/api\/v1\/plots\/(\d+)$/, async (ctx) => {
    const plot = ownPlot(core, ctx);
    await core.service.delete(plot.id);
    ctx.res.writeHead(204).end();
  });

  router.add('GET', /^\/api\/v1\/plots\/(\d+)\/traces\/(\d+)\/data$/, async (ctx) => {
    const plot = ownPlot(core, ctx);
    const spec = plot.traces[Number(ctx.params[1])];
    if (!spec) throw new HttpError(404, `plot ${plot.id} has no trace ${ctx.params[1]}`);
    const format = ctx.url.searchParams.get('format') ?? 'ndjson';
    if (format !== 'csv' && format !== 'ndjson') throw new HttpError(400, `format must be csv or ndjson (got ${format})`);
    const chunks = spec.tokenId === undefined ? [{ replace: true, columns: spec.data ?? {} }] : core.store.history(spec.tokenId);
    const keys = spec.tokenId === undefined ? Object.keys(spec.data ?? {}) : await core.store.historyKeys(spec.tokenId);
    await writeHistory(ctx.res, format, chunks, keys, `${plot.filename}-trace${ctx.params[1]}`);
  });

  router.add('POST', /^\/api\/v1\/tokens$/, async ({ req, res }) => {
    const user = apiUser(core, req);
    const body = await readJson(req, BODY_LIMIT, true);
    const { token, row } = await core.accounts.createToken(user.id, { plotlyFormat: body.plotly_format === true });
    sendJson(res, 201, { ...tokenJson(row), token });
  });

  router.add('GET', /^\/api\/v1\/tokens$/, ({ req, res }) => {
    const user = apiUser(core, req);
    sendJson(res, 200, { tokens: core.accounts.listTokens(user.id).map(tokenJson) });
  });

  router.add('DELETE', /^\/api\/v1\/tokens\/(\d+)$/, async ({ req, res, params }) => {
    const user = apiUser(core, req);
    const id = Number(params[0]);
    if (!(await core.accounts.revokeToken(user.id, id))) throw new HttpError(404, `no active token ${id} of user ${user.name}`);
    core.ingest.revoke(id);
    res.writeHead(204).end();
  });

  router.add('GET', /^\/api\/v1\/health$/, ({ res }) => {
    sendJson(res, 200, { ok: true, streams: core.ingest.streams, viewers: core.fanout.count });
  });
}

/** CSV cells: numbers as numbers, objects as JSON, and text that a spreadsheet would run as a formula (=, +, -, @ first) prefixed with ' (OWASP's advice on CSV injection). */
const csvOptions = { escape_formulas: true, cast: { boolean: (v: boolean) => String(v), object: (v: object) => JSON.stringify(v) } } as const;

/**
 * Streams a trace's stored points as CSV or NDJSON, one point a line, numbered from 0. The CSV
 * header names every column any stored chunk has (`keys`), so a column that first appears late
 * (text from the 1,000th point on) is exported too, empty where a point has no value.
 */
async function writeHistory(res: ServerResponse, format: 'csv' | 'ndjson', chunks: Iterable<{ replace: boolean; columns: Columns }> | AsyncIterable<{ replace: boolean; columns: Columns }>, keys: readonly string[], name: string): Promise<void> {
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    'content-disposition': `attachment; filename="${name.replace(/[^\w.-]+/g, '_')}.${format}"`,
  });
  if (format === 'csv') res.write(stringify([['index', ...keys]], csvOptions));
  let index = 0;
  for await (const { columns } of chunks) {
    const n = (Object.values(columns)[0] ?? []).length;
    let out = '';
    if (format === 'csv') {
      const rows: unknown[][] = [];
      for (let i = 0; i < n; i++, index++) rows.push([index, ...keys.map((k) => columns[k]?.[i] ?? null)]);
      out = stringify(rows, csvOptions);
    } else {
      for (let i = 0; i < n; i++, index++) out += `${JSON.stringify(Object.fromEntries([['index', index], ...Object.keys(columns).map((k) => [k, columns[k]?.[i] ?? null])]))}\n`;
    }
    if (!res.write(out)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
