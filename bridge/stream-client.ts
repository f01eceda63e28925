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
 *
 * This is the facade (options, push, stats, close and the reconnect loop); its length is mostly
 * the options and stats it documents for the library's users. The work is elsewhere: one
 * connection in stream-connection.ts, the state query in stream-state.ts, what to do after a
 * break in stream-policy.ts, the objects in batch-writer.ts and legacy-writer.ts.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { HEARTBEAT_INTERVAL_MS, IDLE_TIMEOUT_MS, InvalidArgumentError, WRITE_INTERVAL_MS } from '../shared/index.js';
import type { DateZone } from '../shared/dates.js';
import { BatchWriter } from './batch-writer.js';
import type { DecimateMode } from './decimate.js';
import { LegacyWriter } from './legacy-writer.js';
import type { LogRecord } from '../shared/log.js';
import type { PointStyle, XValue } from './point-buffer.js';
import type { PointWriter } from './point-writer.js';
import { StreamClosedError, StreamConnection, outcomeOf } from './stream-connection.js';
import { defaultPolicy, type Outcome, type StopKind, type StreamPolicy } from './stream-policy.js';
import { countWhenOwned, queryState, type StateQuery } from './stream-state.js';

export type { PointStyle, XValue } from './point-buffer.js';
export type { DecimateMode } from './decimate.js';
export { StreamStatusError, StreamTimeoutError } from './stream-state.js';
export { StreamClosedError } from './stream-connection.js';
export { backoffDelay, defaultPolicy, type Decision, type Outcome, type PolicyState, type StopKind, type StreamPolicy } from './stream-policy.js';

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
  /** What to do when a connection ends: retry after N ms, or stop (default: defaultPolicy). */
  readonly policy?: StreamPolicy;
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
  /** Why it stopped, for programs: 'takeover' (449), 'refused' (the token), 'rejected' (a writer bug). */
  readonly stopKind: StopKind | undefined;
}

export interface StreamClientEvents {
  log: [LogRecord];
  state: [StreamClientState];
  /** Stopped for good: the status (449 for a takeover) and why, in words. */
  stopped: [{ status: number | undefined; reason: string; kind: StopKind }];
}

const DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024;
/** A connection up this long resets the backoff. */
const STABLE_MS = 5_000;
const STATE_TIMEOUT_MS = 5_000;

export class StreamClient extends EventEmitter<StreamClientEvents> {
  readonly token: string;
  private readonly windowMs: number;
  private readonly heartbeatMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly ackIntervalMs: number;
  private readonly policy: StreamPolicy;
  private readonly writer: PointWriter;
  private readonly query: StateQuery;

  private state_: StreamClientState = 'idle';
  private stop_: { reason: string; kind: StopKind } | undefined;
  private connection: StreamConnection | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private attempt = 0;
  /** Whether the writer's numbering follows the server's (after the first connection). */
  private synced = false;
  private closing = false;

  private counts = { pushed: 0, written: 0, stored: 0, dropped: 0, objects: 0, heartbeats: 0, connects: 0, errors: 0 };
  private lastStatus: number | undefined;

