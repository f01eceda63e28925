/**
 * Device time to wall-clock time. "t" is the board's millisecond clock, a uint32 that wraps every
 * 49.7 days; it is unwrapped and anchored to the host clock at the first sample after an open or
 * a hello, so x values keep the device's exact spacing rather than serial arrival jitter.
 */

const T_MOD = 2 ** 32;
const T_HALF = 2 ** 31;

export class DeviceClock {
  private last: number | undefined;
  private unwrapped = 0;
  private anchorDevice = 0;
  private anchorWall = 0;
  /** Times the anchor moved because the two clocks drifted apart by more than maxSkewMs. */
  reanchors = 0;

  constructor(
    /** When device time and arrival time drift further apart than this, re-anchor. */
    private readonly maxSkewMs = 2_000,
  ) {}

  /** Forget the device clock (a reset or a reopen): the next sample anchors again. */
  reset(): void {
    this.last = undefined;
  }

  /** The wall-clock time in ms of device time t, seen at receivedAt (ms since the epoch). */
  wallTime(t: number, receivedAt: number): number {
    if (this.last === undefined) {
      this.unwrapped = t;
      this.anchor(receivedAt);
    } else {
      let delta = (t - this.last + T_MOD) % T_MOD;
      if (delta >= T_HALF) delta -= T_MOD;
      this.unwrapped += delta;
    }
    this.last = t;
    const wall = this.anchorWall + (this.unwrapped - this.anchorDevice);
    if (Math.abs(wall - receivedAt) > this.maxSkewMs) {
      this.reanchors++;
      this.anchor(receivedAt);
      return receivedAt;
    }
    return wall;
  }

  private anchor(receivedAt: number): void {
    this.anchorDevice = this.unwrapped;
    this.anchorWall = receivedAt;
  }
}
