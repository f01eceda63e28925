/**
 * What browsers get: the share page of a plot (/~owner/ID), its embeddable variant (.embed), its
 * live events (SSE), the login form, and static files from a fixed list (no path from a URL ever
 * reaches the file system).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { packageRoot, packageVersion } from '../../shared/package-root.js';
import { embedUrl, shareUrl, type Core } from '../core.js';
import type { Plot } from '../store/plots.js';
import { xNumber } from '../web/m4.js';
import { titleOf } from './api.js';
import { SESSION_COOKIE, canView, checkOrigin, cookie, isTls, sessionUser } from './auth.js';
import { HttpError, readBody, sendJson, type Context, type Router } from './router.js';

const require = createRequire(import.meta.url);

const staticFiles: Record<string, { path: string; type: string }> = {
  '/static/plotly.min.js': { path: require.resolve('plotly.js-dist-min/plotly.min.js'), type: 'text/javascript' },
  '/static/viewer.js': { path: join(packageRoot, 'dist/web/viewer.js'), type: 'text/javascript' },
  '/static/viewer.css': { path: join(packageRoot, 'server/web/viewer.css'), type: 'text/css' },
  // The viewer's modules (viewer.js imports them by these names).
  ...Object.fromEntries(['m4', 'series', 'health', 'canvas-lines', 'editor', 'plots', 'board-status', 'fit', 'plot-api'].map((name) => [`/static/${name}.js`, { path: join(packageRoot, `dist/web/${name}.js`), type: 'text/javascript' }])),
};

/** Points one range request sends whole, all traces together; past it each trace is reduced to min/max per column. */
export const MAX_RANGE_POINTS = 200_000;
const MAX_RANGE_COLUMNS = 4000;

/** A range bound: a number, or a plotly.js date string (read as ms, as the store reads stored dates). */
function rangeBound(url: URL, name: string): number {
  const text = url.searchParams.get(name);
  if (text === null) throw new HttpError(400, `the range needs ${name}= (a number or a date such as 2026-12-02 09:55:01.5)`);
  const value = Number.isFinite(Number(text)) && text.trim() !== '' ? Number(text) : xNumber(text);
  if (!Number.isFinite(value)) throw new HttpError(400, `${name} is not a number or a date: ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, body: string, options: { embeddable?: boolean; bodyAttrs?: string; head?: string } = {}): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/viewer.css">${options.head ?? ''}</head>
<body${options.bodyAttrs ?? ''}>
${body}
</body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // An embed may sit in any page: "frame-ancestors *" would still refuse notebook outputs and local
    // files (schemes other than http/https), so embeds name no frame-ancestors at all.
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'${options.embeddable ? '' : "; frame-ancestors 'self'"}`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  });
  res.end(html);
}

function servePlot(core: Core, ctx: Context, embed: boolean): void {
  const plot = viewablePlot(core, ctx);
  if (!plot) return refused(ctx, embed);
  const query = ctx.url.searchParams.get('share_key');
  const path = ctx.url.pathname.replace(/\.embed$/, '');
  const share = query ? `?share_key=${encodeURIComponent(query)}` : '';
  const events = `${path}/events${share}`;
  const title = titleOf(plot.layout) ?? plot.filename;
  // The owner's page has the editor; nobody else's has any of it.
  const owner = !embed && sessionUser(core, ctx.req)?.id === plot.userId;
  page(
    ctx.res,
    200,
    `${title} · plotwire`,
    `<header><a class="brand" href="/" target="_top">plotwire</a><h1 id="title">${escapeHtml(title)}</h1><span class="board" id="board" role="status" aria-label="Board status"></span>
<span class="controls"><button type="button" id="pause" aria-pressed="false">Pause</button><span class="waiting" id="waiting" role="status" hidden></span>
<label class="window">Window <select id="window"></select></label>${owner ? '<button type="button" id="edit" aria-expanded="false">Edit</button>' : ''}</span>
<span class="rate" id="rate"></span><span class="state" id="state" data-state="connecting" role="status">connecting…</span></header>
<div class="main"><div id="plot"></div><div class="readouts" id="readouts" aria-live="polite"></div></div>
<script src="/static/plotly.min.js"></script>
<script type="module" src="/static/viewer.js"></script>`,
    {
      embeddable: embed,
      // oEmbed discovery: a site given this page's link finds how to embed it.
      head: `<link rel="alternate" type="application/json+oembed" href="${escapeHtml(`${core.publicUrl}/oembed?url=${encodeURIComponent(`${shareUrl(core, plot)}${share}`)}`)}" title="${escapeHtml(title)}">`,
      bodyAttrs: ` data-events="${escapeHtml(events)}" data-range="${escapeHtml(`${path}/range${share}`)}"${owner ? ` data-plot-id="${plot.id}"` : ''}${embed ? ' class="embed"' : ' class="viewer"'}`,
    },
  );
}

