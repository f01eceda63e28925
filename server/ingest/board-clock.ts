/**
 * plotly-convertTimestamp: Plotly's Arduino libraries send `millis()` as x and name a time zone
 * in this header; the server turns each x into a date in that zone. The board's clock is
 * anchored at the arrival of its first x, so dates keep the board's own spacing; it wraps every
 * 49.7 days (uint32), and a board that resets starts again near 0: a clock that jumps back, or
 * drifts more than a minute from arrival times, is anchored again.
 */
import { formatDateInZone, isTimeZone } from '../../shared/dates.js';
import { PlotwireError } from '../../shared/errors.js';

export const CONVERT_TIMESTAMP_HEADER = 'plotly-converttimestamp';

export class TimeZoneError extends PlotwireError {
  readonly code = 'PW_ERR_TIME_ZONE';
}

const WRAP = 2 ** 32;
const MAX_DRIFT_MS = 60_000;
/** millis() never goes back: a step back of more than this is the board starting over. */
const RESET_MS = 1_000;

export class BoardClock {
  readonly zone: string;
  /** Wall-clock ms minus board ms, from the anchor. */
  private offset = NaN;
  private last = 0;
  private wraps = 0;

  /** The header's value, quoted or not ("America/Montreal"); a TimeZoneError when it is no zone. */
  constructor(header: string) {
    this.zone = header.trim().replace(/^"(.*)"$/, '$1');
    if (!isTimeZone(this.zone)) {
      throw new TimeZoneError(
        `${CONVERT_TIMESTAMP_HEADER} names no time zone this server knows: ${JSON.stringify(this.zone.slice(0, 64))} (use an IANA name such as America/Montreal or UTC)`,
      );
    }
  }

  /** The date of board time `ms` (its millis()) that arrived at `arrivedAt` (ms since the epoch). */
  date(ms: number, arrivedAt: number): string {
    if (Number.isNaN(this.offset)) return this.anchor(ms, arrivedAt);
    const step = ms - this.last;
    if (step < -WRAP / 2) this.wraps++;
    else if (step < -RESET_MS) return this.anchor(ms, arrivedAt);
    const wall = this.offset + ms + this.wraps * WRAP;
    if (Math.abs(wall - arrivedAt) > MAX_DRIFT_MS) return this.anchor(ms, arrivedAt);
    this.last = ms;
    return formatDateInZone(wall, this.zone);
  }

  private anchor(ms: number, arrivedAt: number): string {
    this.offset = arrivedAt - ms;
    this.wraps = 0;
    this.last = ms;
    return formatDateInZone(arrivedAt, this.zone);
  }
}
