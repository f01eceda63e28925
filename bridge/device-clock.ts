/**
 * Device time to wall-clock time. "t" is the board's millisecond clock, a uint32 that wraps every
 * 49.7 days; it is unwrapped and anchored to the host clock at the first sample after an open, a
 * hello or a restart, so x values keep the device's exact spacing rather than serial arrival
 * jitter.
 *
 * Lines read late (a busy host, a backlog in the port) arrive long after their device time; that
 * passes. Only a lag that lasts (the board's clock really running slow) moves the anchor, and
 * only forwards, so x values never go back.
 *
 * A board that resets starts its clock again. Whether the bridge saw it (a hello, "n" starting
 * over) or not ("t" jumping back by more than RESTART_MS), the next anchor is never before the
 * latest x already given: no point of a board is ever stored before an earlier one of the same
 * board, though its device clock restarted.
 */

const T_MOD = 2 ** 32;
const T_HALF = 2 ** 31;
/**
 * "t" going back by more than this is a restart. Less is not: a beat found by searchback is
 * sent with its own t, which can be seconds before the sample line just sent.
 */
export const RESTART_MS = 10_000;

export class DeviceClock {
  private last: number | undefined;
  private unwrapped = 0;
  private anchorDevice = 0;
  private anchorWall = 0;
  /** The latest x (wall ms) given for this board: a new anchor never goes before it. */
  private floor = -Infinity;
  /** Device time (unwrapped) since which the lag has been over maxSkewMs, if it is. */
  private lagSince: number | undefined;
  /** Times the anchor moved because the device clock lagged by more than maxSkewMs for persistMs. */
  reanchors = 0;
  /** Times "t" went back by more than RESTART_MS (a reset nobody announced). */
  restarts = 0;

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

  /** The latest x given for this board (ms), -Infinity before any. */
  get latest(): number {
    return this.floor;
  }

  /** An x given for this board (points spread after a line's time end later than its t). */
  gave(wallMs: number): void {
    if (wallMs > this.floor) this.floor = wallMs;
  }

  /** The wall-clock time in ms of device time t, seen at receivedAt (ms since the epoch). */
  wallTime(t: number, receivedAt: number): number {
    if (this.last !== undefined) {
      let delta = (t - this.last + T_MOD) % T_MOD;
      if (delta >= T_HALF) delta -= T_MOD;
      if (delta < -RESTART_MS) {
        this.restarts++;
        this.reset();
      } else this.unwrapped += delta;
    }
    if (this.last === undefined) {
      this.unwrapped = t;
      this.anchor(receivedAt);
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
    // Just after the latest x given, when the host clock would put it earlier.
    this.anchorWall = Math.max(receivedAt, this.floor + 1);
  }
}
