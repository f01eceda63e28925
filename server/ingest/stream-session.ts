/**
 * One open stream: the decoded body bytes of a POST / turned into lines, checked and applied. It
 * knows nothing of sockets, so the forgiving raw parser and node:http feed it alike.
 *
 * A stream is for the token in its plotly-streamtoken header, or, without one (Plotly's Arduino
 * libraries), for the token each object names: one connection then carries several tokens, each
 * admitted on first sight by the same rules as a header token. A token refused or taken over on
 * such a connection loses only its own objects (counted); the others go on.
 */
import { MAX_STREAM_LINE, PlotwireError, ProtocolError, STREAM_TOKEN_HEADER, STREAM_TOKEN_KEY, decodeStreamLine, statusOf, type StreamObject } from '../../shared/index.js';
import { StoreUnavailableError } from '../data/point-store.js';
import { LayoutError, LayoutTooLargeError } from '../data/layout.js';
import type { BoardClock } from './board-clock.js';
import { LineTooLongError, StreamLineFramer } from './stream-line-framer.js';

/** How a stream ended: the status and the JSON body the writer gets. */
export interface StreamEnd {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** What a session needs from the server: admitting tokens, applying objects, letting go. */
export interface SessionHost {
  /** A token named inside the body: its id once admitted to this session, or why it is not. */
  claim(secret: string, session: StreamSession): number | StreamEnd;
  /** Applies one stream object to a token; returns the points it added. */
  apply(tokenId: number, object: StreamObject): number;
  /** A token's stored position after flushing, for the final answer. */
  committedNext(tokenId: number): number;
  /** A promise when the tokens' points become durable later (the cluster): the final answer waits for it. */
  settle(tokenIds: readonly number[]): Promise<void> | undefined;
  release(session: StreamSession): void;
}

export function streamEnd(status: number, detail: Record<string, unknown> = {}): StreamEnd {
  return { status, body: { status, message: statusOf(status)?.meaning ?? 'error', ...detail } };
}

/** An object on a stream without a token header names no token either: Plotly's 406. */
export class MissingStreamTokenError extends PlotwireError {
  readonly code = 'PW_ERR_NO_STREAM_TOKEN';
}

/** Body bytes a stream may send while its token is being claimed (the cluster), before 503. */
export const MAX_HELD_BYTES = 4 * 1024 * 1024;

/** Tokens one connection may name in its objects (a board has a handful). */
export const MAX_TOKENS_PER_STREAM = 64;

/** A token named in a stream's objects: admitted (an id), or refused or lost with a reason. */
interface NamedToken {
  readonly hint: string;
  id: number | undefined;
  points: number;
  /** Why its objects are dropped, once refused or taken over. */
  refused: StreamEnd | undefined;
  dropped: number;
}

const hintOf = (secret: string): string => `${secret.slice(0, 4)}…`;

export class StreamSession {
  private readonly lines: StreamLineFramer;
  private lineNo = 0;
  private points = 0;
  private idle: NodeJS.Timeout;
  private finished = false;
  /** Per named token (body-routed streams). */
  private readonly named = new Map<string, NamedToken>();
  private readonly byId = new Map<number, NamedToken>();
  private readonly ignoredKeys = new Map<string, number>();
  private gaps = 0;
  /** The writer's name for itself (STREAM_WRITER_HEADER), when it gave one. */
  writer: string | null = null;
  /** Body bytes held while the stream's token is being claimed on other nodes; then the end of the body, if it came. */
  private held: { bufs: Buffer[]; bytes: number; ended: boolean } | undefined;

  constructor(
    /** The header's token, or null when each object names its own. */
    readonly headerToken: number | null,
    private readonly host: SessionHost,
    private readonly idleTimeoutMs: number,
    private readonly finish: (end: StreamEnd) => void,
    /** plotly-convertTimestamp: numeric x values are the board's millis(), made dates. */
    private readonly clock?: BoardClock,
  ) {
    this.lines = new StreamLineFramer(MAX_STREAM_LINE, (line) => this.line(line));
    this.idle = setTimeout(() => this.timeout(), idleTimeoutMs);
  }

