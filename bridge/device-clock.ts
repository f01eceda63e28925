/**
 * Device time to wall-clock time. "t" is the board's millisecond clock, a uint32 that wraps every
 * 49.7 days; it is unwrapped and anchored to the host clock at the first sample after an open, a
 * hello or a restart of the device clock (t going back: a reset whose hello was lost), so x
 * values keep the device's exact spacing rather than serial arrival jitter.
 *
 * Lines read late (a busy host, a backlog in the port) arrive long after their device time; that
 * passes. Only a lag that lasts (the board's clock really running slow) moves the anchor, and
 * only forwards. A new anchor is never before the points already given out (a backlog read at
 * once runs ahead of the host clock), so x values never go back, not even across a reset.
 */

const T_MOD = 2 ** 32;
const T_HALF = 2 ** 31;
/** t going back further than this is the device clock starting over (a beat event's t, earlier than the sample before it, goes back a few seconds at most). */
const RESTART_BACK_MS = 10_000;

export class DeviceClock {
  private last: number | undefined;
  private unwrapped = 0;
  private anchorDevice = 0;
  private anchorWall = 0;
  /** Device time (unwrapped) since which the lag has been over maxSkewMs, if it is. */
  private lagSince: number | undefined;
  /** Times the anchor moved because the device clock lagged by more than maxSkewMs for persistMs. */
  reanchors = 0;
  /** Times t went back: the device clock started over. */
  restarts = 0;
  /** The last point given out (wall ms): a new anchor comes after it. */
  private givenUntil = -Infinity;

  constructor(
    /** When device time lags arrival time by more than this ... */
    private readonly maxSkewMs = 2_000,
    /** ... for this long (device time), re-anchor. */
    private readonly persistMs = 10_000,
  ) {}

  /** Forget the device clock (a reset or a reopen): the next sample anchors again. */
  reset(): void {
    this.last = undefined;
    this.lagSince = undefined;
  }

  /** Points up to wallMs have been given out: no later anchor goes before it. */
  gaveOut(wallMs: number): void {
    if (wallMs > this.givenUntil) this.givenUntil = wallMs;
  }

  /** The wall-clock time in ms of device time t, seen at receivedAt (ms since the epoch). */
  wallTime(t: number, receivedAt: number): number {
    let delta = 0;
    if (this.last !== undefined) {
      delta = (t - this.last + T_MOD) % T_MOD;
      if (delta >= T_HALF) delta -= T_MOD;
      if (delta < -RESTART_BACK_MS) {
        this.restarts++;
        this.reset();
      }
    }
    if (this.last === undefined) {
      this.unwrapped = t;
      this.anchor(receivedAt);
    } else {
      this.unwrapped += delta;
    }
    this.last = t;
    const wall = this.anchorWall + (this.unwrapped - this.anchorDevice);
    if (receivedAt - wall <= this.maxSkewMs) {
      this.lagSince = undefined;
      return wall;
    }
    this.lagSince ??= this.unwrapped;
    if (this.unwrapped - this.lagSince < this.persistMs) return wall;
    this.reanchors++;
    this.lagSince = undefined;
    this.anchor(receivedAt);
    return this.anchorWall;
  }

  private anchor(receivedAt: number): void {
    this.anchorDevice = this.unwrapped;
    // A millisecond after the last point, at the earliest.
    this.anchorWall = Math.max(receivedAt, this.givenUntil + 1);
  }
}
