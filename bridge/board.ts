/**
 * One board: its source (a serial port, standard input or TCP), decoding with counts, the wait
 * for the board's reset after an open, routing of points to the streams its channels map to, and
 * of the Yún library's messages to the tokens they name. Everything thrown away is shown
 * (DiscardLog); "n" and "t" plotted as channels (no hello declared them) are said once.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_BAUD, DEFAULT_SAMPLES_PER_LINE, MAX_LINE, deviceKeys, eventTypes, signalStates, type DeviceLine, type HelloLine, type QualityEvent } from '../shared/index.js';
import type { LogRecord } from '../shared/log.js';
import { DiscardLog, framerReason, lineReason, type DiscardReason } from './discard-log.js';
import { LineDecoder, type DecodedLine, type DecoderCounts } from './line-decoder.js';
import type { XValue } from './point-buffer.js';
import { PointRouter, type PointSink, type XMode } from './point-router.js';
import { createSource, type SourceOptions } from './sources/create-source.js';
import type { LineSource, SourceStats } from './sources/line-source.js';
import { parseYunMessage, YUN_SUBSCRIBER } from './yun-message.js';

/**
 * Where a Yún message's point goes: its own token's stream. Returns why it cannot be taken
 * (the port's token cap reached, the token stopped), or undefined.
 */
export type LegacySink = (token: string, x: XValue, y: number) => string | undefined;

export interface BoardOptions {
  readonly source: SourceOptions;
  /**
   * After an open, hold lines this long (ms) waiting for the board's reset: a hello within it
   * drops the lines before it (stale, from before the reset); without one they are passed on.
   */
  readonly resetWaitMs?: number;
  readonly xMode?: XMode;
  /** Discarded lines shown in full before only summaries (default 5). */
  readonly showBad?: number;
  /** Yún library messages (plotly_yun): each to the token it names. Without it they are discarded. */
  readonly legacy?: LegacySink;
  /** Changes of the signal state are logged at most this often, in ms (default 5000). */
  readonly qualityLogMs?: number;
}

export interface BoardStats {
  readonly serial: SourceStats;
  readonly decoder: DecoderCounts;
  readonly points: number;
  /** Lines held during a reset wait and dropped because a hello followed. */
  readonly staleDropped: number;
  readonly hello: HelloLine | undefined;
  readonly unmapped: readonly string[];
  /** Frames thrown away, by reason (each shown or summarised in the log). */
  readonly discarded: Readonly<Record<DiscardReason, number>>;
  /** Points of Yún library messages handed to their tokens. */
  readonly legacyPoints: number;
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

type Held = { line: DeviceLine; at: number; stamped: boolean };

export class Board extends EventEmitter<{ log: [LogRecord]; hello: [HelloLine]; end: [] }> {
  readonly source: LineSource;
  readonly decoder: LineDecoder;
  readonly router: PointRouter;
  private readonly discards: DiscardLog;
  private readonly resetWaitMs: number;
  private readonly legacy: LegacySink | undefined;
  private held: Held[] | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private staleDropped = 0;
  private hello: HelloLine | undefined;
  private loggedLost = 0;
  private lastGapLog = 0;
  private restarts = 0;
  private legacyPoints = 0;
  /** "n" / "t" keys already said to be channels on this connection. */
  private readonly saidUnstamped = new Set<string>();
  private readonly zonesSaid = new Set<string>();
  private readonly qualityLogMs: number;
  /** The device's signal state, and what of it the log has not said yet. */
  private signal: { state?: string; changes: number; loggedAt: number; unlogged: boolean } = { changes: 0, loggedAt: -Infinity, unlogged: false };

  constructor(
    private readonly options: BoardOptions,
    private readonly sinks: ReadonlyMap<string, PointSink>,
  ) {
    super();
    this.resetWaitMs = options.resetWaitMs ?? 2_000;
    this.legacy = options.legacy;
    this.qualityLogMs = options.qualityLogMs ?? 5_000;
    this.router = new PointRouter(sinks, options.xMode);
    this.discards = new DiscardLog(() => this.source.name, (r) => this.emit('log', r), { showFirst: options.showBad });
    this.decoder = new LineDecoder((err, text) => {
      const { reason, why } = lineReason(err, text, this.baud);
      this.discards.add(reason, why, text);
    });
    this.source = createSource(options.source);
    this.source.on('log', (r) => this.emit('log', r));
    this.source.on('open', () => this.opened());
    this.source.on('lost', () => this.settle());
    this.source.on('end', () => {
      this.settle();
      this.discards.summary();
      this.emit('end');
    });
    this.source.on('line', (buf, start, end, at) => this.line(buf, start, end, at));
    this.source.on('message', (name, buf, start, end, at) => this.message(name, buf.toString('utf8', start, end), at));
    this.source.on('discard', (kind, buf, start, end) => {
      const text = buf.toString('latin1', start, end);
      const { reason, why } = framerReason(kind, text, options.source.maxLine ?? MAX_LINE);
      this.discards.add(reason, why, text);
    });
  }

  private get baud(): number | undefined {
    const spec = this.source.connector.spec.kind;
    return spec === 'path' || spec === 'auto' || spec === 'usb' ? (this.options.source.baudRate ?? DEFAULT_BAUD) : undefined;
  }

  get stats(): BoardStats {
    return {
      serial: this.source.stats,
      decoder: { ...this.decoder.counts },
      points: this.router.counts.points,
      staleDropped: this.staleDropped,
      hello: this.hello,
      unmapped: [...this.router.counts.unmapped],
      discarded: { ...this.discards.counts },
      legacyPoints: this.legacyPoints,
    };
  }