  get ended(): boolean {
    return this.finished;
  }

  /** The tokens this stream has held (to let go of those it still holds when it ends). */
  get tokens(): number[] {
    return this.headerToken !== null ? [this.headerToken] : [...this.byId.keys()];
  }

  /** Any byte from the writer, framing included, keeps the stream alive. */
  activity(): void {
    this.idle.refresh();
  }

  /**
   * The stream may take data only once `ready` resolves (its token claimed across nodes): what
   * arrives until then is held, at most MAX_HELD_BYTES (a claim takes a round trip or two; a
   * writer that sends more meanwhile gets 503 and resends).
   */
  waitFor(ready: Promise<void>, refused: (err: unknown) => StreamEnd): void {
    this.held ??= { bufs: [], bytes: 0, ended: false };
    ready.then(
      () => {
        const held = this.held;
        this.held = undefined;
        for (const buf of held?.bufs ?? []) this.data(buf);
        if (held?.ended) this.endOfBody();
      },
      (err: unknown) => this.end(refused(err)),
    );
  }

  /** Decoded body bytes. */
  data(buf: Buffer): void {
    if (this.finished) return;
    this.activity();
    if (this.held) {
      this.held.bufs.push(buf);
      this.held.bytes += buf.length;
      if (this.held.bytes > MAX_HELD_BYTES) this.end(streamEnd(503, { error: `the stream sent more than ${MAX_HELD_BYTES} bytes before its token was claimed; send them again`, ...this.summary() }));
      return;
    }
    try {
      this.lines.push(buf);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * The writer ended its body: a last line without newline counts, then 200, answered only after
   * the stream's points are committed (summary() flushes; a commit that fails ends the stream
   * with 503 through the store's failure listener first).
   */
  endOfBody(): void {
    if (this.finished) return;
    if (this.held) return void (this.held.ended = true);
    try {
      const rest = this.lines.rest;
      if (rest.trim() !== '') this.line(rest);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.finished) return;
    // A body that ended without naming a token had no token anywhere: Plotly's 406.
    if (this.headerToken === null && this.named.size === 0) {
      return this.end(streamEnd(406, { error: `missing header '${STREAM_TOKEN_HEADER}' (or a "${STREAM_TOKEN_KEY}" in each object)`, ...this.summary() }));
    }
    const settling = this.host.settle(this.tokens);
    if (!settling) return this.end(streamEnd(200, this.summary()));
    // A write refused while settling ends the stream with that refusal (503, 449) first.
    void settling.then(() => this.end(streamEnd(200, this.summary())));
  }

  /** Ends the stream with a status (shutdown, framing errors...). */
  end(end: StreamEnd): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idle);
    this.host.release(this);
    this.finish(end);
  }

  /**
   * A token of this stream was taken over (449) or revoked (403): a stream for that token alone
   * ends; one that carries others drops that token's objects from now on.
   */
  lose(tokenId: number, end: StreamEnd): void {
    if (this.headerToken === tokenId) return this.end({ status: end.status, body: { ...end.body, ...this.summary() } });
    const named = this.byId.get(tokenId);
    if (named && !named.refused) named.refused = end;
  }

  summary(): Record<string, unknown> {
    const notes = {
      ...(this.ignoredKeys.size > 0 && { ignored_keys: Object.fromEntries(this.ignoredKeys) }),
      ...(this.gaps > 0 && { gaps: this.gaps }),
    };
    if (this.headerToken !== null) return { lines: this.lineNo, points: this.points, next: this.host.committedNext(this.headerToken), ...notes };
    const tokens = [...this.named.values()].map((t) => ({
      token: t.hint,
      points: t.points,
      ...(t.id !== undefined && !t.refused && { next: this.host.committedNext(t.id) }),
      ...(t.refused && { status: t.refused.status, error: t.refused.body.error, dropped: t.dropped }),
    }));
    return { lines: this.lineNo, points: this.points, tokens, ...notes };
  }

