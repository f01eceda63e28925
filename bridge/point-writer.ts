/**
 * What a stream connection writes from: a writer turns pushed points into stream objects, one
 * per send window. The batch writer (plotwire's append + seq, lossless, resumable) and the legacy
 * writer (one decimated point per window, for an endpoint without the extension) both fit it.
 */
import type { PointStyle, XValue } from './point-buffer.js';

/** A writer that numbers its points (plotwire's seq), so a client can resume after any break. */
export interface Sequence {
  /** seq of the oldest point held. */
  readonly startSeq: number;
  /** Points written on the current connection and not yet confirmed stored. */
  readonly unconfirmed: number;
  /** Numbers the held points from `next` on (a new client continuing a token's numbering). */
  renumber(next: number): void;
  /** The server has every point before `next` (a new connection): see PointBuffer.resync. */
  resync(next: number): { stored: number; gap: number; ahead: number };
  /** The server stored every point before `next`; returns how many this frees. */
  acknowledge(next: number): number;
}

export interface PointWriter {
  /** How the stream is written, for the log line when it opens ("from seq 1200", "(legacy, mean)"). */
  describe(): string;
  push(x: XValue, y: number, style?: PointStyle): void;
  /** Points i in [from, to) of two number columns. */
  pushMany(xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number): void;
  /** Points held: not yet confirmed stored (batch), or not yet sent (legacy). */
  readonly held: number;
  readonly heldBytes: number;
  /** Points this writer dropped: its memory budget was full, or they were decimated away. */
  readonly dropped: number;
  /** Whether an object waits to be written. */
  readonly pending: boolean;
  /** The next object's line (newline included) and how many points it carries; moves past them. */
  take(): { readonly line: string | Buffer; readonly points: number } | undefined;
  /** Makes what is held into objects now, so a closing stream can send them. */
  seal(): void;
  /** The connection ended: what was written but not confirmed goes again on the next one. */
  rewind(): void;
  /** Drops everything held (the token stopped); returns how many points that was. */
  clear(): number;
  /** Present when the writer numbers its points. */
  readonly sequence?: Sequence;
}
