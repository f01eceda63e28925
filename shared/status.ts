/**
 * Status codes of the streaming endpoint. The Plotly ones keep the meaning Plotly's clients
 * know; plotwire adds only codes HTTP already defines, and marks them.
 */

export interface StatusCode {
  readonly code: number;
  readonly name: string;
  /** What the code means to a writer. */
  readonly meaning: string;
  /** What a well-behaved writer (the bridge) does when it gets it. */
  readonly writer: 'reconnect' | 'stop' | 'fix';
  /** False for plotwire's additions. */
  readonly plotly: boolean;
}

const table = [
  { code: 200, name: 'OK', meaning: 'Healthy endpoint disconnect: the server closed the stream normally.', writer: 'reconnect', plotly: true },
  { code: 308, name: 'Stream Ended', meaning: 'The stream had already ended (the writer wrote after the close).', writer: 'reconnect', plotly: true },
  { code: 400, name: 'Bad Request', meaning: 'Malformed request (bad chunk framing, bad HTTP).', writer: 'fix', plotly: true },
  { code: 403, name: 'Forbidden', meaning: 'The token is no longer associated with this plot (revoked, or its plot deleted).', writer: 'stop', plotly: true },
  { code: 404, name: 'Not Found', meaning: 'The token is not registered.', writer: 'stop', plotly: true },
  { code: 405, name: 'Method Not Allowed', meaning: 'Streams must be sent with POST.', writer: 'fix', plotly: true },
  { code: 406, name: 'Not Acceptable', meaning: 'The plotly-streamtoken header is missing.', writer: 'stop', plotly: true },
  { code: 408, name: 'Request Timeout', meaning: 'No byte (not even a heartbeat) arrived within the idle timeout.', writer: 'reconnect', plotly: true },
  { code: 413, name: 'Content Too Large', meaning: 'A stream line exceeded MAX_STREAM_LINE bytes, or the layout it carried would exceed MAX_LAYOUT; nothing after it was read.', writer: 'fix', plotly: false },
  { code: 422, name: 'Unprocessable Content', meaning: 'A line was not valid JSON or not a valid stream object; the answer names the line and the rule.', writer: 'fix', plotly: true },
  { code: 423, name: 'Locked', meaning: 'Connection limit for this token reached.', writer: 'reconnect', plotly: true },
  { code: 449, name: 'Retry With', meaning: 'Stream content changed: another connection took over this token.', writer: 'stop', plotly: true },
  { code: 500, name: 'Internal Server Error', meaning: 'The server failed; what it reported as stored is kept.', writer: 'reconnect', plotly: true },
  { code: 503, name: 'Service Unavailable', meaning: 'The server is starting, stopping or overloaded, or its database refuses writes; `next` says what is stored, resend from there.', writer: 'reconnect', plotly: true },
  { code: 520, name: 'Request Stream Error', meaning: 'The request stream broke (connection reset mid-body).', writer: 'reconnect', plotly: true },
] as const satisfies readonly StatusCode[];

export type StreamStatus = (typeof table)[number]['code'];

export const statusCodes: readonly StatusCode[] = table;

const byCode = new Map<number, StatusCode>(table.map((s) => [s.code, s]));

/** The entry for a status code, or undefined for one the protocol does not use. */
export function statusOf(code: number): StatusCode | undefined {
  return byCode.get(code);
}