  private line(text: string): void {
    if (this.finished) return;
    this.lineNo++;
    const decoded = decodeStreamLine(text.endsWith('\r') ? text.slice(0, -1) : text);
    if (decoded.kind !== 'object') return;
    for (const key of decoded.notes.ignoredKeys) this.ignoredKeys.set(key, (this.ignoredKeys.get(key) ?? 0) + 1);
    this.gaps += decoded.notes.gaps;
    const target = this.route(decoded.token);
    if (target === undefined) return;
    if (this.clock) this.toDates(decoded.object);
    const added = this.host.apply(target.id, decoded.object);
    this.points += added;
    if (target.named) target.named.points += added;
  }

  /** The token an object goes to, or undefined when its token is refused (counted). */
  private route(secret: string | undefined): { id: number; named?: NamedToken } | undefined {
    if (this.headerToken !== null) return { id: this.headerToken };
    if (secret === undefined) {
      throw new MissingStreamTokenError(
        `line ${this.lineNo} names no "${STREAM_TOKEN_KEY}", and the stream has no ${STREAM_TOKEN_HEADER} header: send the token in the header, or in each object`,
      );
    }
    let named = this.named.get(secret);
    if (!named) {
      named = { hint: hintOf(secret), id: undefined, points: 0, refused: undefined, dropped: 0 };
      if (this.named.size >= MAX_TOKENS_PER_STREAM) named.refused = streamEnd(400, { error: `a stream may carry at most ${MAX_TOKENS_PER_STREAM} tokens` });
      else {
        const claim = this.host.claim(secret, this);
        if (typeof claim === 'number') {
          named.id = claim;
          this.byId.set(claim, named);
        } else named.refused = claim;
      }
      // Refused tokens are remembered too (up to the limit), so a board repeating one costs nothing.
      if (this.named.size < MAX_TOKENS_PER_STREAM * 2) this.named.set(secret, named);
    }
    if (named.refused) {
      named.dropped++;
      return undefined;
    }
    return { id: named.id as number, named };
  }

  /** The board's millis() in x, as dates in the stream's time zone. */
  private toDates(object: StreamObject): void {
    const clock = this.clock as BoardClock;
    const now = Date.now();
    const convert = <V>(v: V): V | string => (typeof v === 'number' && Number.isFinite(v) ? clock.date(v, now) : v);
    if (object.x !== undefined) object.x = Array.isArray(object.x) ? object.x.map(convert) : convert(object.x);
    if (object.append?.x) object.append.x = object.append.x.map(convert);
  }

  private timeout(): void {
    this.end(streamEnd(408, { error: `no data or heartbeat for ${this.idleTimeoutMs} ms`, ...this.summary() }));
  }

  private fail(err: unknown): void {
    const at = { line: this.lineNo };
    if (err instanceof ProtocolError || err instanceof LayoutError) {
      const detail = err instanceof ProtocolError ? { field: err.field, rule: err.rule } : {};
      this.end(streamEnd(422, { error: err.message, ...at, ...detail, ...this.summary() }));
    } else if (err instanceof MissingStreamTokenError) {
      this.end(streamEnd(406, { error: err.message, ...at, ...this.summary() }));
    } else if (err instanceof LayoutTooLargeError) {
      this.end(streamEnd(413, { error: `line ${this.lineNo}: ${err.message}`, ...at, ...this.summary() }));
    } else if (err instanceof LineTooLongError) {
      this.end(streamEnd(413, { error: `line ${this.lineNo + 1} is longer than ${err.limit} bytes`, line: this.lineNo + 1, ...this.summary() }));
    } else if (err instanceof StoreUnavailableError) {
      this.end(streamEnd(503, { error: err.message, ...at, ...this.summary() }));
    } else {
      this.end(streamEnd(500, { error: err instanceof Error ? err.message : String(err), ...at }));
    }
  }
}
