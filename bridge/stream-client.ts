/**
 * StreamClient: one token's live stream to a plotwire (or Plotly-compatible) server.
 *
 * Points pushed in are held in a memory-budgeted buffer and written as one chunked HTTP POST
 * (Plotly's streaming protocol) at most one object per window, every point of the window in a
 * batch-append object numbered with plotwire's `seq`. A bare newline keeps a quiet stream alive.
 * After any break it asks the server how far it stored (GET STREAM_STATE_PATH) and resends from
 * there, so nothing is lost and nothing doubled. Status codes are acted on as shared/status.ts
 * says: reconnect with exponential backoff and jitter, or stop the token and say why; when another
 * connection takes the token over (449) it stops rather than fight for it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { request, errors, type Dispatcher } from 'undici';
import {
  HEARTBEAT_INTERVAL_MS,
  IDLE_TIMEOUT_MS,
  STREAM_STATE_PATH,
  STREAM_TOKEN_HEADER,
  STREAM_WRITER_HEADER,
  WRITE_INTERVAL_MS,
  formatPlotlyDate,
  statusOf,
  validateStreamState,
  type StreamState,
} from '../shared/index.js';
import type { DateZone } from '../shared/dates.js';
import { takeBatch } from './batch.js';
import { decimate, type DecimateMode } from './decimate.js';
import type { LogRecord } from './log.js';
import { PointBuffer, type PointStyle, type XValue } from './point-buffer.js';

export type { PointStyle, XValue } from './point-buffer.js';
export type { DecimateMode } from './decimate.js';

export interface StreamClientOptions {
  /** The server's base URL, e.g. "http://localhost:8080". */
  readonly server: string | URL;
  readonly token: string;
  /** Most one object per this many ms (default WRITE_INTERVAL_MS, 50). */
  readonly windowMs?: number;
  /** A bare newline after this long without a write (default HEARTBEAT_INTERVAL_MS; < IDLE_TIMEOUT_MS). */
  readonly heartbeatMs?: number;
  /** Memory budget of unstored points, in bytes (default 32 MiB); when full the oldest are dropped. */
  readonly bufferBytes?: number;
  /** Backoff between reconnects: first delay and ceiling, in ms (defaults 250 and 15000). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * How often an open stream asks how far the server stored, to free the buffer and to notice a
   * half-open connection (default 5000: a request a second per token was a tenth of the bridge's
   * CPU at 1 kHz; five seconds of points held is little memory).
   */
  readonly ackIntervalMs?: number;
  /**
   * Legacy mode, for a Plotly endpoint without the batch extension: one point per window, chosen
   * by this rule. LOSES points (see decimate.ts); no seq, so no resume either.
   */
  readonly decimate?: DecimateMode;
  /** undici dispatcher (default: undici's global agent). */
  readonly dispatcher?: Dispatcher;
  /**
   * Send numeric x values (ms since the epoch, e.g. Date.now()) as Plotly date strings
   * "YYYY-MM-DD HH:MM:SS.ffffff", in local time or UTC. String x values go as they are.
   */
  readonly dateX?: DateZone;
}

export type StreamClientState =
  /** Created, start() not called yet. */
  | 'idle'
  /** Asking the server's state or opening the POST. */
  | 'connecting'
  /** The POST is open and being written. */
  | 'streaming'
  /** Waiting to reconnect (backoff). */
  | 'waiting'
  /** close() is flushing. */
  | 'closing'
  | 'closed'
  /** Stopped for good by a status (404, 403, 406, 449, 4xx): see stopReason. */
  | 'stopped';

export interface StreamClientStats {
  readonly token: string;
  readonly state: StreamClientState;
  /** Points given to push(). */
  readonly pushed: number;
  /** Points written on a stream (a point resent after a break counts again). */
  readonly written: number;
  /** Points the server confirmed stored (batch mode). */
  readonly stored: number;
  /** Points held, not yet confirmed stored. */
  readonly buffered: number;
  readonly bufferedBytes: number;
  /** Points dropped: buffer budget full, token stopped, or decimated away in legacy mode. */
  readonly dropped: number;
  readonly objects: number;
  readonly heartbeats: number;
  /** Connections opened after the first. */
  readonly reconnects: number;
  /** Failed connections and error statuses. */
  readonly errors: number;
  /** The last status the server answered the stream with. */
  readonly lastStatus: number | undefined;
  readonly stopReason: string | undefined;
}

