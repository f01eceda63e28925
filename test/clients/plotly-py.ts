/**
 * plotly.py 1.x's streaming writer (plotly.plotly.Stream over chunked_requests.Stream), as it
 * builds its bytes: http.client's request line and its own Host and Accept-Encoding, then
 * plotly.py's headers (a second Host); each write one chunk sized by Python's len() in lowercase
 * hex; json.dumps' spacing with NaN and Infinity bare; a heartbeat is "\n"; close() sends
 * "\r\n0\r\n\r\n".
 */

/** json.dumps(value) with Python's defaults (", ", ": ", allow_nan, ensure_ascii). */
export function pyDumps(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : String(value);
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{${Object.entries(value).map(([k, v]) => `${pyDumps(k)}: ${pyDumps(v)}`).join(', ')}}`;
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class PlotlyPyStream {
  constructor(
    private readonly token: string,
    /** plotly_streaming_domain, and the port chunked_requests connects to (always 80 in 1.x). */
    private readonly domain: string,
    private readonly port = 80,
  ) {}

  /** Stream.open(): the request head. */
  open(): string {
    const host = this.port === 80 ? this.domain : `${this.domain}:${this.port}`;
    return `POST / HTTP/1.1\r\nHost: ${host}\r\nAccept-Encoding: identity\r\nTransfer-Encoding: chunked\r\nHost: ${this.domain}\r\nplotly-streamtoken: ${this.token}\r\n\r\n`;
  }

  /** Stream.write(obj): json.dumps(obj) + "\n" as one chunk; write(null) is a heartbeat. */
  write(object: Record<string, unknown> | null): string {
    const msg = object === null ? '\n' : `${pyDumps(object)}\n`;
    return `${[...msg].length.toString(16)}\r\n${msg}\r\n`;
  }

  close(): string {
    return '\r\n0\r\n\r\n';
  }
}
