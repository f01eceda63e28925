/**
 * Turns decoded device lines into points, one stream per mapped channel: device time to x
 * (wall-clock ms, which the stream client sends as date strings, or seconds since start), arrays
 * of consecutive samples spread at 1/rate.
 */
import {
  DEFAULT_SAMPLE_RATE_HZ,
  deviceKeys,
  isChannelKey,
  type DeviceLine,
  type HelloLine,
} from '../shared/index.js';
import { DeviceClock } from './device-clock.js';

/** 'date': x is the wall-clock time in ms (the client formats it); 'seconds': since the first point. */
export type XMode = 'date' | 'seconds';

/** Where a point goes: usually a StreamClient's push. */
export type PointSink = (x: number | string, y: number) => void;

export interface RouterCounts {
  points: number;
  /** Channels seen in sample lines that no --map names (each counted once). */
  unmapped: string[];
}

/**
 * A map key is a channel name of the sample lines ("ecg"), or EVENT.KEY for a number in an event
 * line ("beat.bpm", "quality.q").
 */
export class PointRouter {
  readonly counts: RouterCounts = { points: 0, unmapped: [] };
  readonly clock: DeviceClock;
  private rate: number = DEFAULT_SAMPLE_RATE_HZ;
  private startWall: number | undefined;
  private readonly unmappedSeen = new Set<string>();

  constructor(
    private readonly sinks: ReadonlyMap<string, PointSink>,
    private readonly xMode: XMode = 'date',
    maxSkewMs?: number,
  ) {
    this.clock = new DeviceClock(maxSkewMs);
  }

  /** The hello's sample rate, or DEFAULT_SAMPLE_RATE_HZ before one (spreads array samples). */
  get sampleRate(): number {
    return this.rate;
  }

  hello(line: HelloLine): void {
    this.rate = line[deviceKeys.RATE];
    this.clock.reset();
  }

  /** The port was reopened: the device clock may have restarted. */
  reopened(): void {
    this.clock.reset();
  }

  route(decoded: DeviceLine, receivedAt: number): void {
    if (decoded.kind === 'hello') return this.hello(decoded.line);
    const line = decoded.line as Record<string, unknown>;
    const t = line[deviceKeys.TIME] as number | undefined;
    const wall = t === undefined ? receivedAt : this.clock.wallTime(t, receivedAt);
    if (decoded.kind === 'event') {
      const prefix = `${line[deviceKeys.EVENT] as string}.`;
      for (const key in line) {
        const value = line[key];
        if (typeof value !== 'number' || !isChannelKey(key)) continue;
        const sink = this.sinks.get(prefix + key);
        if (sink) this.emit(sink, wall, value);
      }
      return;
    }
    for (const key in line) {
      if (!isChannelKey(key)) continue;
      const sink = this.sinks.get(key);
      if (!sink) {
        this.noteUnmapped(key);
        continue;
      }
      const value = line[key] as number | number[];
      if (typeof value === 'number') this.emit(sink, wall, value);
      else {
        const step = 1000 / this.rate;
        for (let i = 0; i < value.length; i++) this.emit(sink, wall + i * step, value[i] as number);
      }
    }
  }

  private emit(sink: PointSink, wallMs: number, y: number): void {
    this.counts.points++;
    if (this.xMode === 'date') return sink(wallMs, y);
    this.startWall ??= wallMs;
    sink(Math.round((wallMs - this.startWall) * 1000) / 1e6, y);
  }

  private noteUnmapped(key: string): void {
    if (this.unmappedSeen.has(key)) return;
    this.unmappedSeen.add(key);
    this.counts.unmapped.push(key);
  }
}
