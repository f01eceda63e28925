/**
 * Where streams meet the server's state: it admits a connection for a token (or says why not),
 * keeps one active stream per token (a newer one takes over), and applies each object to the
 * token's points and to the layout of the plots it feeds.
 */
import type { StreamObject } from '../../shared/index.js';
import { dataChange } from '../data/columns.js';
import type { PointStore } from '../data/point-store.js';
import type { Accounts } from '../store/accounts.js';
import type { PlotService } from '../plot-service.js';
import { StreamSession, streamEnd, type StreamEnd } from './stream-session.js';

export interface IngestOptions {
  /** A stream with no byte for this long ends with 408. */
  readonly idleTimeoutMs: number;
  /** New connections one token may open per minute before 423. */
  readonly connectsPerMinute: number;
}

export class Ingest {
  private readonly active = new Map<number, StreamSession>();
  private readonly connects = new Map<number, number[]>();

  constructor(
    private readonly accounts: Accounts,
    private readonly store: PointStore,
    private readonly service: PlotService,
    private readonly options: IngestOptions,
  ) {}

  /** Admits a stream for the token in the header, or answers why not (406, 404, 403, 423). */
  open(tokenHeader: string | undefined, finish: (end: StreamEnd) => void, writer?: string): StreamSession | StreamEnd {
    if (!tokenHeader) return streamEnd(406, { error: "missing header 'plotly-streamtoken'" });
    const token = this.accounts.tokenBySecret(tokenHeader.trim());
    if (!token) return streamEnd(404, { error: 'this stream token is not registered' });
    if (token.revokedAt !== null) return streamEnd(403, { error: 'this stream token was revoked' });
    if (!this.admit(token.id)) {
      return streamEnd(423, { error: `more than ${this.options.connectsPerMinute} connections a minute for this token` });
    }
    const live = this.store.token(token.id);
    const session: StreamSession = new StreamSession(
      token.id,
      {
        apply: (object) => this.apply(token.id, object),
        committedNext: () => {
          this.store.flush();
          return live.committedNext;
        },
        release: (s) => {
          if (this.active.get(token.id) === s) this.active.delete(token.id);
        },
      },
      this.options.idleTimeoutMs,
      finish,
    );
    session.writer = writer?.trim().slice(0, 128) || null;
    const older = this.active.get(token.id);
    this.active.set(token.id, session);
    older?.end(streamEnd(449, { error: 'another connection took over this stream token', ...older.summary() }));
    return session;
  }

  /** Ends the token's stream with 403 (the token was revoked). */
  revoke(tokenId: number): void {
    this.active.get(tokenId)?.end(streamEnd(403, { error: 'this stream token was revoked' }));
  }

  /** Ends every stream with 503 (the server is stopping); writers reconnect and resume. */
  closeAll(): void {
    for (const s of [...this.active.values()]) s.end(streamEnd(503, { error: 'the server is stopping', ...s.summary() }));
  }

  /** The writer whose stream holds the token now (null: none, or it gave no name). */
  writerOf(tokenId: number): string | null {
    return this.active.get(tokenId)?.writer ?? null;
  }

  get streams(): number {
    return this.active.size;
  }

  /** Applies one object for a token; returns the points it appended. */
  apply(tokenId: number, object: StreamObject): number {
    if (object.layout) this.service.relayoutToken(tokenId, object.layout);
    const change = dataChange(object);
    if (!change.replace && !change.append) return 0;
    return change.appendCount - this.service.points(tokenId, change, object.seq).duplicates;
  }

  private admit(tokenId: number): boolean {
    const now = Date.now();
    const recent = (this.connects.get(tokenId) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.options.connectsPerMinute) {
      this.connects.set(tokenId, recent);
      return false;
    }
    recent.push(now);
    this.connects.set(tokenId, recent);
    return true;
  }
}
