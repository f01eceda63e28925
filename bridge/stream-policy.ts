/**
 * What a stream client does when a connection ends, as one pure function of how it ended and the
 * client's state (undici's lib/handler/retry-handler.js): retry after N ms, or stop with a reason.
 * It decides by status code and error code, never by message text, and is replaceable through
 * StreamClientOptions.policy.
 */
import { errors as undiciErrors } from 'undici';
import { PlotwireError, statusOf } from '../shared/index.js';

/** How a connection attempt ended: a status from the state query or the stream, or an error. */
export type Outcome =
  | { readonly kind: 'status'; readonly status: number; readonly body: string; readonly from: 'state query' | 'stream' }
  | { readonly kind: 'error'; readonly error: Error };

export interface PolicyState {
  readonly token: string;
  /** Failed attempts in a row (1 for the first failure). */
  readonly attempt: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** Why a client stopped for good, for programs (the status says more: 449 is a takeover). */
export type StopKind = 'takeover' | 'rejected' | 'refused';

export type Decision =
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      /** Whether the attempt counts as an error in the client's stats. */
      readonly error: boolean;
      readonly log: { readonly level: 'info' | 'warn'; readonly event: string; readonly message: string; readonly status?: number };
    }
  | { readonly action: 'stop'; readonly kind: StopKind; readonly status: number; readonly reason: string };

export type StreamPolicy = (outcome: Outcome, state: PolicyState) => Decision;

/** Exponential backoff with full jitter, never below half the first delay. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(minMs / 2 + random() * (ceiling - minMs / 2));
}

/** plotwire's policy: shared/status.ts says per status whether a writer reconnects, stops or has a bug. */
export const defaultPolicy: StreamPolicy = (outcome, state) => {
  const delayMs = backoffDelay(state.attempt, state.minBackoffMs, state.maxBackoffMs);
  if (outcome.kind === 'error') {
    const why = describeError(outcome.error);
    return { action: 'retry', delayMs, error: true, log: { level: 'warn', event: 'disconnected', message: `stream broke: ${why}` } };
  }
  const { status, from } = outcome;
  const info = statusOf(status);
  const name = `${status}${info ? ` ${info.name}` : ''}`;
  if (status === 449) {
    return {
      action: 'stop',
      kind: 'takeover',
      status,
      reason: `another connection took over token ${state.token} (449); not fighting it: this client stopped sending (restart it to take the token back)`,
    };
  }
  if (status === 200) {
    return { action: 'retry', delayMs, error: false, log: { level: 'info', event: 'ended', message: `server ended the stream (${name}); reconnecting`, status } };
  }
  const answered = from === 'stream' ? 'server ended the stream with' : 'server answered the state query with';
  const why = `${name}: ${errorText(outcome.body) || info?.meaning || 'unknown status'}`;
  if (info?.writer === 'reconnect' || (!info && status >= 500)) {
    return { action: 'retry', delayMs, error: true, log: { level: 'warn', event: 'status', message: `${answered} ${why}; reconnecting`, status } };
  }
  if (info?.writer === 'fix') return { action: 'stop', kind: 'rejected', status, reason: `${answered} ${why} (a writer bug: please report it); stopped` };
  return { action: 'stop', kind: 'refused', status, reason: `server refused token ${state.token} with ${why}; stopped` };
};

/** The server's reason from a JSON error body {"error": ...}, else the text itself (short). */
export function errorText(body: string): string {
  const text = body.trim();
  if (!text) return '';
  try {
    const value = JSON.parse(text) as { error?: unknown; message?: unknown };
    const reason = value.error ?? value.message;
    if (typeof reason === 'string') return reason;
  } catch {
    // Not JSON: show it as it is.
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** A connection failure in words, chosen by its code (node's errno, undici's UND_ERR_*, plotwire's PW_ERR_*). */
export function describeError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (err instanceof PlotwireError) return err.message;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running?)';
    case 'UND_ERR_SOCKET':
      return `connection lost (${err.message})`;
    case 'UND_ERR_ABORTED':
      return 'aborted';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'no answer in time';
  }
  if (err instanceof undiciErrors.UndiciError) return `${err.message} (${String(code)})`;
  return typeof code === 'string' ? `${err.message} (${code})` : err.message;
}
