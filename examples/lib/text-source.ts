/**
 * JSON records from a public text stream, kept open: server-sent events (Mastodon's streaming
 * API, Wikimedia's EventStreams), NDJSON over HTTP, a WebSocket of JSON messages (Bluesky's
 * Jetstream), or NDJSON on standard input. A dropped connection is reopened with backoff,
 * resuming where the stream allows it (SSE's Last-Event-ID, Jetstream's cursor).
 */
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { PlotwireError } from 'plotwire';
import WebSocket from 'ws';

export interface TextSourceOptions {
  /** An http(s) or ws(s) URL, or "-" for standard input. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** SSE event types counted (an event without a type is "message"). */
  readonly events: readonly string[];
  /** A longer record is skipped whole, so one bad line cannot take the memory. */
  readonly maxRecordBytes: number;
  readonly onRecord: (record: Record<string, unknown>) => void;
  /** What happened to the connection, in a line for a person. */
  readonly onNote: (line: string) => void;
}

export interface TextSourceStats {
  records: number;
  /** Lines or events that were not a JSON object (a Mastodon "delete" carries a bare id). */
  notObjects: number;
  tooLong: number;
  connections: number;
}

const [FIRST_DELAY_MS, MAX_DELAY_MS] = [1000, 30_000];

/** Refused for now (a 5xx, 408 or 429): tried again after the backoff. */
export class SourceUnavailableError extends PlotwireError {
  readonly code = 'PW_ERR_SOURCE_UNAVAILABLE';

  constructor(status: number) {
    super(`answered ${status}`);
  }
}

/** Refused for good: retrying the same request would get the same answer. */
export class SourceRefusedError extends PlotwireError {
  readonly code = 'PW_ERR_SOURCE_REFUSED';

  constructor(url: string, status: number, body: string) {
    super(`${url} answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

/**
 * A feed of newline-separated text: each whole line to onLine, a line longer than maxChars
 * skipped to its end (onTooLong once), so memory stays bounded whatever the source sends.
 */
export function lineFeed(maxChars: number, onLine: (line: string) => void, onTooLong: () => void): (text: string) => void {
  let pending = '';
  let skipping = false;
  return (text) => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = pending + text.slice(start, nl);
      if (!skipping && line.length <= maxChars) onLine(line);
      else if (!skipping) onTooLong();
      [pending, skipping, start] = ['', false, nl + 1];
    }
    if (skipping) return;
    pending += text.slice(start);
    if (pending.length > maxChars) {
      onTooLong();
      [pending, skipping] = ['', true];
    }
  };
}

export class TextSource {
  readonly stats: TextSourceStats = { records: 0, notObjects: 0, tooLong: 0, connections: 0 };
  private readonly abort = new AbortController();
  private lastEventId: string | undefined;
  private cursorUs: number | undefined;
  private delayMs = FIRST_DELAY_MS;
  private baseDelayMs = FIRST_DELAY_MS;

  constructor(private readonly options: TextSourceOptions) {}

  /** Reads until stop(); rejects only when the source refuses for good (a 4xx). */
  async run(): Promise<void> {
    if (this.options.url === '-') return this.readStdin();
    while (!this.abort.signal.aborted) {
      const before = this.stats.records;
      try {
        this.stats.connections++;
        await (/^wss?:/i.test(this.options.url) ? this.readWebSocket() : this.readHttp());
        if (!this.abort.signal.aborted) this.options.onNote(`${this.options.url} ended the stream`);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof SourceRefusedError) throw err;
        this.options.onNote(`${this.options.url}: ${(err as Error).message}`);
      }
      if (this.stats.records > before) this.delayMs = this.baseDelayMs;
      if (this.abort.signal.aborted) return;
      this.options.onNote(`reconnecting in ${(this.delayMs / 1000).toFixed(1)} s`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, this.delayMs);
        this.abort.signal.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true });
      });
      this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
    }
  }

  stop(): void {
    this.abort.abort();
  }

  private async readHttp(): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream, application/x-ndjson;q=0.9, */*;q=0.5', ...this.options.headers };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const res = await fetch(this.options.url, { headers, signal: this.abort.signal });
    if (!res.ok || !res.body) {
      const body = (await res.text().catch(() => '')).trim();
      throw this.refusal(res.status, body);
    }
    const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const feed = sse ? this.sseFeed() : this.lineFeed();
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) feed(decoder.decode(chunk, { stream: true }));
  }

  private readWebSocket(): Promise<void> {
    const url = new URL(this.options.url);
    if (this.cursorUs !== undefined) url.searchParams.set('cursor', String(this.cursorUs));
    const socket = new WebSocket(url, { headers: this.options.headers, maxPayload: this.options.maxRecordBytes });
    const stop = (): void => socket.close();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    return new Promise((resolve, reject) => {
      socket.on('message', (data) => this.take(String(data)));
      socket.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        socket.terminate();
        reject(this.refusal(status, ''));
      });
      socket.on('error', (err) => {
        // ws's own limit, as the bound on a record.
        if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.stats.tooLong++;
        reject(err);
      });
      socket.on('close', () => {
        this.abort.signal.removeEventListener('abort', stop);
        resolve();
      });
    });
  }

  private async readStdin(): Promise<void> {
    const feed = this.lineFeed();
    process.stdin.setEncoding('utf8');
    this.abort.signal.addEventListener('abort', () => process.stdin.destroy(), { once: true });
    for await (const chunk of process.stdin) feed(chunk as string);
  }

  /** A feed of SSE text; one parser per connection, as the format's state ends with it. */
  private sseFeed(): (text: string) => void {
    const parser: EventSourceParser = createParser({
      maxBufferSize: this.options.maxRecordBytes,
      onEvent: (event) => {
        if (event.id !== undefined) this.lastEventId = event.id;
        if (this.options.events.includes(event.event ?? 'message')) this.take(event.data);
      },
      onRetry: (ms) => {
        this.baseDelayMs = Math.min(Math.max(ms, 100), MAX_DELAY_MS);
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') this.stats.tooLong++;
      },
    });
    return (text) => parser.feed(text);
  }

  /** A 4xx other than 408 and 429 is for good; anything else is worth another try. */
  private refusal(status: number, body: string): SourceRefusedError | SourceUnavailableError {
    return status >= 400 && status < 500 && status !== 408 && status !== 429 ? new SourceRefusedError(this.options.url, status, body) : new SourceUnavailableError(status);
  }

  private lineFeed(): (text: string) => void {
    return lineFeed(this.options.maxRecordBytes, (line) => this.take(line), () => this.stats.tooLong++);
  }

  private take(text: string): void {
    if (text.trim() === '') return;
    if (Buffer.byteLength(text) > this.options.maxRecordBytes) {
      this.stats.tooLong++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.stats.notObjects++;
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.time_us === 'number') this.cursorUs = record.time_us;
    this.stats.records++;
    this.options.onRecord(record);
  }
}
