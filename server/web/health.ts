/**
 * The header's state badge and rate. "live" means points are coming, not only that the line is
 * open: with no point for longer than the stream's own pace allows (several of its usual gaps,
 * at least STALL_MIN_MS) the badge says stalled. The rate is over the last second, so it drops
 * to nothing a second after a stream stops.
 */
export type State = 'connecting' | 'live' | 'stalled' | 'reconnecting' | 'offline' | 'ended';

const STALL_MIN_MS = 2000;
const STALL_GAPS = 4;
const RATE_WINDOW_MS = 1000;
const TICK_MS = 250;

const format = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: n >= 10 ? 0 : 1 });

export class Health {
  received = 0;
  updates = 0;
  state: State = 'connecting';
  private lastDataAt = 0;
  /** The usual gap between messages with points, smoothed. */
  private gapMs = 0;
  private readonly samples: { at: number; points: number; updates: number }[] = [];

  constructor(
    private readonly stateEl: HTMLElement,
    private readonly rateEl: HTMLElement,
  ) {
    this.tick();
    setInterval(() => this.tick(), TICK_MS);
  }

  set(state: State, text: string = state): void {
    this.state = state;
    this.stateEl.dataset.state = state;
    this.stateEl.textContent = text;
  }

  /** A message arrived. */
  update(): void {
    this.updates++;
  }

  /** A message with n points arrived. */
  points(n: number): void {
    const now = performance.now();
    if (this.lastDataAt) this.gapMs = this.gapMs ? 0.9 * this.gapMs + 0.1 * (now - this.lastDataAt) : now - this.lastDataAt;
    this.lastDataAt = now;
    this.received += n;
    if (this.state === 'stalled') this.set('live');
  }

  /** How long without a point counts as stalled, from the stream's pace. */
  get stallMs(): number {
    return Math.max(STALL_MIN_MS, STALL_GAPS * this.gapMs);
  }

  private tick(): void {
    const now = performance.now();
    this.samples.push({ at: now, points: this.received, updates: this.updates });
    while (this.samples.length > 1 && now - (this.samples[0] as { at: number }).at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0] as { at: number; points: number; updates: number };
    const seconds = (now - first.at) / 1000;
    const points = seconds > 0 ? (this.received - first.points) / seconds : 0;
    const perSecond = seconds > 0 ? (this.updates - first.updates) / seconds : 0;
    this.rateEl.dataset.pointsPerSecond = String(points);
    const quiet = now - this.lastDataAt;
    if (this.lastDataAt && this.state === 'live' && quiet > this.stallMs) this.set('stalled', `stalled`);
    if (points > 0) this.rateEl.textContent = `${format(points)} points/s · ${format(perSecond)} updates/s`;
    else if (this.lastDataAt) this.rateEl.textContent = `no new points for ${Math.round(quiet / 1000)} s`;
    else this.rateEl.textContent = 'waiting for points';
  }
}