  start(): this {
    this.source.start();
    return this;
  }

  async close(): Promise<void> {
    this.settle();
    this.discards.close();
    await this.source.close();
  }

  private opened(): void {
    this.decoder.reopened();
    this.router.restarted();
    this.saidUnstamped.clear();
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
    if (held) for (const h of held) this.route(h.line, h.at, h.stamped);
  }

  private line(buf: Buffer, start: number, end: number, at: number): void {
    const decoded = this.decoder.decodeBytes(buf, start, end);
    if (!decoded) return;
    if (this.decoder.counts.seqRestarts !== this.restarts) {
      // "n" started over without a hello: the board reset, its clock with it.
      this.restarts = this.decoder.counts.seqRestarts;
      this.router.restarted();
    }
    const stamped = this.decoder.stamped;
    if (!stamped && decoded.kind !== 'hello') this.noteUnstamped(decoded);
    if (this.held) {
      if (decoded.kind === 'hello') {
        this.staleDropped += this.held.length;
        this.held = [];
        this.settle();
      } else {
        // A scan is overwritten by the next line: hold a copy.
        this.held.push({ line: decoded.kind === 'scan' ? { kind: 'sample', line: decoded.scan.toLine() } : decoded, at, stamped });
        if (this.held.length >= MAX_HELD) this.settle();
        return;
      }
    }
    this.route(decoded, at, stamped);
  }

  private route(decoded: DecodedLine, at: number, stamped: boolean): void {
    if (decoded.kind === 'hello') this.greet(decoded.line);
    if (decoded.kind === 'event' && decoded.line[deviceKeys.EVENT] === eventTypes.QUALITY) this.noteSignal(decoded.line as QualityEvent);
    this.reportSignal();
    const unmapped = this.router.counts.unmapped.length;
    this.router.route(decoded, at, stamped);
    if (this.router.counts.unmapped.length > unmapped) {
      const name = this.router.counts.unmapped.at(-1);
      this.log('warn', 'unmapped', `${this.source.name}: channel "${name}" has no --map ${name}=TOKEN; its points are not sent`, { channel: name });
    }
    this.reportGaps();
  }

  /** Once per connection: a line's "n" or "t" is a channel, because no hello declared it a stamp. */
  private noteUnstamped(decoded: DecodedLine): void {
    const keys = decoded.kind === 'scan' ? decoded.scan.names.slice(0, decoded.scan.channels) : Object.keys(decoded.line);
    for (const key of [deviceKeys.TIME, deviceKeys.SEQ]) {
      if (!keys.includes(key) || this.saidUnstamped.has(key)) continue;
      this.saidUnstamped.add(key);
      const what = key === deviceKeys.TIME ? 'device time' : 'a sequence number';
      this.log('info', 'unstamped-key', `${this.source.name}: "${key}" is plotted as a channel like any key: it is ${what} only after a plotwire hello declares it (docs/protocol.md); map it with --map ${key}=TOKEN to plot it`, { key });
    }
  }

  private greet(hello: HelloLine): void {
    this.hello = hello;
    const ch = hello[deviceKeys.CHANNELS];
    // The watchdog's pace: a line every spl / rate seconds.
    this.source.hello((1000 * (hello[deviceKeys.SAMPLES_PER_LINE] ?? DEFAULT_SAMPLES_PER_LINE)) / hello[deviceKeys.RATE]);
    this.log('info', 'hello', `${this.source.name}: ${hello[deviceKeys.BOARD]} firmware ${hello[deviceKeys.FIRMWARE]}, protocol ${hello[deviceKeys.HELLO]}, ${hello[deviceKeys.RATE]} Hz, channels ${ch.join(', ')}`, {
      hello,
    });
    for (const key of this.sinks.keys()) {
      if (!key.includes('.') && !ch.includes(key)) {
        this.log('warn', 'map-unknown', `--map ${key}=...: the board announces no channel "${key}" (it has ${ch.join(', ')})`, { channel: key });
      }
    }
    this.emit('hello', hello);
  }

  /** A Yún library message: a point for the token it names. */
  private message(subscriber: string, text: string, at: number): void {
    const framed = `\x1d${subscriber}\x1e${text}\x1f`;
    if (subscriber !== YUN_SUBSCRIBER) return this.discards.add('legacy', `a YunMessenger message for "${subscriber}", not for "${YUN_SUBSCRIBER}"`, framed);
    if (!this.legacy) return this.discards.add('legacy', 'Yún library messages are not taken on this port', framed);
    const point = parseYunMessage(text, at);
    if ('error' in point) return this.discards.add('legacy', `Yún message: ${point.error}`, text);
    if (point.unknownZone && !this.zonesSaid.has(point.unknownZone)) {
      this.zonesSaid.add(point.unknownZone);
      this.log('warn', 'unknown-zone', `${this.source.name}: time zone "${point.unknownZone}" is not known here: x is the local time instead`, { zone: point.unknownZone });
    }
    const refused = this.legacy(point.token, point.x, point.y);
    if (refused) return this.discards.add('legacy', refused, text);
    this.legacyPoints++;
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
    this.log(s.state === signalStates.OK ? 'info' : 'warn', 'signal', `${this.source.name}: signal ${s.state}: ${SIGNAL_MEANING[s.state!] ?? 'a state this bridge does not know'}${more}`, {
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
    this.log('warn', 'serial-gap', `${this.source.name}: ${lost - this.loggedLost} line(s) lost on the serial link (gaps in "n"), ${lost} in all`, { lost });
    this.loggedLost = lost;
    this.lastGapLog = now;
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, ...fields });
  }
}
