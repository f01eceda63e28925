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

/** Public plots for all; private ones for their owner's session or the secret share link. */
export function canView(core: Core, req: IncomingMessage, url: URL, plot: Plot): boolean {
  if (plot.worldReadable) return true;
  const key = url.searchParams.get('share_key');
  if (key !== null && sameSecret(key, plot.shareKey)) return true;
  return sessionUser(core, req)?.id === plot.userId;
}
