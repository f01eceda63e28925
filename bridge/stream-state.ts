/**
 * plotwire's state query (GET STREAM_STATE_PATH): how far the server has stored a token (every
 * seq below `next`) and whose stream holds it. A new writer waits until its own stream holds the
 * token before it takes the count, so an older writer's last points cannot be taken for its own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import {
  PlotwireError,
  STREAM_STATE_PATH,
  STREAM_TOKEN_HEADER,
  STREAM_WRITER_HEADER,
  parseJson,
  statusOf,
  validateStreamState,
  type StreamState,
} from '../shared/index.js';
import { errorText } from './stream-policy.js';

/** A status that ended a stream or answered a state query, with the server's reason when it gave one. */
export class StreamStatusError extends PlotwireError {
  readonly code = 'PW_ERR_STREAM_STATUS';
  constructor(
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`server answered ${status}${statusOf(status) ? ` ${statusOf(status)?.name}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`);
  }
}

/** The server did not answer in time (a state query, or the wait for the token). */
export class StreamTimeoutError extends PlotwireError {
  readonly code = 'PW_ERR_STREAM_TIMEOUT';
}

export interface StateQuery {
  readonly base: URL;
  readonly token: string;
  /** This client's name for itself on the server (STREAM_WRITER_HEADER). */
  readonly writerId: string;
  readonly dispatcher: Dispatcher | undefined;
}

/** How often a new client asks whether its stream holds the token yet. */
const OWNED_POLL_MS = 20;

/** How far the server has stored this token, and whose stream holds it. */
export async function queryState(q: StateQuery, timeoutMs: number): Promise<StreamState> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new StreamTimeoutError(`the state query got no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    const res = await request(new URL(STREAM_STATE_PATH, q.base), {
      method: 'GET',
      headers: { [STREAM_TOKEN_HEADER]: q.token, [STREAM_WRITER_HEADER]: q.writerId },
      dispatcher: q.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: abort.signal,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new StreamStatusError(res.statusCode, errorText(text));
    return validateStreamState(parseJson('stream state', text));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The server's count once this client's stream holds the token (at once from a server that
 * does not say who holds it, or when the stream was already answered: its status then tells).
 */
export async function countWhenOwned(q: StateQuery, timeoutMs: number, answered: () => boolean): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await queryState(q, timeoutMs);
    if (state.writer === undefined || state.writer === q.writerId || answered()) return state.next;
    if (Date.now() > deadline) throw new StreamTimeoutError(`the server did not give this stream token ${q.token} within ${timeoutMs} ms`);
    await sleep(OWNED_POLL_MS);
  }
}
