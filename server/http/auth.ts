/** Who is asking: API keys (Bearer, or Plotly's username/key headers), browser sessions, share links. */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Core } from '../core.js';
import type { User } from '../store/accounts.js';
import type { Plot } from '../store/plots.js';
import { HttpError } from './router.js';

export const SESSION_COOKIE = 'pw_session';

/** The user of an API request, or 401. */
export function apiUser(core: Core, req: IncomingMessage): User {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    const user = core.accounts.userByKey(auth.slice(7).trim());
    if (user) return user;
    throw new HttpError(401, 'the API key is not valid');
  }
  const name = req.headers['plotly-username'];
  const key = req.headers['plotly-apikey'];
  if (typeof name === 'string' && typeof key === 'string') {
    const user = core.accounts.authenticate(name, key);
    if (user) return user;
    throw new HttpError(401, 'the user name or API key is not valid');
  }
  throw new HttpError(401, 'send an API key: "Authorization: Bearer KEY" (or plotly-username and plotly-apikey)');
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionUser(core: Core, req: IncomingMessage): User | undefined {
  const session = cookie(req, SESSION_COOKIE);
  return session ? core.accounts.userBySession(session) : undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A cookie-authenticated change (log in, log out, an edit from the page) only from this server's
 * own pages: browsers send Origin on every cross-site POST (and Sec-Fetch-Site), so a form on
 * another site is refused with 403 even where SameSite is not enforced. `requireSignal`: a
 * request with neither header is refused too (fetch() always sends Origin on PATCH and DELETE).
 */
export function checkOrigin(core: Core, req: IncomingMessage, requireSignal = false): void {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (origin !== undefined) {
    const own = new Set([new URL(core.publicUrl).origin, `${isTls(core, req) ? 'https' : 'http'}://${req.headers.host ?? ''}`]);
    if (!own.has(origin)) throw new HttpError(403, `a form from ${origin.slice(0, 100)} may not change this server's session (Origin is not this server)`);
  } else if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, `a form from another site may not change this server's session (Sec-Fetch-Site: ${String(site).slice(0, 40)})`);
  } else if (requireSignal && site === undefined) {
    throw new HttpError(403, 'a change made with a login session must come from this server\'s pages (no Origin header); scripts send an API key instead');
  }
}

/** Whether the browser reached this server over TLS (its own, or a proxy's named in --public-url). */
export const isTls = (core: Core, req: IncomingMessage): boolean => (req.socket as { encrypted?: boolean }).encrypted === true || core.publicUrl.startsWith('https:');

/**
 * The user of a plot API request: its API key, or the browser's login session (the owner's
 * editor on the plot's page). A change made with the session must come from this server's pages.
 */
export function apiOrSessionUser(core: Core, req: IncomingMessage): User {
  const session = req.headers.authorization === undefined && req.headers['plotly-username'] === undefined ? sessionUser(core, req) : undefined;
  if (!session) return apiUser(core, req);
  if (req.method !== 'GET' && req.method !== 'HEAD') checkOrigin(core, req, true);
  return session;
}

/** Public plots for all; private ones for their owner's session or the secret share link. */
export function canView(core: Core, req: IncomingMessage, url: URL, plot: Plot): boolean {
  if (plot.worldReadable) return true;
  const key = url.searchParams.get('share_key');
  if (key !== null && sameSecret(key, plot.shareKey)) return true;
  return sessionUser(core, req)?.id === plot.userId;
}
