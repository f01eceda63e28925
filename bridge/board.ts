/**
 * One board: its serial source, decoding with counts, the wait for the board's reset after an
 * open, and routing of points to the streams its channels map to.
 */
import { EventEmitter } from 'node:events';
import { deviceKeys, eventTypes, signalStates, type DeviceLine, type HelloLine, type QualityEvent } from '../shared/index.js';
import { LineDecoder, type DecodedLine, type DecoderCounts } from './line-decoder.js';
import type { LogRecord } from './log.js';
import { PointRouter, type PointSink, type XMode } from './point-router.js';
import { SerialSource, type SerialSourceOptions, type SerialStats } from './serial-source.js';

export interface BoardOptions {
  readonly serial: SerialSourceOptions;
  /**
   * After an open, hold lines this long (ms) waiting for the board's reset: a hello within it
   * drops the lines before it (stale, from before the reset); without one they are passed on.
   */
  readonly resetWaitMs?: number;
  readonly xMode?: XMode;
  /** Invalid lines shown in full (with the reason) before only counting (default 5). */
  readonly showBad?: number;
  /** Changes of the signal state are logged at most this often, in ms (default 5000). */
  readonly qualityLogMs?: number;
}

export interface BoardStats {
  readonly serial: SerialStats;
  readonly decoder: DecoderCounts;
  readonly points: number;
  /** Lines held during a reset wait and dropped because a hello followed. */
  readonly staleDropped: number;
  readonly hello: HelloLine | undefined;
  readonly unmapped: readonly string[];
}

/** Lines held in a reset wait at most (a flood must not grow it). */
const MAX_HELD = 20_000;
const GAP_LOG_MS = 5_000;
/** What each signal state of a quality event means, for a person reading the log. */
const SIGNAL_MEANING: Record<string, string> = {
  [signalStates.OK]: 'beats and a rate',
  [signalStates.LOST]: 'no beat found for a while, or a lead off',
  [signalStates.NOISY]: 'too noisy to tell beats from noise: no beats or rate until it calms down',
  [signalStates.FLAT]: 'a flat line (is the sensor connected?): no beats or rate',
  [signalStates.CLIPPED]: 'at an ADC rail (gain or light too high, or an electrode off): no beats or rate',
  [signalStates.WEAK]: 'too small to be a heartbeat (check the contact of the sensor): no beats or rate',
};

export class Board extends EventEmitter<{ log: [LogRecord] }> {
  readonly source: SerialSource;
  readonly decoder: LineDecoder;
  readonly router: PointRouter;
  private readonly resetWaitMs: number;
  private held: Array<[DeviceLine, number]> | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private staleDropped = 0;
  private hello: HelloLine | undefined;
  private loggedLost = 0;
  private lastGapLog = 0;
  private readonly qualityLogMs: number;
  /** The device's signal state, and what of it the log has not said yet. */
  private signal: { state?: string; changes: number; loggedAt: number; unlogged: boolean } = { changes: 0, loggedAt: -Infinity, unlogged: false };

  constructor(
    options: BoardOptions,
    private readonly sinks: ReadonlyMap<string, PointSink>,
  ) {
    super();
    const port = options.serial.port;
    this.resetWaitMs = options.resetWaitMs ?? 2_000;
    this.qualityLogMs = options.qualityLogMs ?? 5_000;
    this.router = new PointRouter(sinks, options.xMode);
    const showBad = options.showBad ?? 5;
    this.decoder = new LineDecoder(showBad, (bad, count) => {
      if (count <= showBad) {
        this.log('warn', 'bad-line', `${port}: ignored a line: ${bad.reason}: ${JSON.stringify(bad.line)}${count === showBad ? ' (further bad lines are only counted)' : ''}`, {
          port,
          line: bad.line,
          reason: bad.reason,
        });
      }
    });
    this.source = new SerialSource(options.serial);
    this.source.on('log', (r) => this.emit('log', r));
    this.source.on('open', () => this.opened());
    this.source.on('lost', () => this.settle());
    this.source.on('line', (buf, start, end, receivedAt) => this.line(buf, start, end, receivedAt));
  }

  get stats(): BoardStats {
    return {
      serial: this.source.stats,
      decoder: { ...this.decoder.counts },
      points: this.router.counts.points,
      staleDropped: this.staleDropped,
      hello: this.hello,
      unmapped: [...this.router.counts.unmapped],
    };
  }

