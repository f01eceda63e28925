/**
 * One connection of a stream client: a chunked POST / (Plotly's streaming protocol) held open
 * and written from a PointWriter, at most one object per window, only while the socket takes it
 * (back-pressure keeps the points in the writer). A bare newline keeps a quiet stream alive; a
 * numbered writer's stored position is asked every ackIntervalMs, which also tells a half-open
 * connection. It resolves with how the POST ended; what to do next is the policy's business.
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { PlotwireError, STREAM_TOKEN_HEADER, STREAM_WRITER_HEADER, statusOf } from '../shared/index.js';
import type { LogRecord } from '../shared/log.js';
import type { PointWriter } from './point-writer.js';
import { describeError, type Outcome } from './stream-policy.js';
import { queryState, StreamStatusError, type StateQuery } from './stream-state.js';

/** The client ended the connection on purpose (close(), or a half-open stream being restarted). */
export class StreamClosedError extends PlotwireError {
  readonly code = 'PW_ERR_STREAM_CLOSED';
}

/** A state query that fails or times out while the stream is open. */
const STATE_TIMEOUT_MS = 5_000;

export interface ConnectionOptions {
  readonly query: StateQuery;
  readonly writer: PointWriter;
  readonly windowMs: number;
  readonly heartbeatMs: number;
  readonly ackIntervalMs: number;
  readonly log: (level: LogRecord['level'], event: string, message: string, fields?: Record<string, unknown>) => void;
  /** The counters this connection moves (the client's stats). */
  readonly counts: { written: number; objects: number; heartbeats: number };
  /** The server confirmed every point before `next` (the periodic state query). */
  readonly confirmed: (next: number) => void;
}

/** Before points may be written: anything to settle first (a new writer's numbering). */
export type BeforeWrites = (answered: () => boolean) => Promise<void>;

export class StreamConnection {
  private body: PassThrough | undefined;
  private readonly abort = new AbortController();
  /** Cancels the pending flush (a timer, or an immediate when one is due now). */
  private cancelFlush: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private lastObjectAt = -Infinity;
  private lastWriteAt = 0;

  constructor(private readonly o: ConnectionOptions) {}

  /** Whether points are being written on it. */
  get open(): boolean {
    return this.body !== undefined;
  }

  /**
   * Opens the POST; once `before` has settled, writes until the stream ends. `opened` runs when
   * the first points may go.
   */
  async run(before: BeforeWrites, opened: () => void): Promise<Outcome> {
    const { query } = this.o;
    const body = new PassThrough();
    const response = request(new URL('/', query.base), {
      method: 'POST',
      headers: { [STREAM_TOKEN_HEADER]: query.token, [STREAM_WRITER_HEADER]: query.writerId },
      body,
      signal: this.abort.signal,
      dispatcher: query.dispatcher,
      // The answer comes only when the stream ends, which may be days away.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    let answered = false;
    void response.then(
      () => (answered = true),
      () => (answered = true),
    );
    // A heartbeat at once: undici sends the request only with the first body bytes, and the server
    // should know this stream (and end an older one on the token) now, not at the first point.
    body.write('\n');
    try {
      await before(() => answered);
    } catch (err) {
      this.cancel(new StreamClosedError('the stream was not needed any more'));
      body.destroy();
      return outcomeOf(err);
    }
    // Only now may points be written on it: they are numbered.
    this.body = body;
    opened();
    this.lastWriteAt = Date.now();
    this.schedule();
    this.armHeartbeat();
    if (this.o.writer.sequence) this.armAck();
    try {
      const res = await response;
      const text = await res.body.text().catch(() => '');
      return { kind: 'status', status: res.statusCode, body: text, from: 'stream' };
    } catch (err) {
      return { kind: 'error', error: err as Error };
    } finally {
      this.clearTimers();
      body.destroy();
      this.body = undefined;
      this.o.writer.rewind();
    }
  }

  /** Makes sure a flush is due when there is something to send. */
  schedule(): void {
    if (this.cancelFlush || !this.body || !this.o.writer.pending) return;
    const wait = Math.max(0, this.lastObjectAt + this.o.windowMs - performance.now());
    if (wait > 0) {
      const timer = setTimeout(this.flush, wait);
      this.cancelFlush = () => clearTimeout(timer);
    } else {
      // Due now: after the current burst of pushes (a serial read's lines), not at its first point.
      const immediate = setImmediate(this.flush);
      this.cancelFlush = () => clearImmediate(immediate);
    }
  }

  /** Writes what is held (one object per window) until done, the stream breaks or the deadline; then ends the body. */
  async finish(deadline: number): Promise<void> {
    const body = this.body;
    if (!body) return this.cancel(new StreamClosedError('the client closed'));
    while (Date.now() < deadline && this.body === body) {
      this.o.writer.seal();
      if (!this.o.writer.pending) break;
      this.schedule();
      await sleep(this.o.windowMs + 1);
    }
    this.clearTimers();
    body.end();
  }

  /** Ends the connection at once (close's deadline passed, or the stream is half-open). */
  cancel(reason: PlotwireError): void {
    this.abort.abort(reason);
  }

  private readonly flush = (): void => {
    this.cancelFlush = undefined;
    const body = this.body;
    if (!body) return;
    // Back-pressure: the points stay in the writer until the socket drains.
    if (body.writableNeedDrain) {
      body.once('drain', () => this.schedule());
      return;
    }
    const object = this.o.writer.take();
    if (object) {
      body.write(object.line);
      this.o.counts.written += object.points;
      this.o.counts.objects++;
      this.lastObjectAt = performance.now();
      this.lastWriteAt = Date.now();
    }
    this.schedule();
  };

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    const due = this.lastWriteAt + this.o.heartbeatMs - Date.now();
    this.heartbeatTimer = setTimeout(() => {
      const body = this.body;
      if (!body) return;
      if (Date.now() - this.lastWriteAt >= this.o.heartbeatMs) {
        body.write('\n');
        this.o.counts.heartbeats++;
        this.lastWriteAt = Date.now();
      }
      this.armHeartbeat();
    }, Math.max(0, due));
  }

  private armAck(): void {
    this.ackTimer = setTimeout(async () => {
      const sequence = this.o.writer.sequence;
      if (!this.body || !sequence) return;
      if (sequence.unconfirmed > 0) {
        try {
          this.o.confirmed((await queryState(this.o.query, STATE_TIMEOUT_MS)).next);
        } catch (err) {
          if (!this.body) return;
          if (err instanceof StreamStatusError && statusOf(err.status)?.writer === 'stop') {
            // The token went away under an open stream: the stream's own answer will say so.
            this.o.log('warn', 'state', `state query answered ${err.message}`);
          } else {
            const why = describeError(err as Error);
            this.o.log('warn', 'state', `state query failed (${why}); reopening the stream`);
            this.cancel(new StreamClosedError(`the stream may be half-open (the state query failed: ${why})`));
            return;
          }
        }
      }
      if (this.body) this.armAck();
    }, this.o.ackIntervalMs);
  }

  private clearTimers(): void {
    this.cancelFlush?.();
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.ackTimer);
    this.cancelFlush = this.heartbeatTimer = this.ackTimer = undefined;
  }
}

/** A failed state query (or wait) as an outcome: its status, or the error. */
export function outcomeOf(err: unknown): Outcome {
  return err instanceof StreamStatusError
    ? { kind: 'status', status: err.status, body: err.serverMessage, from: 'state query' }
    : { kind: 'error', error: err as Error };
}
