/**
 * When a silent board is reopened: never because it is merely slow. A fixed limit reset a sketch
 * that prints every 20 s four times in 80 s (reopening an Uno resets it); this one learns the
 * board's pace and fires only after a silence well past it:
 * - from the hello, which says how often lines come (rate / samples per line);
 * - else from the gaps between lines it has seen, once it has watched the board for at least
 *   the floor and seen a few lines (a burst of two lines says nothing about the pause after it).
 * Until the pace is known it never fires. The limit is never below the floor (--watchdog).
 */

/** A silence this many times the longest gap seen (or the hello's line interval ×10) is a stall. */
const GAP_FACTOR = 4;
const HELLO_FACTOR = 10;
/** Lines seen before gaps are trusted. */
const MIN_LINES = 4;

export class PaceWatchdog {
  private lastAt: number | undefined;
  private firstAt: number | undefined;
  private lines = 0;
  private maxGap = 0;
  private helloInterval = 0;

  /** floorMs: the shortest limit (0 turns the watchdog off). */
  constructor(readonly floorMs: number) {}

  /** A line arrived at `at`. */
  line(at: number): void {
    if (this.lastAt !== undefined) this.maxGap = Math.max(this.maxGap, at - this.lastAt);
    this.firstAt ??= at;
    this.lastAt = at;
    this.lines++;
  }

  /** The hello's pace: a line every this many ms. */
  hello(lineIntervalMs: number): void {
    this.helloInterval = lineIntervalMs;
  }

  /** A new connection: silence is counted from now; the pace learned is kept (same board). */
  opened(at: number): void {
    this.lastAt = at;
    this.firstAt = undefined;
    this.lines = 0;
    this.helloInterval = 0;
  }

  /** The silence in ms after which the board is reopened; undefined while off or unknown. */
  get limitMs(): number | undefined {
    if (this.floorMs <= 0) return undefined;
    const learned = this.trusted ? GAP_FACTOR * this.maxGap : 0;
    const fromHello = HELLO_FACTOR * this.helloInterval;
    if (!this.trusted && fromHello === 0) return undefined;
    return Math.max(this.floorMs, learned, fromHello);
  }

  /** Whether the board has been silent past its limit at `now`. */
  expired(now: number): boolean {
    const limit = this.limitMs;
    return limit !== undefined && this.lastAt !== undefined && now - this.lastAt > limit;
  }

  get silentFor(): number {
    return this.lastAt === undefined ? 0 : Date.now() - this.lastAt;
  }

  private get trusted(): boolean {
    return this.lines >= MIN_LINES && this.firstAt !== undefined && (this.lastAt as number) - this.firstAt >= this.floorMs;
  }
}
