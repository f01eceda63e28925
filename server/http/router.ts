/** A small router for node:http with typed errors and bounded bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PlotwireError } from '../../shared/errors.js';
import { MAX_JSON_DEPTH } from '../../shared/limits.js';
import { nestedDeeperThan } from '../../shared/validate.js';

export class HttpError extends PlotwireError {
  readonly code = 'PW_ERR_HTTP';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The route pattern's capture groups, decoded. */
  readonly params: string[];
}

type Handler = (ctx: Context) => unknown;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  /** Handles a request; false when no route matches its path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = requestUrl(req.url ?? '/');
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) continue;
      const params = m.slice(1).map((p) => decodePathPart(p ?? ''));
      await route.handler({ req, res, url, params });
      return true;
    }
    if (pathMatched) throw new HttpError(405, `${req.method} is not allowed here`);
    return false;
  }
}

/**
 * The request target as a URL. Resolving it against a base would read "//x" as a host (or fail
 * on "//"); an origin-form target is a path, so it is appended to the base instead.
 */
function requestUrl(target: string): URL {
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  } catch {
    throw new HttpError(400, `the request target is not a path or a URL: ${JSON.stringify(target.slice(0, 80))}`);
  }
}

/** A path segment decoded, or 400 for bad percent-encoding (decodeURIComponent throws a URIError). */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `the path has a malformed percent-encoding: ${JSON.stringify(part.slice(0, 80))}`);
  }
}

/**
 * An answer given before the request's body was read (refused early): the connection closes after
 * it instead of node:http reading the rest to throw it away, which could be megabytes, or never
 * end. Whatever still arrives is dropped until the socket is destroyed a moment later.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  res.shouldKeepAlive = false;
  res.once('finish', () => {
    const socket = req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The client closed its connection before its request body arrived (nobody to answer). */
export class ClientGoneError extends PlotwireError {
  readonly code = 'PW_ERR_CLIENT_GONE';
}

/**
 * Reads a request body chunk by chunk until `take` returns false (enough: the rest stays unread)
 * or throws (refused). Unlike `for await`, stopping early leaves the request intact, so the
 * refusal can still be answered.
 */
export function readChunks(req: IncomingMessage, take: (chunk: Buffer) => boolean | void): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (err?: unknown): void => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      req.pause();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      try {
        if (take(chunk) === false) stop();
      } catch (err) {
        stop(err);
      }
    };
    const onEnd = (): void => stop();
    const onClose = (): void => stop(new ClientGoneError('the client closed the connection before its request body arrived'));
    req.on('data', onData).on('end', onEnd).on('close', onClose);
    req.resume();
  });
}

/** The request body, refused with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  await readChunks(req, (chunk) => {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    parts.push(chunk);
  });
  return Buffer.concat(parts).toString('utf8');
}

/** The body as a JSON object; an empty body is {} when `emptyOk` (a POST whose fields are all optional). */
export async function readJson(req: IncomingMessage, limit: number, emptyOk = false): Promise<Record<string, unknown>> {
  const text = await readBody(req, limit);
  if (emptyOk && text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'the body must be a JSON object');
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) throw new HttpError(400, `the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value as Record<string, unknown>;
}
