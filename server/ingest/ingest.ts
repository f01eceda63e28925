/**
 * Where streams meet the server's state: it admits a token to a stream (or says why not), keeps
 * one active stream per token (a newer one takes over), and applies each object to the token's
 * points and to the layout of the plots it feeds. Header tokens and tokens named inside a body
 * (Plotly's Arduino libraries) go through the same admission.
 */
import type { StreamObject } from '../../shared/index.js';
import type { Logger } from '../../shared/log.js';
import { dataChange } from '../data/columns.js';
import type { AccountsEngine, OwnershipEngine, PointsEngine } from '../engine.js';
import type { PlotService } from '../plot-service.js';
import { TokenTakenError, TooManyConnectsError } from '../store/health.js';
import { BoardClock, TimeZoneError } from './board-clock.js';
import { StreamSession, streamEnd, type SessionHost, type StreamEnd } from './stream-session.js';

export interface IngestOptions {
  /** A stream with no byte for this long ends with 408. */
  readonly idleTimeoutMs: number;
  /** New connections one token may open per minute before 423. */
  readonly connectsPerMinute: number;
  readonly log: Logger;
  /** Token ownership across nodes (the cluster); without it, ownership is this process's alone. */
  readonly ownership?: OwnershipEngine;
  /** This node's name in owner tags (the cluster). */
  readonly nodeId?: string;
}

const TAKEN = 'another connection took over this stream token';

/** What a request head says about a stream. */
export interface StreamHead {
  /** plotly-streamtoken; none for Plotly's Arduino libraries, whose objects each name theirs. */
  readonly token: string | undefined;
  /** plotwire-writer. */
  readonly writer: string | undefined;
  /** plotly-convertTimestamp: the time zone x values (millis) are turned into dates in. */
  readonly convertTimestamp: string | undefined;
}

export class Ingest {
  private readonly active = new Map<number, StreamSession>();
  private readonly connects = new Map<number, number[]>();
  private readonly host: SessionHost;
  /** Each session's owner tag (node and number), for ownership across nodes. */
  private readonly tags = new WeakMap<StreamSession, string>();
  private sessions = 0;

  constructor(
    private readonly accounts: AccountsEngine,
    private readonly store: PointsEngine,
    private readonly service: PlotService,
    private readonly options: IngestOptions,
  ) {
    this.host = {
      claim: (secret, session) => {
        const admitted = this.admit(secret);
        if (typeof admitted === 'number') this.hold(admitted, session);
        else this.options.log.warn('stream-token-refused', `a stream named a token it may not use (${admitted.status}): ${String(admitted.body.error)}`, { status: admitted.status });
        return admitted;
      },
      apply: (tokenId, object) => this.apply(tokenId, object),
      committedNext: (tokenId) => {
        this.store.flush();
        return this.store.token(tokenId).committedNext;
      },
      settle: (tokenIds) => this.store.settle?.(tokenIds),
      release: (s) => {
        for (const id of s.tokens) {
          if (this.active.get(id) !== s) continue;
          this.active.delete(id);
          this.options.ownership?.release(id, this.tagOf(s));
        }
      },
    };
    // Points a stream was told were accepted did not reach the disk: its writer must know (503,
    // with what is stored in `next`), so it resends rather than believing them kept. In the
    // cluster a write can also find the token taken over on another node (449).
    store.onFailure((tokenIds, err) => {
      const end = err instanceof TokenTakenError ? streamEnd(449, { error: TAKEN }) : streamEnd(503, { error: err.message });
      for (const id of tokenIds) this.active.get(id)?.lose(id, end);
    });
    options.ownership?.onTaken((tokenId, owner) => {
      const session = this.active.get(tokenId);
      if (session && this.tagOf(session) !== owner) session.lose(tokenId, streamEnd(449, { error: TAKEN }));
    });
  }

