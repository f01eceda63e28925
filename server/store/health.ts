/**
 * Whether the database takes writes. A write it refuses (disk or --max-db-mib full, I/O error,
 * read-only file) is a StoreUnavailableError the writer sees as 503 with the reason; the first of
 * an episode is logged loudly, the end of it too, and in between writes are tried again every
 * RETRY_MS, so the server recovers by itself when space returns.
 */
import { PlotwireError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';

export class StoreUnavailableError extends PlotwireError {
  readonly code: `PW_ERR_${string}` = 'PW_ERR_STORE_UNAVAILABLE';
}

/** A write found its token's stream taken over by a newer writer on another node (the writer gets 449). */
export class TokenTakenError extends StoreUnavailableError {
  override readonly code = 'PW_ERR_TOKEN_TAKEN';
}

/** A token had too many connections in the last minute, on all nodes together (the writer gets 423 and backs off). */
export class TooManyConnectsError extends PlotwireError {
  readonly code = 'PW_ERR_TOO_MANY_CONNECTS';
}

/** How long after a refused write the next one is tried (earlier ones are refused without trying). */
export const RETRY_MS = 1000;

/** SQLite's codes for "the storage cannot take this write now", as opposed to a bug. */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

export function isStorageFault(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && STORAGE_CODES.test((err as unknown as { code: string }).code);
}

export class StoreHealth {
  private failure: { readonly reason: string; readonly since: number; at: number; refused: number } | undefined;

  constructor(private readonly log: Logger) {}

  /** Why writes fail now, while a retry is not yet due; undefined when a write may be tried. */
  refusal(): StoreUnavailableError | undefined {
    const f = this.failure;
    if (!f || Date.now() - f.at >= RETRY_MS) return undefined;
    f.refused++;
    return new StoreUnavailableError(`the database refuses writes: ${f.reason}; nothing of this request was stored, send it again later`);
  }

  get failing(): boolean {
    return this.failure !== undefined;
  }

  /** A write failed with a storage fault: logged loudly once per episode; the error to give the writer. */
  failed(what: string, err: unknown): StoreUnavailableError {
    const code = isStorageFault(err) ? err.code : err instanceof Error ? ((err as { code?: string }).code ?? err.name) : 'FAULT';
    const message = err instanceof Error ? err.message : String(err);
    const reason = `${code}: ${message}`;
    const now = Date.now();
    if (!this.failure) {
      this.failure = { reason, since: now, at: now, refused: 0 };
      this.log.error('store-failed', `the database refuses writes (${reason}) while storing ${what}: writers get 503 and keep their data to resend; writes are tried again every ${RETRY_MS} ms`, {
        code,
        reason: message,
      });
    } else {
      this.failure.at = now;
      this.failure.refused++;
    }
    return new StoreUnavailableError(`the database refuses writes: ${reason}; nothing of this request was stored, send it again later`);
  }

  /** A write succeeded: an episode of failures, if any, is over. */
  ok(): void {
    const f = this.failure;
    if (!f) return;
    this.failure = undefined;
    this.log.warn('store-recovered', `the database takes writes again after ${((Date.now() - f.since) / 1000).toFixed(1)} s (${f.refused} writes refused meanwhile)`, {
      seconds: (Date.now() - f.since) / 1000,
      refused: f.refused,
    });
  }
}