/** The 404 page of a plot this request may not see: the same for a missing and a private plot. */
function refused(ctx: Context, embed: boolean): void {
  const next = ctx.url.pathname + ctx.url.search;
  page(
    ctx.res,
    404,
    'No plot here · plotwire',
    `<main class="page"><h1>No plot here you may see</h1>
<p>~${escapeHtml(ctx.params[0] as string)}/${escapeHtml(ctx.params[1] as string)} does not exist, or it is private: private plots need their owner's login or the secret share link.</p>
<p><a href="/login?next=${encodeURIComponent(next)}"${embed ? ' target="_top"' : ''}>Log in</a></p></main>`,
    { embeddable: embed },
  );
}

/** The plot at /~owner/fileId, if this request may see it. */
function viewablePlot(core: Core, ctx: Context): Plot | undefined {
  const plot = core.plots.byFile(ctx.params[0] as string, Number(ctx.params[1]));
  return plot && canView(core, ctx.req, ctx.url, plot) ? plot : undefined;
}

/** The plot at /~owner/fileId, or 404 (so private plots stay unseen). */
function findPlot(core: Core, ctx: Context): Plot {
  const plot = viewablePlot(core, ctx);
  if (!plot) throw new HttpError(404, `no plot ~${ctx.params[0]}/${ctx.params[1]} you may see (private plots need the owner's login or the share link)`);
  return plot;
}

/**
 * Where to go after logging in: a path on this server, or "/". The value is parsed as a URL
 * against a stand-in origin, as a browser would resolve it, and kept only when it stays on that
 * origin; what is returned is the parsed path, not the text given ("/\\evil.example" and
 * "/\t/evil.example" resolve to another host in a browser, "/.//evil.example" to a path a
 * browser reads as one).
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/')) return '/';
  const base = 'http://plotwire.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  if (url.origin !== base || url.pathname.startsWith('//')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The session cookie's attributes: HttpOnly always, Secure under TLS (a cookie sent over plain HTTP could be read on the way). */
const cookieAttributes = (core: Core, req: IncomingMessage): string => `HttpOnly; SameSite=Lax; Path=/${isTls(core, req) ? '; Secure' : ''}`;

function loginForm(res: ServerResponse, status: number, next: string, error = ''): void {
  page(
    res,
    status,
    'Log in · plotwire',
    `<main class="page"><h1>Log in to plotwire</h1>${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login?next=${encodeURIComponent(next)}">
<label>User <input name="un" autocomplete="username" required></label>
<label>API key <input name="key" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></main>`,
  );
}

/** oEmbed's default and largest embed size, px: a plot reads well from 640x400 (and lays out from 320x240). */
const OEMBED_SIZE = { width: 640, height: 400, minWidth: 320, minHeight: 240 };

/**
 * oEmbed (https://oembed.com): a site given a plot's link gets the iframe that embeds it. Only a
 * plot the link may see (a private one with its share key); format=xml is not offered (501).
 */
function oembed(core: Core, ctx: Context): void {
  const format = ctx.url.searchParams.get('format') ?? 'json';
  if (format !== 'json') throw new HttpError(501, `oEmbed format ${format.slice(0, 20)} is not offered here: use format=json`);
  const given = ctx.url.searchParams.get('url');
  if (!given) throw new HttpError(400, 'oEmbed needs url= (a plot link such as http://host/~user/1)');
  let link: URL;
  try {
    link = new URL(given);
  } catch {
    throw new HttpError(400, `url is not a link: ${JSON.stringify(given.slice(0, 80))}`);
  }
  const m = /^\/~([A-Za-z0-9_.-]+)\/(\d+)(?:\.embed)?$/.exec(link.pathname);
  const plot = m ? core.plots.byFile(m[1] as string, Number(m[2])) : undefined;
  if (!m || !plot || !canView(core, ctx.req, link, plot)) throw new HttpError(404, `no plot at ${given.slice(0, 100)} you may embed (a private plot needs its share link)`);
  const size = (name: 'maxwidth' | 'maxheight', fallback: number, least: number): number => {
    const max = Number(ctx.url.searchParams.get(name) ?? Infinity);
    return Math.round(Math.max(least, Math.min(fallback, Number.isFinite(max) && max > 0 ? max : fallback)));
  };
  const width = size('maxwidth', OEMBED_SIZE.width, OEMBED_SIZE.minWidth);
  const height = size('maxheight', OEMBED_SIZE.height, OEMBED_SIZE.minHeight);
  const key = link.searchParams.get('share_key');
  const src = `${embedUrl(core, plot)}${key ? `?share_key=${encodeURIComponent(key)}` : ''}`;
  const title = titleOf(plot.layout) ?? plot.filename;
  sendJson(ctx.res, 200, {
    version: '1.0',
    type: 'rich',
    provider_name: 'plotwire',
    provider_url: core.publicUrl,
    title,
    author_name: plot.owner,
    width,
    height,
    html: `<iframe src="${escapeHtml(src)}" width="${width}" height="${height}" title="${escapeHtml(title)}" style="border:0" loading="lazy"></iframe>`,
  });
}

