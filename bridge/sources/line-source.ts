/**
 * A board's lines from any kind of source, under one set of rules: open it (or say once why it
 * cannot yet, and look again every rescanMs), frame its bytes with a bound (NDJSON lines and Yún
 * messages), time each frame by when its first byte arrived, and when the link goes away (unplug,
 * EIO, a closed socket) or the board falls silent past its learned pace, close it and open the
 * same board again. Standard input is not reopened: its end is the end of the source.
 */
import { EventEmitter } from 'node:events';
import { MAX_LINE } from '../../shared/index.js';
import type { LogRecord } from '../../shared/log.js';
import { DeviceLineFramer, type DiscardKind, type FramerCounts, type FrameSink } from '../device-line-framer.js';
import { describePortSpec } from '../port-spec.js';
import { ArrivalClock } from './arrival-clock.js';
import type { Connector, Link } from './link.js';
import { PaceWatchdog } from './pace-watchdog.js';

export interface LineSourceOptions {
  /** How often to look for the board while it is away, in ms (default 1000). */
  readonly rescanMs?: number;
  /** The shortest silence that reopens the board, in ms (default 15000; 0 turns it off). */
  readonly watchdogMs?: number;
  readonly maxLine?: number;
}

export type SourceState = 'searching' | 'opening' | 'open' | 'ended' | 'closed';

export interface SourceStats {
  /** The port as given ("auto", "usb:2341:0043", "tcp://...", "standard input"). */
  readonly port: string;
  /** What is open now (or was last). */
  readonly path: string | undefined;
  readonly identity: string | undefined;
  readonly state: SourceState;
  readonly opens: number;
  /** Times it looked for the board (the first open included). */
  readonly searches: number;
  readonly bytes: number;
  readonly watchdogReopens: number;
  /** The silence that reopens the board now, learned from its pace (undefined: not yet known, or off). */
  readonly watchdogLimitMs: number | undefined;
  readonly framer: FramerCounts;
}

export interface LineSourceEvents {
  /** A line's bytes (valid only during the call) and when its first byte arrived. */
  line: [buf: Buffer, start: number, end: number, at: number];
  /** A Yún message: its subscriber name and JSON bytes. */
  message: [subscriber: string, buf: Buffer, start: number, end: number, at: number];
  /** Bytes thrown away by the framer, with why. */
  discard: [kind: DiscardKind, buf: Buffer, start: number, end: number, at: number];
  open: [Link];
  /** The link went away; a reopen is under way. */
  lost: [];
  /** Standard input ended: nothing more will come. */
  end: [];
  log: [LogRecord];
}

export class LineSource extends EventEmitter<LineSourceEvents> {
  readonly watchdog: PaceWatchdog;
  private readonly rescanMs: number;
  private readonly framer: DeviceLineFramer;
  private clock = new ArrivalClock();
  /** When the frame held across reads began. */
  private heldAt = 0;
  private link: Link | undefined;
  private lastLink: string | undefined;
  private state_: SourceState = 'searching';
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private lastWait = '';
  private counts = { opens: 0, searches: 0, bytes: 0, watchdogReopens: 0 };
  private closed = false;
  private readonly sink: FrameSink;

  constructor(
    readonly connector: Connector,
    options: LineSourceOptions = {},
  ) {
    super();
    this.rescanMs = options.rescanMs ?? 1_000;
    this.watchdog = new PaceWatchdog(connector.reopens ? (options.watchdogMs ?? 15_000) : 0);
    this.framer = new DeviceLineFramer(options.maxLine ?? MAX_LINE);
    this.sink = {
      line: (buf, start, end, began) => this.emit('line', buf, start, end, this.timeOf(began)),
      message: (name, buf, start, end, began) => this.emit('message', name, buf, start, end, this.timeOf(began)),
      discard: (kind, buf, start, end, began) => this.emit('discard', kind, buf, start, end, this.timeOf(began)),
    };
  }

  get name(): string {
    return this.link?.name ?? this.lastLink ?? describePortSpec(this.connector.spec);
  }

  get state(): SourceState {
    return this.state_;
  }

