/**
 * Turns decoded device lines into points, one stream per mapped channel: device time to x
 * (wall-clock ms, which the stream client sends as date strings, or seconds since start) where a
 * hello declared it, else the line's arrival time; arrays of consecutive samples spread at 1/rate.
 */
import {
  DEFAULT_SAMPLE_RATE_HZ,
  deviceKeys,
  isChannelKey,
  signalStates,
  type HelloLine,
} from '../shared/index.js';
import { SampleScan } from './sample-scan.js';
import { DeviceClock } from './device-clock.js';
import type { DecodedLine } from './line-decoder.js';

/** 'date': x is the wall-clock time in ms (the client formats it); 'seconds': since the first point. */
export type XMode = 'date' | 'seconds';

/**
 * Where points go, a run at a time: points i in [from, to) of the columns xs and ys (usually a
 * StreamClient's pushMany). Columns, not a call per point: a time passed to a function that is
 * not inlined is boxed, a heap allocation per point that cost more than decoding the line.
 */
export type PointSink = (xs: Float64Array, ys: Float64Array, from: number, to: number) => void;

export interface RouterCounts {
  points: number;
  /** Channels seen in sample lines that no --map names (each counted once). */
  unmapped: string[];
}

/** The signal states of a quality event by number, as "quality.sig" streams them (the order of shared/device-lines.ts). */
export const SIGNAL_CODES: readonly string[] = Object.values(signalStates);

/** An event's value as a point's y: numbers as they are, true/false as 1/0 ("lead.off"), a signal state as its code. */
function eventNumber(key: string, value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (key === deviceKeys.SIGNAL && typeof value === 'string') {
    const code = SIGNAL_CODES.indexOf(value);
    return code < 0 ? undefined : code;
  }
  return undefined;
}

/**
 * A map key is a channel name of the sample lines ("ecg"), or EVENT.KEY for a value in an event
 * line ("beat.bpm", "quality.q", "lead.off" as 1/0, "quality.sig" as its code in SIGNAL_CODES).
 */
export class PointRouter {
  readonly counts: RouterCounts = { points: 0, unmapped: [] };
  readonly clock: DeviceClock;
  private rate: number = DEFAULT_SAMPLE_RATE_HZ;
  private startWall: number | undefined;
  private readonly unmappedSeen = new Set<string>();
  /** Sample lines that come as objects are routed through this, like scanned ones. */
  private readonly scratch = new SampleScan();
  /** x of each value of the line being routed (same indices as the scan's values). */
  private readonly xs = new Float64Array(SampleScan.MAX_VALUES);
  /** An event's one value. */
  private readonly one = new Float64Array(1);

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

  /** The port was reopened, or the board restarted ("n" started over): its clock starts again. */
  restarted(): void {
    this.clock.reset();
  }

  /** Routes a line that arrived at receivedAt; `stamped` when its "n" and "t" are stamps. */
  route(decoded: DecodedLine, receivedAt: number, stamped = true): void {
    if (decoded.kind === 'hello') return this.hello(decoded.line);
    if (decoded.kind === 'scan') return this.routeSample(decoded.scan, receivedAt);
    if (decoded.kind === 'sample') return this.routeSample(this.scratch.fromLine(decoded.line, stamped), receivedAt);
    const line = decoded.line as Record<string, unknown>;
    const wall = this.wallTime(stamped ? (line[deviceKeys.TIME] as number | undefined) : undefined, receivedAt);
    this.clock.gave(wall);
    const prefix = `${line[deviceKeys.EVENT] as string}.`;
    for (const key in line) {
      const value = eventNumber(key, line[key]);
      if (value === undefined || (stamped && !isChannelKey(key))) continue;
      const sink = this.sinks.get(prefix + key);
      if (!sink) continue;
      this.xs[0] = this.x(wall);
      this.one[0] = value;
      this.emit(sink, this.one, 0, 1);
    }
  }

  private routeSample(scan: SampleScan, receivedAt: number): void {
    const wall = this.wallTime(scan.time, receivedAt);
    const step = 1000 / this.rate;
    let longest = 1;
    for (let c = 0; c < scan.channels; c++) longest = Math.max(longest, (scan.starts[c + 1] as number) - (scan.starts[c] as number));
    this.clock.gave(wall + (longest - 1) * step);
    for (let c = 0; c < scan.channels; c++) {
      const key = scan.names[c] as string;
      const sink = this.sinks.get(key);
      if (!sink) {
        this.noteUnmapped(key);
        continue;
      }
      const from = scan.starts[c] as number;
      const to = scan.starts[c + 1] as number;
      for (let i = from; i < to; i++) this.xs[i] = this.x(wall + (i - from) * step);
      this.emit(sink, scan.values, from, to);
    }
  }

  private wallTime(t: number | undefined, receivedAt: number): number {
    if (t !== undefined) return this.clock.wallTime(t, receivedAt);
    // Arrival times never go back, but a line's samples spread past it may reach past the next
    // line's arrival: that line starts just after them (a microsecond, so nothing drifts).
    return Math.max(receivedAt, this.clock.latest + 0.001);
  }

  /** x of a point: the wall-clock ms, or seconds since the first point (to the microsecond). */
  private x(wallMs: number): number {
    if (this.xMode === 'date') return wallMs;
    this.startWall ??= wallMs;
    return Math.round((wallMs - this.startWall) * 1000) / 1e6;
  }

  /** Hands the points [from, to) to the sink: ys with their x, kept in this.xs at the same indices. */
  private emit(sink: PointSink, ys: Float64Array, from: number, to: number): void {
    this.counts.points += to - from;
    sink(this.xs, ys, from, to);
  }

  private noteUnmapped(key: string): void {
    if (this.unmappedSeen.has(key)) return;
    this.unmappedSeen.add(key);
    this.counts.unmapped.push(key);
  }
}