  /**
   * A stream for the token in its head, or for the tokens its objects name; or why not (404,
   * 403, 423 for a header token, 400 for an unknown time zone).
   */
  open(head: StreamHead, finish: (end: StreamEnd) => void): StreamSession | StreamEnd {
    let clock: BoardClock | undefined;
    if (head.convertTimestamp !== undefined) {
      try {
        clock = new BoardClock(head.convertTimestamp);
      } catch (err) {
        if (!(err instanceof TimeZoneError)) throw err;
        this.options.log.warn('stream-refused', err.message, { status: 400 });
        return streamEnd(400, { error: err.message });
      }
    }
    const secret = head.token?.trim();
    let tokenId: number | null = null;
    if (secret) {
      const admitted = this.admit(secret);
      if (typeof admitted !== 'number') return admitted;
      tokenId = admitted;
    }
    const session = new StreamSession(tokenId, this.host, this.options.idleTimeoutMs, (end) => this.ended(end, finish), clock);
    session.writer = head.writer?.trim().slice(0, 128) || null;
    if (tokenId !== null) this.hold(tokenId, session);
    return session;
  }

  /** The token is revoked: its stream ends with 403 (or, on a stream of several, loses it). */
  revoke(tokenId: number): void {
    this.active.get(tokenId)?.lose(tokenId, streamEnd(403, { error: 'this stream token was revoked' }));
  }

  /** Ends every stream with 503 (the server is stopping); writers reconnect and resume. */
  closeAll(): void {
    for (const s of new Set(this.active.values())) s.end(streamEnd(503, { error: 'the server is stopping', ...s.summary() }));
  }

  /** The writer whose stream holds the token now, on any node (null: none, or it gave no name). */
  writerOf(tokenId: number): string | null | Promise<string | null> {
    const session = this.active.get(tokenId);
    if (session || !this.options.ownership) return session?.writer ?? null;
    return this.options.ownership.writerOf(tokenId);
  }

  get streams(): number {
    return new Set(this.active.values()).size;
  }

  /** Applies one object for a token; returns the points it appended. */
  apply(tokenId: number, object: StreamObject): number {
    if (object.layout) this.service.relayoutToken(tokenId, object.layout, (err) => this.active.get(tokenId)?.lose(tokenId, streamEnd(503, { error: (err as Error).message })));
    const change = dataChange(object);
    if (!change.replace && !change.append) return 0;
    return change.appendCount - this.service.points(tokenId, change, object.seq).duplicates;
  }

  /** What a writer should know of a stream that carried keys plotwire does not use or non-finite numbers: one log line. */
  private ended(end: StreamEnd, finish: (end: StreamEnd) => void): void {
    const ignored = end.body.ignored_keys as Record<string, number> | undefined;
    const gaps = end.body.gaps as number | undefined;
    if (ignored || gaps) {
      const keys = ignored ? `objects carried keys plotwire does not use, dropped: ${Object.entries(ignored).map(([k, n]) => `${k} (${n})`).join(', ')}` : '';
      const made = gaps ? `${gaps} non-finite number(s) (NaN, Infinity) became gaps` : '';
      this.options.log.info('stream-notes', `a stream ended (${end.status}); ${[keys, made].filter(Boolean).join('; ')}`, { status: end.status, ignoredKeys: ignored, gaps });
    }
    finish(end);
  }

  /** A presented token's id, or why it may not stream now. */
  private admit(secret: string): number | StreamEnd {
    const token = this.accounts.tokenBySecret(secret);
    if (!token) return streamEnd(404, { error: 'this stream token is not registered' });
    if (token.revokedAt !== null) return streamEnd(403, { error: 'this stream token was revoked' });
    const now = Date.now();
    const recent = (this.connects.get(token.id) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.options.connectsPerMinute) {
      this.connects.set(token.id, recent);
      return streamEnd(423, { error: `more than ${this.options.connectsPerMinute} connections a minute for this token` });
    }
    recent.push(now);
    this.connects.set(token.id, recent);
    return token.id;
  }

  /** The session holds the token now; an older stream on it is taken over (449). */
  private hold(tokenId: number, session: StreamSession): void {
    const older = this.active.get(tokenId);
    this.active.set(tokenId, session);
    if (older && older !== session) older.lose(tokenId, streamEnd(449, { error: TAKEN }));
    const ownership = this.options.ownership;
    if (ownership) {
      const claim = ownership.claim(tokenId, this.tagOf(session), session.writer, this.options.connectsPerMinute);
      session.waitFor(claim, (err) => streamEnd(err instanceof TooManyConnectsError ? 423 : 503, { error: (err as Error).message }));
    }
  }

  private tagOf(session: StreamSession): string {
    let tag = this.tags.get(session);
    if (tag === undefined) this.tags.set(session, (tag = `${this.options.nodeId ?? 'local'}:${++this.sessions}`));
    return tag;
  }
}