  get stats(): SourceStats {
    return {
      port: describePortSpec(this.connector.spec),
      path: this.link?.name ?? this.lastLink,
      identity: this.connector.identity,
      state: this.state_,
      ...this.counts,
      watchdogLimitMs: this.watchdog.limitMs,
      framer: { ...this.framer.counts },
    };
  }

  start(): this {
    void this.attempt();
    return this;
  }

  /** The board's hello said how often lines come: the watchdog's pace. */
  hello(lineIntervalMs: number): void {
    this.watchdog.hello(lineIntervalMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state_ = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.watchTimer);
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    this.state_ = 'searching';
    this.counts.searches++;
    const connection = await this.connector.connect().catch((err: Error) => ({ wait: err.message }));
    if (this.closed) {
      if ('link' in connection) await connection.link.close();
      return;
    }
    if ('wait' in connection) {
      this.waiting(connection.wait);
      return this.retry();
    }
    this.opened(connection.link);
  }

  private opened(link: Link): void {
    this.link = link;
    this.lastLink = link.name;
    this.state_ = 'open';
    this.lastWait = '';
    this.counts.opens++;
    this.framer.reset();
    this.clock = new ArrivalClock(link.byteMs);
    this.watchdog.opened(Date.now());
    this.log('info', 'serial-open', `opened ${link.name}${link.detail ? ` ${link.detail}` : ''}`, { path: link.name, identity: this.connector.identity });
    clearInterval(this.watchTimer);
    if (this.watchdog.floorMs > 0) this.watchTimer = setInterval(() => this.watch(link), Math.min(1_000, this.watchdog.floorMs / 4));
    this.emit('open', link);
    link.start({
      bytes: (chunk, at, since) => this.bytes(chunk, at, since),
      ended: (err) => void this.ended(link, err),
    });
  }

  private bytes(chunk: Buffer, at: number, since: number): void {
    this.counts.bytes += chunk.length;
    this.clock.read(chunk.length, at, since);
    this.framer.push(chunk, this.sink);
    const held = this.framer.heldSince;
    if (held >= 0) this.heldAt = this.clock.byteAt(held);
  }

  /** When a frame's first byte arrived: at `began` in this read, or when the held part began. */
  private timeOf(began: number): number {
    const at = began >= 0 ? this.clock.byteAt(began) : this.heldAt;
    this.watchdog.line(at);
    return at;
  }

  private watch(link: Link): void {
    if (this.link !== link || !this.watchdog.expired(Date.now())) return;
    this.counts.watchdogReopens++;
    const limit = Math.round((this.watchdog.limitMs ?? 0) / 1000);
    this.log('warn', 'serial-silent', `no data from ${link.name} for ${limit} s, far past its usual pace; reopening it`, { path: link.name, limitMs: this.watchdog.limitMs });
    void this.drop(link);
  }

  private async ended(link: Link, err: Error | undefined): Promise<void> {
    if (this.link !== link) return; // closed on purpose
    if (!this.connector.reopens) {
      this.link = undefined;
      clearInterval(this.watchTimer);
      this.state_ = 'ended';
      this.log('info', 'source-end', `${link.name} ended${err ? `: ${err.message}` : ''}`, { path: link.name });
      this.emit('end');
      return;
    }
    this.log('warn', 'serial-lost', `${link.name}: ${err?.message ?? 'closed'} (unplugged, reset or disconnected?); looking for the board again`, { path: link.name });
    await this.drop(link, true);
  }

  /** Closes a link that failed or fell silent, and starts looking for the board again. */
  private async drop(link: Link, logged = false): Promise<void> {
    if (this.link !== link) return;
    this.link = undefined;
    clearInterval(this.watchTimer);
    await link.close();
    if (this.closed) return;
    if (!logged) this.log('info', 'serial-closed', `closed ${link.name}`, { path: link.name });
    this.emit('lost');
    this.retry(0);
  }

  private retry(ms = this.rescanMs): void {
    if (this.closed) return;
    this.state_ = 'searching';
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), ms);
  }

  /** Says why it is waiting, once until the reason changes (it looks again every second). */
  private waiting(message: string): void {
    if (message === this.lastWait) return;
    this.lastWait = message;
    this.log('warn', 'serial-wait', message, { port: describePortSpec(this.connector.spec) });
  }

  private log(level: LogRecord['level'], event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit('log', { level, event, message, ...fields });
  }
}
