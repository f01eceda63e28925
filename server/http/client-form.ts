/**
 * The form of Plotly's POST /clientresp, read so that an unauthenticated client cannot make the
 * server hold much. Plotly's clients send their credentials in the body (un, key), and the npm
 * client and plotly.py put them after args, so the body is read as it arrives: credentials in
 * plotly-username/plotly-apikey headers are checked before any of it; otherwise un and key are
 * checked the moment both have arrived whole, and a wrong pair ends the request there. Until then
 * at most UNAUTHENTICATED_LIMIT bytes of one request are held, and of all such requests together
 * at most UNAUTHENTICATED_TOTAL (past it, 503 and Retry-After).
 */
import type { IncomingMessage } from 'node:http';
import type { AccountsEngine } from '../engine.js';
import type { User } from '../store/accounts.js';
import { HttpError, readChunks } from './router.js';

/** Largest /clientresp body, once its sender is known. */
export const FORM_LIMIT = 8 * 1024 * 1024;
/** Bytes of one body held before its un and key have arrived. */
export const UNAUTHENTICATED_LIMIT = 1024 * 1024;
/** Bytes of all bodies held before their un and key have arrived. */
export const UNAUTHENTICATED_TOTAL = 16 * 1024 * 1024;

const FIELDS = ['un', 'key', 'origin', 'platform', 'version', 'args', 'kwargs'];
const MARKER = new RegExp(`(?:^|&)(${FIELDS.join('|')})=`, 'g');

/** Each known field's raw value, and whether it is whole (a later field started, or the body ended). */
function fieldSpans(body: string, ended: boolean): Map<string, { raw: string; whole: boolean }> {
  const out = new Map<string, { raw: string; whole: boolean }>();
  const hits = [...body.matchAll(MARKER)];
  hits.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const next = hits[i + 1];
    out.set(m[1] as string, { raw: body.slice(start, next ? next.index : body.length), whole: next !== undefined || ended });
  });
  return out;
}

/** A value decoded when it is URL-encoded, kept as sent when it is not (the npm client does not encode its JSON). */
function decodeField(name: string, raw: string): string {
  let plainOk = !/%[0-9A-Fa-f]{2}/.test(raw);
  if (name === 'args' || name === 'kwargs') {
    try {
      JSON.parse(raw);
      plainOk = true;
    } catch {
      plainOk = false;
    }
  }
  if (plainOk) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // Not URL-encoded after all: keep it as sent.
    return raw;
  }
}

/**
 * Form fields of a /clientresp body. The npm client does not URL-encode its JSON, so values are
 * split at "&name=" of a known field, and decoded only when they are not already valid as sent.
 */
export function parseClientForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { raw }] of fieldSpans(body, true)) out[name] = decodeField(name, raw);
  return out;
}

/** Bytes held for requests not yet authenticated, across all of them. */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }
}

export type ClientForm = { readonly fields: Record<string, string>; readonly user: User } | { readonly fields: Record<string, string>; readonly user: undefined; readonly name: string };

/**
 * Reads a /clientresp form, authenticating as early as its format allows. Resolves with the
 * fields and the user, or with no user (and the name tried) as soon as the credentials are known
 * to be wrong, the rest of the body unread. Throws HttpError 413 (too large, or too much before
 * the credentials) and 503 (too many unauthenticated bytes held server-wide).
 */
export async function readClientForm(req: IncomingMessage, accounts: AccountsEngine, budget: ByteBudget): Promise<ClientForm> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > FORM_LIMIT) throw new HttpError(413, `request body larger than ${FORM_LIMIT} bytes`);
  let user: User | undefined;
  const headerName = req.headers['plotly-username'];
  const headerKey = req.headers['plotly-apikey'];
  if (typeof headerName === 'string' && typeof headerKey === 'string') {
    user = accounts.authenticate(headerName, headerKey);
    if (!user) return { fields: {}, user: undefined, name: headerName };
  }
  const parts: Buffer[] = [];
  let size = 0;
  let held = 0;
  let refused: string | undefined;
  try {
    await readChunks(req, (chunk) => {
      size += chunk.length;
      if (size > FORM_LIMIT) throw new HttpError(413, `request body larger than ${FORM_LIMIT} bytes`);
      parts.push(chunk);
      if (user) return;
      if (size > UNAUTHENTICATED_LIMIT) {
        throw new HttpError(413, `${UNAUTHENTICATED_LIMIT} bytes of the form arrived before its un and key: send them first, or as plotly-username and plotly-apikey headers`);
      }
      if (!budget.take(chunk.length)) throw new HttpError(503, 'too many forms are arriving before their credentials; try again shortly');
      held += chunk.length;
      const spans = fieldSpans(Buffer.concat(parts).toString('utf8'), false);
      const un = spans.get('un');
      const key = spans.get('key');
      if (!un?.whole || !key?.whole) return;
      const name = decodeField('un', un.raw);
      user = accounts.authenticate(name, decodeField('key', key.raw));
      budget.give(held);
      held = 0;
      if (user) return;
      refused = name;
      return false;
    });
  } finally {
    budget.give(held);
  }
  if (refused !== undefined) return { fields: {}, user: undefined, name: refused };
  const fields = parseClientForm(Buffer.concat(parts).toString('utf8'));
  user ??= accounts.authenticate(fields.un ?? '', fields.key ?? '');
  return user ? { fields, user } : { fields, user: undefined, name: fields.un ?? '' };
}
