/**
 * One open stream: the decoded body bytes of a POST / for one token, turned into lines, checked
 * and applied. It knows nothing of sockets, so the forgiving raw parser and node:http feed it alike.
 */
import { MAX_STREAM_LINE, ProtocolError, decodeStreamLine, statusOf } from '../../shared/index.js';
import { StoreUnavailableError } from '../data/point-store.js';
import { LayoutError } from '../data/layout.js';
import { LineTooLongError, StreamLineFramer } from './stream-line-framer.js';

/** How a stream ended: the status and the JSON body the writer gets. */
export interface StreamEnd {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** What a session needs from the server: applying objects and letting go of its token. */
export interface SessionHost {
  /** Applies one stream object; returns the points it added. */
  apply(object: import('../../shared/index.js').StreamObject): number;
  /** Stored position after flushing, for the final answer. */
  committedNext(): number;
  release(session: StreamSession): void;
}

export function streamEnd(status: number, detail: Record<string, unknown> = {}): StreamEnd {
  return { status, body: { status, message: statusOf(status)?.meaning ?? 'error', ...detail } };
}

export class StreamSession {
  private readonly lines: StreamLineFramer;
  private lineNo = 0;
  private points = 0;
  private idle: NodeJS.Timeout;
  private finished = false;
  /** The writer's name for itself (STREAM_WRITER_HEADER), when it gave one. */
  writer: string | null = null;

  constructor(
    readonly tokenId: number,
    private readonly host: SessionHost,
    private readonly idleTimeoutMs: number,
    private readonly finish: (end: StreamEnd) => void,
  ) {
    this.lines = new StreamLineFramer(MAX_STREAM_LINE, (line) => this.line(line));
    this.idle = setTimeout(() => this.timeout(), idleTimeoutMs);
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Any byte from the writer, framing included, keeps the stream alive. */
  activity(): void {
    this.idle.refresh();
  }

  /** Decoded body bytes. */
  data(buf: Buffer): void {
    if (this.finished) return;
    this.activity();
    try {
      this.lines.push(buf);
    } catch (err) {
      this.fail(err);
    }
  }

  /** The writer ended its body: a last line without newline counts, then 200. */
  endOfBody(): void {
    if (this.finished) return;
    try {
      const rest = this.lines.rest;
      if (rest.trim() !== '') this.line(rest);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!this.finished) this.end(streamEnd(200, this.summary()));
  }

  /** Ends the stream with a status (takeover, revoke, shutdown, framing errors). */
  end(end: StreamEnd): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idle);
    this.host.release(this);
    this.finish(end);
  }

  summary(): Record<string, unknown> {
    return { lines: this.lineNo, points: this.points, next: this.host.committedNext() };
  }

  private line(text: string): void {
    if (this.finished) return;
    this.lineNo++;
    const decoded = decodeStreamLine(text.endsWith('\r') ? text.slice(0, -1) : text);
    if (decoded.kind === 'object') this.points += this.host.apply(decoded.object);
  }

  private timeout(): void {
    this.end(streamEnd(408, { error: `no data or heartbeat for ${this.idleTimeoutMs} ms`, ...this.summary() }));
  }

  private fail(err: unknown): void {
    const at = { line: this.lineNo };
    if (err instanceof ProtocolError || err instanceof LayoutError) {
      const detail = err instanceof ProtocolError ? { field: err.field, rule: err.rule } : {};
      this.end(streamEnd(422, { error: err.message, ...at, ...detail, ...this.summary() }));
    } else if (err instanceof LineTooLongError) {
      this.end(streamEnd(413, { error: `line ${this.lineNo + 1} is longer than ${err.limit} bytes`, line: this.lineNo + 1, ...this.summary() }));
    } else if (err instanceof StoreUnavailableError) {
      this.end(streamEnd(503, { error: err.message, ...at, ...this.summary() }));
    } else {
      this.end(streamEnd(500, { error: err instanceof Error ? err.message : String(err), ...at }));
    }
  }
}