export function webRoutes(core: Core, router: Router): void {
  router.add('GET', /^\/oembed$/, (ctx) => oembed(core, ctx));

  for (const [path, file] of Object.entries(staticFiles)) {
    router.add('GET', new RegExp(`^${path.replace(/\./g, '\\.')}$`), ({ res }) => {
      const body = readFileSync(file.path);
      res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'content-length': body.length, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' });
      res.end(body);
    });
  }

  router.add('GET', /^\/$/, ({ req, res }) => {
    const user = sessionUser(core, req);
    const item = (p: Plot): string => {
      const name = escapeHtml(titleOf(p.layout) ?? p.filename);
      const link = p.worldReadable ? shareUrl(core, p) : `${shareUrl(core, p)}?share_key=${p.shareKey}`;
      return `<li data-plot-id="${p.id}" data-link="${escapeHtml(link)}"><a href="${escapeHtml(shareUrl(core, p))}">${name}</a>${p.worldReadable ? '' : ' (private)'}
<button type="button" data-action="rename" aria-label="Rename ${name}">Rename</button> <button type="button" data-action="delete" aria-label="Delete ${name}">Delete</button> <button type="button" data-action="copy" aria-label="Copy link of ${name}">Copy link</button> <span class="status" role="status"></span></li>`;
    };
    const list = user
      ? `<p>Logged in as ${escapeHtml(user.name)}. <form method="post" action="/logout"><button>Log out</button></form></p><ul class="plots">${core.plots.list(user.id).map(item).join('')}</ul>
<script type="module" src="/static/plots.js"></script>`
      : '<p><a href="/login">Log in</a> to see your plots. Public plots are open to anyone with their link.</p>';
    page(res, 200, 'plotwire', `<main class="page"><h1>plotwire ${escapeHtml(packageVersion)}</h1>
<p>Live plots from sensors. Streams: <code>POST ${escapeHtml(core.streamUrl)}/</code> with a <code>plotly-streamtoken</code> header.</p>${list}</main>`);
  });

  router.add('GET', /^\/login$/, ({ res, url }) => loginForm(res, 200, safeNext(url.searchParams.get('next'))));
  router.add('POST', /^\/login$/, async ({ req, res, url }) => {
    checkOrigin(core, req);
    const form = new URLSearchParams(await readBody(req, 16 * 1024));
    const next = safeNext(url.searchParams.get('next'));
    const user = core.accounts.authenticate(form.get('un') ?? '', form.get('key') ?? '');
    if (!user) return loginForm(res, 401, next, 'That user name and API key do not match.');
    const session = await core.accounts.createSession(user.id);
    res.writeHead(303, { location: next, 'set-cookie': `${SESSION_COOKIE}=${session}; ${cookieAttributes(core, req)}; Max-Age=2592000` });
    res.end();
  });
  router.add('POST', /^\/logout$/, async ({ req, res }) => {
    checkOrigin(core, req);
    const session = cookie(req, SESSION_COOKIE);
    if (session) await core.accounts.endSession(session);
    res.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=; ${cookieAttributes(core, req)}; Max-Age=0` });
    res.end();
  });

  router.add('GET', /^\/~([A-Za-z0-9_.-]+)\/(\d+)$/, (ctx) => servePlot(core, ctx, false));
  router.add('GET', /^\/~([A-Za-z0-9_.-]+)\/(\d+)\.embed$/, (ctx) => servePlot(core, ctx, true));
  router.add('GET', /^\/~([A-Za-z0-9_.-]+)\/(\d+)\.json$/, async (ctx) => {
    const plot = findPlot(core, ctx);
    sendJson(ctx.res, 200, await core.service.figure(plot));
  });
  router.add('GET', /^\/~([A-Za-z0-9_.-]+)\/(\d+)\/range$/, async (ctx) => {
    const plot = findPlot(core, ctx);
    const from = rangeBound(ctx.url, 'from');
    const to = rangeBound(ctx.url, 'to');
    if (from > to) throw new HttpError(400, `from (${from}) is after to (${to})`);
    const columns = Math.min(MAX_RANGE_COLUMNS, Math.max(1, Math.floor(Number(ctx.url.searchParams.get('columns') ?? 1000)) || 1000));
    const limit = Math.floor(MAX_RANGE_POINTS / Math.max(1, plot.traces.length));
    const { store } = core;
    const traces = await Promise.all(plot.traces.map((t) => (t.tokenId === undefined ? null : store.range(t.tokenId, { from, to, limit, columns }))));
    sendJson(ctx.res, 200, { traces });
  });
  router.add('GET', /^\/~([A-Za-z0-9_.-]+)\/(\d+)\/events$/, (ctx) => {
    const plot = findPlot(core, ctx);
    // The browser sends Last-Event-ID when it reconnects; the viewer puts it in the URL when it opens a new EventSource.
    const header = ctx.req.headers['last-event-id'];
    const last = typeof header === 'string' ? header : (ctx.url.searchParams.get('last_event_id') ?? undefined);
    core.fanout.attach(plot, ctx.res, last, (changed) => canView(core, ctx.req, ctx.url, changed));
  });
}