  constructor(options: StreamClientOptions) {
    super();
    if (!options.token) throw new InvalidArgumentError('StreamClient: a token is required');
    this.token = options.token;
    const base = new URL(options.server);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new InvalidArgumentError(`StreamClient: the server must be an http:// or https:// URL (got ${String(options.server)})`);
    }
    this.windowMs = options.windowMs ?? WRITE_INTERVAL_MS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    if (!(this.heartbeatMs > 0 && this.heartbeatMs < IDLE_TIMEOUT_MS)) {
      throw new InvalidArgumentError(`StreamClient: heartbeatMs must be above 0 and below the server's idle timeout of ${IDLE_TIMEOUT_MS} ms (got ${this.heartbeatMs})`);
    }
    if (!(this.windowMs >= 0)) throw new InvalidArgumentError(`StreamClient: windowMs must be >= 0 (got ${this.windowMs})`);
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? 15_000, this.minBackoffMs);
    this.ackIntervalMs = options.ackIntervalMs ?? 5_000;
    this.policy = options.policy ?? defaultPolicy;
    this.writer = options.decimate
      ? new LegacyWriter(options.decimate, options.dateX)
      : new BatchWriter(options.bufferBytes ?? DEFAULT_BUFFER_BYTES, options.dateX, (budget) =>
          this.log('warn', 'buffer-full', `buffer budget of ${budget} bytes is full: dropping the oldest points (counted in "dropped")`),
        );
    this.query = { base, token: this.token, writerId: randomUUID(), dispatcher: options.dispatcher };
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
      buffered: this.writer.held,
      bufferedBytes: this.writer.heldBytes,
      dropped: this.counts.dropped + this.writer.dropped,
      objects: this.counts.objects,
      heartbeats: this.counts.heartbeats,
      reconnects: Math.max(0, this.counts.connects - 1),
      errors: this.counts.errors,
      lastStatus: this.lastStatus,
      stopReason: this.stop_?.reason,
      stopKind: this.stop_?.kind,
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
    this.writer.push(x, y, style);
    this.connection?.schedule();
  }

  /**
   * Adds points i in [from, to) of two number columns (times or numbers, as push takes them):
   * many points for one call, as the bridge hands over each line's samples.
   */
  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from = 0, to = ys.length): void {
    if (!this.accepting(to - from)) return;
    this.writer.pushMany(xs, ys, from, to);
    this.connection?.schedule();
  }

  /** Counts n points given; false (and counted as dropped) when the client takes no more. */
  private accepting(n: number): boolean {
    this.counts.pushed += n;
    if (this.state_ !== 'stopped' && this.state_ !== 'closed') return true;
    this.counts.dropped += n;
    return false;
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
    const connection = this.connection;
    const wasOpen = connection?.open === true;
    await connection?.finish(deadline);
    await withTimeout(this.loop ?? Promise.resolve(), Math.max(0, deadline - Date.now()));
    connection?.cancel(new StreamClosedError('the client closed'));
    const sequence = this.writer.sequence;
    if (wasOpen && sequence && this.writer.held > 0) {
      // The POST's end was answered; ask once more so stats.buffered is what truly is unstored.
      // The stream has ended, so everything below the answer is stored, written on it or not.
      await queryState(this.query, Math.max(500, deadline - Date.now())).then(
        ({ next }) => void (this.counts.stored += sequence.resync(next).stored),
        () => undefined,
      );
    }
    if (stopped) return this.stats;
    this.setState('closed');
    const left = this.writer.held;
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
      if (outcome.kind === 'status') this.lastStatus = outcome.status;
      const decision = this.policy(outcome, { token: this.token, attempt: this.attempt + 1, minBackoffMs: this.minBackoffMs, maxBackoffMs: this.maxBackoffMs });
      if (decision.action === 'stop') return this.stop(decision.status, decision.reason, decision.kind);
      if (decision.error) this.counts.errors++;
      const { level, event, message, ...fields } = decision.log;
      this.log(level, event, message, fields);
      this.attempt++;
      this.setState('waiting');
      this.log('info', 'backoff', `reconnecting in ${decision.delayMs} ms`, { delayMs: decision.delayMs, attempt: this.attempt });
      await this.sleep(decision.delayMs);
    }
  }

  /** One state query and one POST, until the POST ends. */
  private async connectOnce(): Promise<Outcome> {
    const sequence = this.writer.sequence;
    if (sequence && this.synced) {
      // Resuming: the server's count is in this client's own numbering; resend from there.
      try {
        this.resync((await queryState(this.query, STATE_TIMEOUT_MS)).next);
      } catch (err) {
        return outcomeOf(err);
      }
    }
    if (this.closing) return { kind: 'error', error: new StreamClosedError('the client closed') };
    const connection = new StreamConnection({
      query: this.query,
      writer: this.writer,
      windowMs: this.windowMs,
      heartbeatMs: this.heartbeatMs,
      ackIntervalMs: this.ackIntervalMs,
      counts: this.counts,
      log: (level, event, message, fields) => this.log(level, event, message, fields),
      confirmed: (next) => {
        this.counts.stored += sequence?.acknowledge(next) ?? 0;
        // Points still in flight after a confirmation: the link works, whatever broke before.
        if (sequence && sequence.unconfirmed > 0 && this.writer.held > 0) this.attempt = 0;
      },
    });
    this.connection = connection;
    this.counts.connects++;
    const before = async (answered: () => boolean): Promise<void> => {
      if (sequence && !this.synced) {
        // A new client continues the token's numbering from the server's count, taken once its
        // own stream holds the token: until then an older writer's last points may still land,
        // and numbering from an earlier count would have the server take ours for theirs.
        const next = await countWhenOwned(this.query, STATE_TIMEOUT_MS, answered);
        this.synced = true;
        sequence.renumber(next);
      }
      if (this.closing) throw new StreamClosedError('the client closed');
    };
    return connection.run(before, () => {
      this.setState('streaming');
      const seq = sequence ? { seq: sequence.startSeq } : {};
      this.log('info', 'connected', `streaming to ${this.query.base.origin} ${this.writer.describe()}`, seq);
    });
  }

  private stop(status: number | undefined, reason: string, kind: StopKind): void {
    this.stop_ = { reason, kind };
    const held = this.writer.clear();
    this.counts.dropped += held;
    this.setState('stopped');
    this.log('error', kind, reason, { status, droppedPoints: held });
    this.emit('stopped', { status, reason, kind });
  }

  private resync(next: number): void {
    const { stored, gap, ahead } = (this.writer.sequence as NonNullable<PointWriter['sequence']>).resync(next);
    this.counts.stored += stored;
    if (gap > 0) {
      this.log('warn', 'gap', `the server is missing ${gap} point(s) this client no longer holds (dropped by the buffer budget); continuing at seq ${next}`, { points: gap });
    }
    if (ahead > 0) {
      this.log('warn', 'ahead', `the server holds ${ahead} point(s) more than this client sent: another writer used token ${this.token}; continuing at seq ${next}`, { points: ahead });
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

  private setState(state: StreamClientState): void {
    if (this.state_ === state) return;
    this.state_ = state;
    this.emit('state', state);
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, token: this.token, ...fields });
  }
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