  start(): this {
    this.source.start();
    return this;
  }

  async close(): Promise<void> {
    this.settle();
    await this.source.close();
  }

  private opened(): void {
    this.decoder.resetSequence();
    this.router.reopened();
    if (this.resetWaitMs <= 0) return;
    this.held = [];
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.settle(), this.resetWaitMs);
  }

  /** Ends a reset wait, passing on what was held. */
  private settle(): void {
    clearTimeout(this.settleTimer);
    const held = this.held;
    this.held = undefined;
    if (held) for (const [line, at] of held) this.route(line, at);
  }

  private line(buf: Buffer, start: number, end: number, receivedAt: number): void {
    const decoded = this.decoder.decodeBytes(buf, start, end);
    if (!decoded) return;
    if (this.held) {
      if (decoded.kind === 'hello') {
        this.staleDropped += this.held.length;
        this.held = [];
        this.settle();
      } else {
        // A scan is overwritten by the next line: hold a copy.
        this.held.push([decoded.kind === 'scan' ? { kind: 'sample', line: decoded.scan.toLine() } : decoded, receivedAt]);
        if (this.held.length >= MAX_HELD) this.settle();
        return;
      }
    }
    this.route(decoded, receivedAt);
  }

  private route(decoded: DecodedLine, receivedAt: number): void {
    if (decoded.kind === 'hello') this.greet(decoded.line);
    if (decoded.kind === 'event' && decoded.line[deviceKeys.EVENT] === eventTypes.QUALITY) this.noteSignal(decoded.line as QualityEvent);
    this.reportSignal();
    const unmapped = this.router.counts.unmapped.length;
    this.router.route(decoded, receivedAt);
    if (this.router.counts.unmapped.length > unmapped) {
      const name = this.router.counts.unmapped.at(-1);
      this.log('warn', 'unmapped', `${this.source.stats.port}: channel "${name}" has no --map ${name}=TOKEN; its points are not sent`, { channel: name });
    }
    this.reportGaps();
  }

  private greet(hello: HelloLine): void {
    this.hello = hello;
    const ch = hello[deviceKeys.CHANNELS];
    this.log('info', 'hello', `${this.source.stats.port}: ${hello[deviceKeys.BOARD]} firmware ${hello[deviceKeys.FIRMWARE]}, protocol ${hello[deviceKeys.HELLO]}, ${hello[deviceKeys.RATE]} Hz, channels ${ch.join(', ')}`, {
      hello,
    });
    for (const key of this.sinks.keys()) {
      if (!key.includes('.') && !ch.includes(key)) {
        this.log('warn', 'map-unknown', `--map ${key}=...: the board announces no channel "${key}" (it has ${ch.join(', ')})`, { channel: key });
      }
    }
  }

  private noteSignal(q: QualityEvent): void {
    const state = q[deviceKeys.SIGNAL];
    if (state === this.signal.state) return;
    this.signal.state = state;
    this.signal.changes++;
    this.signal.unlogged = true;
  }

  /** The signal state when it changed, at most every qualityLogMs: a signal flapping between states is summed up. */
  private reportSignal(): void {
    const s = this.signal;
    const now = Date.now();
    if (!s.unlogged || now - s.loggedAt < this.qualityLogMs) return;
    const more = s.changes > 1 ? ` (${s.changes} changes since the last report)` : '';
    this.log(s.state === signalStates.OK ? 'info' : 'warn', 'signal', `${this.source.stats.port}: signal ${s.state}: ${SIGNAL_MEANING[s.state!] ?? 'a state this bridge does not know'}${more}`, {
      signal: s.state,
      changes: s.changes,
    });
    s.loggedAt = now;
    s.changes = 0;
    s.unlogged = false;
  }

  /** Serial gaps are logged, at most every few seconds (the status line shows them live). */
  private reportGaps(): void {
    const lost = this.decoder.counts.lost;
    if (lost === this.loggedLost) return;
    const now = Date.now();
    if (now - this.lastGapLog < GAP_LOG_MS) return;
    this.log('warn', 'serial-gap', `${this.source.stats.port}: ${lost - this.loggedLost} line(s) lost on the serial link (gaps in "n"), ${lost} in all`, { lost });
    this.loggedLost = lost;
    this.lastGapLog = now;
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, ...fields });
  }
}