export interface StreamClientEvents {
  log: [LogRecord];
  state: [StreamClientState];
  /** Stopped for good: the status (449 for a takeover) and why, in words. */
  stopped: [{ status: number | undefined; reason: string }];
}

/** A status that ended a stream, with the server's reason when it gave one. */
export class StreamStatusError extends Error {
  override readonly name = 'StreamStatusError';
  constructor(
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`server answered ${status}${statusOf(status) ? ` ${statusOf(status)?.name}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`);
  }
}

const DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024;
/** A connection up this long resets the backoff. */
const STABLE_MS = 5_000;
const STATE_TIMEOUT_MS = 5_000;
/** How often a new client asks whether its stream holds the token yet. */
const OWNED_POLL_MS = 20;
/** Legacy mode keeps this many decimated objects while they cannot go out... */
const LEGACY_BACKLOG = 2;
/** ...made from windows of at most this many points (a window is 50 ms while objects go out). */
const LEGACY_MAX_WINDOW = 1024;

/** How a connection attempt ended: a status from the state query or the stream, or an error. */
type Outcome = { status: number; body: string; from: 'state query' | 'stream' } | { error: Error };

export class StreamClient extends EventEmitter<StreamClientEvents> {
  readonly token: string;
  private readonly base: URL;
  private readonly windowMs: number;
  private readonly heartbeatMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly ackIntervalMs: number;
  private readonly mode: DecimateMode | undefined;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly dates: DateZone | undefined;
  private readonly buffer: PointBuffer;
  /** This client's name for itself on the server (STREAM_WRITER_HEADER). */
  private readonly writerId = randomUUID();

  private state_: StreamClientState = 'idle';
  private stopReason: string | undefined;
  private body: PassThrough | undefined;
  private abort: AbortController | undefined;
  /** Cancels the pending flush (a timer, or an immediate when one is due now). */
  private cancelFlush: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastObjectAt = -Infinity;
  private lastWriteAt = 0;
  private attempt = 0;
  private synced = false;
  private closing = false;
  // Legacy mode: the current window's points and decimated objects waiting to go.
  private windowX: XValue[] = [];
  private windowY: number[] = [];
  private outbox: string[] = [];

  private counts = { pushed: 0, written: 0, stored: 0, dropped: 0, objects: 0, heartbeats: 0, connects: 0, errors: 0 };
  private lastStatus: number | undefined;

  constructor(options: StreamClientOptions) {
    super();
    if (!options.token) throw new TypeError('StreamClient: a token is required');
    this.token = options.token;
    this.base = new URL(options.server);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new TypeError(`StreamClient: the server must be an http:// or https:// URL (got ${String(options.server)})`);
    }
    this.windowMs = options.windowMs ?? WRITE_INTERVAL_MS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    if (!(this.heartbeatMs > 0 && this.heartbeatMs < IDLE_TIMEOUT_MS)) {
      throw new RangeError(`StreamClient: heartbeatMs must be above 0 and below the server's idle timeout of ${IDLE_TIMEOUT_MS} ms (got ${this.heartbeatMs})`);
    }
    if (!(this.windowMs >= 0)) throw new RangeError(`StreamClient: windowMs must be >= 0 (got ${this.windowMs})`);
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? 15_000, this.minBackoffMs);
    this.ackIntervalMs = options.ackIntervalMs ?? 5_000;
    this.mode = options.decimate;
    this.dispatcher = options.dispatcher;
    this.dates = options.dateX;
    this.buffer = new PointBuffer(options.bufferBytes ?? DEFAULT_BUFFER_BYTES);
  }

  get state(): StreamClientState {
    return this.state_;
  }

  get stats(): StreamClientStats {
    return {
      token: this.token,
      state: this.state_,
      pushed: this.counts.pushed,
      written: this.counts.written,
      stored: this.counts.stored,
      buffered: this.mode ? this.windowY.length + this.outbox.length : this.buffer.length,
      bufferedBytes: this.buffer.bytes,
      dropped: this.counts.dropped + this.buffer.dropped,
      objects: this.counts.objects,
      heartbeats: this.counts.heartbeats,
      reconnects: Math.max(0, this.counts.connects - 1),
      errors: this.counts.errors,
      lastStatus: this.lastStatus,
      stopReason: this.stopReason,
    };
  }

  /** Starts connecting (and reconnecting) in the background. Points may be pushed before. */
  start(): this {
    if (this.state_ !== 'idle') return this;
    this.loop = this.run();
    return this;
  }

  /**
   * Adds one point, optionally with its text and marker/line styles (a bubble's size; legacy mode
   * sends x and y only). Never blocks and never throws for a server problem: see stats and 'log'.
   */
  push(x: XValue, y: number, style?: PointStyle): void {
    if (!this.accepting(1)) return;
    if (this.mode) this.addLegacy(x, y);
    else this.noteDropped(this.buffer.push(x, y, style));
    this.schedule();
  }

  /**
   * Adds points i in [from, to) of two number columns (times or numbers, as push takes them):
   * many points for one call, as the bridge hands over each line's samples.
   */
  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from = 0, to = ys.length): void {
    if (!this.accepting(to - from)) return;
    if (this.mode) for (let i = from; i < to; i++) this.addLegacy(xs[i] as number, ys[i] as number);
    else this.noteDropped(this.buffer.pushMany(xs, ys, from, to));
    this.schedule();
  }

  /**
   * Legacy mode: a point joins the current window. A window that nobody sends (the server is
   * away, or the socket is full) is decimated once it holds LEGACY_MAX_WINDOW points, and only
   * the last LEGACY_BACKLOG objects are kept (the rest counted as dropped): bounded memory.
   */
  private addLegacy(x: XValue, y: number): void {
    this.windowX.push(x);
    this.windowY.push(y);
    if (this.windowY.length < LEGACY_MAX_WINDOW) return;
    this.decimateWindow();
    const extra = this.outbox.length - LEGACY_BACKLOG;
    if (extra > 0) this.counts.dropped += this.outbox.splice(0, extra).length;
  }

  /** Counts n points given; false (and counted as dropped) when the client takes no more. */
  private accepting(n: number): boolean {
    this.counts.pushed += n;
    if (this.state_ !== 'stopped' && this.state_ !== 'closed') return true;
    this.counts.dropped += n;
    return false;
  }

  private noteDropped(dropped: number): void {
    if (dropped > 0 && this.buffer.dropped === dropped) {
      this.log('warn', 'buffer-full', `buffer budget of ${this.buffer.budgetBytes} bytes is full: dropping the oldest points (counted in "dropped")`);
    }
  }

  /**
   * Flushes what is buffered (when connected), ends the stream cleanly and stops reconnecting.
   * Resolves with the final stats; points the server never confirmed are in stats.buffered.
   */
  async close(timeoutMs = 5_000): Promise<StreamClientStats> {
    if (this.closing) {
      await this.loop;
      return this.stats;
    }
    this.closing = true;
    const stopped = this.state_ === 'stopped';
    const deadline = Date.now() + timeoutMs;
    if (!stopped) this.setState('closing');
    this.wake?.();
    const body = this.body;
    if (body) {
      await this.drain(body, deadline);
      this.clearTimers();
      body.end();
    } else {
      this.abort?.abort();
    }
    await withTimeout(this.loop ?? Promise.resolve(), Math.max(0, deadline - Date.now()));
    this.abort?.abort();
    if (body && !this.mode && this.buffer.length > 0) {
      // The POST's end was answered; ask once more so stats.buffered is what truly is unstored.
      // The stream has ended, so everything below the answer is stored, written on it or not.
      await this.queryState(Math.max(500, deadline - Date.now())).then(
        ({ next }) => void (this.counts.stored += this.buffer.resync(next).stored),
        () => undefined,
      );
    }
    this.clearTimers();
    if (stopped) return this.stats;
    this.setState('closed');
    const left = this.mode ? this.windowY.length + this.outbox.length : this.buffer.length;
    if (left > 0) this.log('warn', 'undelivered', `closed with ${left} point(s) the server has not confirmed`, { points: left });
    return this.stats;
  }

  // --- connection loop ---------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.closing && this.state_ !== 'stopped') {
      this.setState('connecting');
      const opened = Date.now();
      const outcome = await this.connectOnce();
      if (this.closing) return;
      if (Date.now() - opened >= STABLE_MS) this.attempt = 0;
      if (this.handle(outcome) === 'stop') return;
      this.attempt++;
      const delay = backoffDelay(this.attempt, this.minBackoffMs, this.maxBackoffMs);
      this.setState('waiting');
      this.log('info', 'backoff', `reconnecting in ${delay} ms`, { delayMs: delay, attempt: this.attempt });
      await this.sleep(delay);
    }
  }

  /** One state query and one POST, until the POST ends. */
  private async connectOnce(): Promise<Outcome> {
    if (!this.mode && this.synced) {
      // Resuming: the server's count is in this client's own numbering; resend from there.
      let next: number;
      try {
        next = (await this.queryState(STATE_TIMEOUT_MS)).next;
      } catch (err) {
        return stateOutcome(err);
      }
      this.resync(next);
    }
    if (this.closing) return { error: new Error('closed') };
    const abort = new AbortController();
    const body = new PassThrough();
    this.abort = abort;
    this.counts.connects++;
    const response = request(new URL('/', this.base), {
      method: 'POST',
      headers: { [STREAM_TOKEN_HEADER]: this.token, [STREAM_WRITER_HEADER]: this.writerId },
      body,
      signal: abort.signal,
      dispatcher: this.dispatcher,
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
      if (!this.mode && !this.synced) {
        // A new client continues the token's numbering from the server's count, taken once its
        // own stream holds the token: until then an older writer's last points may still land,
        // and numbering from an earlier count would have the server take ours for theirs.
        const next = await this.countWhenOwned(() => answered);
        this.synced = true;
        this.buffer.renumber(next);
      }
      if (this.closing) throw new Error('closed');
    } catch (err) {
      abort.abort();
      body.destroy();
      return stateOutcome(err);
    }
    // Only now may points be written on it: they are numbered.
    this.body = body;
    this.setState('streaming');
    this.log('info', 'connected', `streaming to ${this.base.origin}${this.mode ? ` (legacy, ${this.mode})` : ` from seq ${this.buffer.startSeq}`}`, {
      seq: this.mode ? undefined : this.buffer.startSeq,
    });
    this.lastWriteAt = Date.now();
    this.schedule();
    this.armHeartbeat();
    if (!this.mode) this.armAck();
    try {
      const res = await response;
      const text = await res.body.text().catch(() => '');
      return { status: res.statusCode, body: text, from: 'stream' };
    } catch (err) {
      return { error: err as Error };
    } finally {
      this.clearTimers();
      body.destroy();
      if (this.body === body) this.body = undefined;
      if (!this.mode) this.buffer.cursor = 0;
    }
  }

  /** Decides what an ended connection means: 'retry' or 'stop'. */
  private handle(outcome: Outcome): 'retry' | 'stop' {
    if ('error' in outcome) {
      this.counts.errors++;
      this.log('warn', 'disconnected', `stream broke: ${describeError(outcome.error)}`, { error: describeError(outcome.error) });
      return 'retry';
    }
    const { status, from } = outcome;
    const answered = from === 'stream' ? 'server ended the stream with' : 'server answered the state query with';
    this.lastStatus = status;
    const serverMessage = errorText(outcome.body);
    const info = statusOf(status);
    const name = `${status}${info ? ` ${info.name}` : ''}`;
    if (status === 449) {
      this.stop(status, `another connection took over token ${this.token} (449); not fighting it: this client stopped sending (restart it to take the token back)`, 'takeover');
      return 'stop';
    }
    if (status === 200) {
      this.log('info', 'ended', `server ended the stream (${name}); reconnecting`, { status });
      return 'retry';
    }
    this.counts.errors++;
    const why = `${name}: ${serverMessage || info?.meaning || 'unknown status'}`;
    if (info?.writer === 'reconnect' || (!info && status >= 500)) {
      this.log('warn', 'status', `${answered} ${why}; reconnecting`, { status });
      return 'retry';
    }
    if (info?.writer === 'fix') {
      this.stop(status, `${answered} ${why} (a writer bug: please report it); stopped`, 'rejected');
    } else {
      this.stop(status, `server refused token ${this.token} with ${why}; stopped`, 'refused');
    }
    return 'stop';
  }

  private stop(status: number | undefined, reason: string, event: string): void {
    this.stopReason = reason;
    const held = this.mode ? this.windowY.splice(0).length : this.buffer.clear();
    this.counts.dropped += held;
    this.outbox = [];
    this.setState('stopped');
    this.log('error', event, reason, { status, droppedPoints: held });
    this.emit('stopped', { status, reason });
  }

  private resync(next: number): void {
    const { stored, gap, ahead } = this.buffer.resync(next);
    this.counts.stored += stored;
    if (gap > 0) {
      this.log('warn', 'gap', `the server is missing ${gap} point(s) this client no longer holds (dropped by the buffer budget); continuing at seq ${next}`, { points: gap });
    }
    if (ahead > 0) {
      this.log('warn', 'ahead', `the server holds ${ahead} point(s) more than this client sent: another writer used token ${this.token}; continuing at seq ${next}`, { points: ahead });
    }
  }

  private acknowledge(next: number): void {
    this.counts.stored += this.buffer.acknowledge(next);
  }

  // --- writing -----------------------------------------------------------------------------

  /** Makes sure a flush is due when there is something to send. */
  private schedule(): void {
    if (this.cancelFlush || !this.body) return;
    if (this.mode ? this.windowY.length === 0 && this.outbox.length === 0 : this.buffer.unsent === 0) return;
    const wait = Math.max(0, this.lastObjectAt + this.windowMs - performance.now());
    if (wait > 0) {
      const timer = setTimeout(this.flush, wait);
      this.cancelFlush = () => clearTimeout(timer);
    } else {
      // Due now: after the current burst of pushes (a serial read's lines), not at its first point.
      const immediate = setImmediate(this.flush);
      this.cancelFlush = () => clearImmediate(immediate);
    }
  }

  private readonly flush = (): void => {
    this.cancelFlush = undefined;
    const body = this.body;
    if (!body) return;
    // Back-pressure: the points stay buffered until the socket drains.
    if (body.writableNeedDrain) {
      body.once('drain', () => this.schedule());
      return;
    }
    const line = this.mode ? this.nextLegacyObject() : this.nextBatch();
    if (line !== undefined) this.write(body, line);
    this.schedule();
  };

  private nextBatch(): Buffer | undefined {
    const batch = takeBatch(this.buffer, undefined, this.dates);
    if (batch) this.counts.written += batch.points;
    return batch?.line;
  }

  private nextLegacyObject(): string | undefined {
    if (this.outbox.length === 0) this.decimateWindow();
    const line = this.outbox.shift();
    if (line !== undefined) this.counts.written++;
    return line;
  }

  private decimateWindow(): void {
    if (!this.mode || this.windowY.length === 0) return;
    const points = decimate(this.mode, this.windowX, this.windowY);
    this.counts.dropped += this.windowY.length - points.length;
    this.windowX = [];
    this.windowY = [];
    for (const p of points) this.outbox.push(`${JSON.stringify({ x: this.dates && typeof p.x === 'number' ? formatPlotlyDate(p.x, this.dates === 'utc') : p.x, y: p.y })}\n`);
  }

  /** Writes one object's line (newline included). */
  private write(body: PassThrough, line: string | Buffer): void {
    body.write(line);
    this.counts.objects++;
    this.lastObjectAt = performance.now();
    this.lastWriteAt = Date.now();
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    const due = this.lastWriteAt + this.heartbeatMs - Date.now();
    this.heartbeatTimer = setTimeout(() => {
      const body = this.body;
      if (!body) return;
      if (Date.now() - this.lastWriteAt >= this.heartbeatMs) {
        body.write('\n');
        this.counts.heartbeats++;
        this.lastWriteAt = Date.now();
      }
      this.armHeartbeat();
    }, Math.max(0, due));
  }

  private armAck(): void {
    this.ackTimer = setTimeout(async () => {
      if (!this.body) return;
      if (this.buffer.cursor > 0) {
        try {
          this.acknowledge((await this.queryState(STATE_TIMEOUT_MS)).next);
          if (this.buffer.cursor > 0 && this.buffer.length > 0) this.attempt = 0;
        } catch (err) {
          if (!this.body) return;
          if (err instanceof StreamStatusError && statusOf(err.status)?.writer === 'stop') {
            // The token went away under an open stream: the stream's own answer will say so.
            this.log('warn', 'state', `state query answered ${err.message}`);
          } else {
            // The stream may be half-open (no answer, no reset): start over.
            this.log('warn', 'state', `state query failed (${describeError(err as Error)}); reopening the stream`);
            this.abort?.abort();
            return;
          }
        }
      }
      if (this.body) this.armAck();
    }, this.ackIntervalMs);
  }

  // --- helpers -----------------------------------------------------------------------------

  /**
   * The server's count once this client's stream holds the token (at once from a server that
   * does not say who holds it, or when the stream was already answered: its status then tells).
   */
  private async countWhenOwned(answered: () => boolean): Promise<number> {
    const deadline = Date.now() + STATE_TIMEOUT_MS;
    for (;;) {
      const state = await this.queryState(STATE_TIMEOUT_MS);
      if (state.writer === undefined || state.writer === this.writerId || answered()) return state.next;
      if (Date.now() > deadline) throw new Error(`the server did not give this stream token ${this.token} within ${STATE_TIMEOUT_MS} ms`);
      await delay(OWNED_POLL_MS);
    }
  }

  /** How far the server has stored this token (every seq below `next`), and whose stream holds it. */
  private async queryState(timeoutMs: number): Promise<StreamState> {
    const res = await request(new URL(STREAM_STATE_PATH, this.base), {
      method: 'GET',
      headers: { [STREAM_TOKEN_HEADER]: this.token, [STREAM_WRITER_HEADER]: this.writerId },
      dispatcher: this.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new StreamStatusError(res.statusCode, errorText(text));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`the stream-state answer is not JSON: ${text.slice(0, 80)}`);
    }
    return validateStreamState(value);
  }

  /** Writes what is unsent (one object per window) until done, the stream breaks or the deadline. */
  private async drain(body: PassThrough, deadline: number): Promise<void> {
    while (Date.now() < deadline && this.body === body) {
      if (this.mode) this.decimateWindow();
      if ((this.mode ? this.outbox.length : this.buffer.unsent) === 0) return;
      this.schedule();
      await delay(this.windowMs + 1);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private clearTimers(): void {
    this.cancelFlush?.();
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.ackTimer);
    this.cancelFlush = this.heartbeatTimer = this.ackTimer = undefined;
  }

  private setState(state: StreamClientState): void {
    if (this.state_ === state) return;
    this.state_ = state;
    this.emit('state', state);
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, token: this.token, ...fields });
  }
}

/** A failed state query as an outcome: its status, or the error. */
function stateOutcome(err: unknown): Outcome {
  return err instanceof StreamStatusError ? { status: err.status, body: err.serverMessage, from: 'state query' } : { error: err as Error };
}

/** Exponential backoff with full jitter, never below half the first delay. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(minMs / 2 + Math.random() * (ceiling - minMs / 2));
}

/** The server's reason from a JSON error body {"error": ...}, else the text itself (short). */
function errorText(body: string): string {
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

function describeError(err: Error): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (err instanceof errors.SocketError) return `connection lost (${err.message})`;
  if (err.name === 'AbortError' || err instanceof errors.RequestAbortedError) return 'aborted';
  if (err.name === 'TimeoutError') return 'no answer in time';
  return code ? `${err.message} (${code})` : err.message;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
