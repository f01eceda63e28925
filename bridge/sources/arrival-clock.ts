/**
 * When each byte of a read arrived, as near as the host can know: a line's x is then its own time,
 * not the time of the read that took it with a dozen others (at 100 lines/s, one 52 ms read
 * held five lines, which all got one x).
 *
 * A read says when it happened (`at`) and since when its bytes may have waited unread (`since`:
 * when reading last paused, or `at` itself when bytes are read as they come). Bytes that waited
 * are spread evenly over the wait, as a board writing at a steady pace wrote them; bytes that
 * cannot have taken less time on the wire than the link allows (a saturated serial link, or a
 * read as they came) are placed back to back at the link's byte time, ending at `at`. Times
 * never go back.
 */
export class ArrivalClock {
  private at = 0;
  private start = 0;
  private step = 0;
  private last = -Infinity;

  /** Seconds per byte on the wire, as ms (serial: 10 bits a byte at the baud rate); 0 when unknown. */
  constructor(private readonly byteMs = 0) {}

  /** A read of `bytes` bytes at `at` that may have waited since `since` (ms since the epoch). */
  read(bytes: number, at: number, since: number): void {
    const wait = Math.max(0, at - since);
    const wire = Math.max(0, bytes - 1) * this.byteMs;
    this.at = at;
    if (bytes <= 1 || wire >= wait) {
      this.step = this.byteMs;
      this.start = at - wire;
    } else {
      this.step = wait / bytes;
      this.start = since + this.step;
    }
  }

  /** When byte `offset` of the last read arrived (never before an earlier answer). */
  byteAt(offset: number): number {
    const t = Math.min(this.at, this.start + offset * this.step);
    if (t < this.last) return this.last;
    this.last = t;
    return t;
  }
}
