/**
 * Turns decoded device lines into points, one stream per mapped channel: device time to x
 * (wall-clock ms, which the stream client sends as date strings, or seconds since start), arrays
 * of consecutive samples spread at 1/rate.
 */
import {
  DEFAULT_SAMPLE_RATE_HZ,
  deviceKeys,
  isChannelKey,
  type HelloLine,
} from '../shared/index.js';
import { SampleScan } from '../shared/sample-bytes.js';
import { DeviceClock } from './device-clock.js';
import { seqGap, type DecodedLine } from './line-decoder.js';

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

/**
 * A map key is a channel name of the sample lines ("ecg"), or EVENT.KEY for a number in an event
 * line ("beat.bpm", "quality.q").
 */
export class PointRouter {
  readonly counts: RouterCounts = { points: 0, unmapped: [] };
  readonly clock: DeviceClock;
  private rate: number = DEFAULT_SAMPLE_RATE_HZ;
  private startWall: number | undefined;
  /** The last line's "n": its going back is a reset whose hello was lost (cut by the reset). */
  private lastSeq: number | undefined;
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
    this.reopened();
  }

  /** The port was reopened: the device clock may have restarted. */
  reopened(): void {
    this.clock.reset();
    this.lastSeq = undefined;
  }

  route(decoded: DecodedLine, receivedAt: number): void {
    if (decoded.kind === 'hello') return this.hello(decoded.line);
    const seq = decoded.kind === 'scan' ? decoded.scan.seq : decoded.line[deviceKeys.SEQ];
    if (seq !== undefined) {
      if (this.lastSeq !== undefined && seqGap(this.lastSeq, seq) === 'restart') this.clock.reset();
      this.lastSeq = seq;
    }
    if (decoded.kind === 'scan') return this.routeSample(decoded.scan, receivedAt);
    if (decoded.kind === 'sample') return this.routeSample(this.scratch.fromLine(decoded.line), receivedAt);
    const line = decoded.line as Record<string, unknown>;
    const wall = this.wallTime(line[deviceKeys.TIME] as number | undefined, receivedAt);
    const prefix = `${line[deviceKeys.EVENT] as string}.`;
    for (const key in line) {
      const value = line[key];
      if (typeof value !== 'number' || !isChannelKey(key)) continue;
      const sink = this.sinks.get(prefix + key);
      if (!sink) continue;
      this.xs[0] = this.x(wall);
      this.one[0] = value;
      this.emit(sink, this.one, 0, 1);
    }
    this.clock.gaveOut(wall);
  }

  private routeSample(scan: SampleScan, receivedAt: number): void {
    const wall = this.wallTime(scan.time, receivedAt);
    const step = 1000 / this.rate;
    let last = wall;
    for (let c = 0; c < scan.channels; c++) {
      const key = scan.names[c] as string;
      const from = scan.starts[c] as number;
      const to = scan.starts[c + 1] as number;
      last = Math.max(last, wall + (to - from - 1) * step);
      const sink = this.sinks.get(key);
      if (!sink) {
        this.noteUnmapped(key);
        continue;
      }
      for (let i = from; i < to; i++) this.xs[i] = this.x(wall + (i - from) * step);
      this.emit(sink, scan.values, from, to);
    }
    this.clock.gaveOut(last);
  }

  private wallTime(t: number | undefined, receivedAt: number): number {
    return t === undefined ? receivedAt : this.clock.wallTime(t, receivedAt);
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
