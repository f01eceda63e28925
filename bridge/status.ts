/**
 * What the bridge shows while it runs: on a terminal a live one-line status (rewritten in place)
 * with log lines above it; with --json one JSON object per log record plus periodic "stats"
 * records; otherwise plain log lines and a status line every statsIntervalMs.
 */
import { createLogger, escapeControl, type Logger, type LogRecord } from '../shared/log.js';
import type { Bridge, BridgeStats } from './bridge.js';

export type StatusMode = 'tty' | 'json' | 'text';

export interface StatusOptions {
  readonly mode: StatusMode;
  /** Where it all goes (default process.stdout). */
  readonly out?: NodeJS.WritableStream & { columns?: number };
  /** Status line refresh on a terminal, in ms (default 1000). */
  readonly refreshMs?: number;
  /** Stats records in json/text mode, in ms (default 10000). */
  readonly statsIntervalMs?: number;
}

const compact = (n: number): string => (n < 10_000 ? `${n}` : n < 10_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(1)}M`);

/** The one-line status: per port then per token. `rates` are lines/s per board. */
export function formatStatus(stats: BridgeStats, rates: readonly number[]): string {
  const ports = stats.boards.map((b, i) => {
    const d = b.decoder;
    const path = b.serial.path ?? b.serial.port;
    const state = b.serial.state === 'open' ? '' : ` ${b.serial.state}`;
    const bad = Object.values(b.discarded).reduce((n, k) => n + k, 0);
    return `${path}${state} ${Math.round(rates[i] ?? 0)} lines/s${bad ? ` bad ${compact(bad)}` : ''}${d.lost ? ` lost ${compact(d.lost)}` : ''}`;
  });
  const streams = stats.streams.map((s) => {
    const token = s.token.length > 8 ? `${s.token.slice(0, 6)}…` : s.token;
    const state = s.state === 'streaming' ? '' : ` ${s.stopKind === 'takeover' ? 'taken over' : s.state}`;
    return (
      `${token}${state} sent ${compact(s.stored || s.written)} buf ${compact(s.buffered)}` +
      `${s.dropped ? ` dropped ${compact(s.dropped)}` : ''}${s.reconnects ? ` rc ${s.reconnects}` : ''}${s.errors ? ` err ${s.errors}` : ''}`
    );
  });
  return [...ports, ...streams].join(' | ');
}

export class StatusReporter {
  private readonly out: NodeJS.WritableStream & { columns?: number };
  private timer: NodeJS.Timeout | undefined;
  private lastLines: number[] = [];
  private lastAt = Date.now();
  private rates: number[] = [];
  private line = '';
  private readonly onLog = (record: LogRecord): void => this.log(record);
  /** JSON lines in the package's one log format (shared/log.ts). */
  private readonly json: Logger;

  constructor(
    private readonly bridge: Bridge,
    private readonly options: StatusOptions,
  ) {
    this.out = options.out ?? process.stdout;
    this.json = createLogger({ json: true, write: (_level, line) => this.write(`${line}\n`) });
  }

  start(): this {
    this.bridge.on('log', this.onLog);
    const every = this.options.mode === 'tty' ? (this.options.refreshMs ?? 1_000) : (this.options.statsIntervalMs ?? 10_000);
    this.timer = setInterval(() => this.tick(), every);
    return this;
  }

  /** Stops refreshing; prints the final stats. */
  stop(final: BridgeStats): void {
    clearInterval(this.timer);
    this.bridge.off('log', this.onLog);
    this.measure(final);
    if (this.options.mode === 'json') this.json.info('final', `final: ${formatStatus(final, this.rates)}`, { ...final });
    else {
      this.clearLine();
      this.write(`final: ${formatStatus(final, this.rates)}\n`);
    }
  }

  private tick(): void {
    const stats = this.bridge.stats;
    this.measure(stats);
    if (this.options.mode === 'json') {
      // Memory too, so a long run's log shows whether it stays flat.
      this.json.info('stats', formatStatus(stats, this.rates), { linesPerSecond: this.rates, memory: process.memoryUsage(), ...stats });
    } else if (this.options.mode === 'text') {
      this.write(`${timestamp()} status ${formatStatus(stats, this.rates)}\n`);
    } else {
      this.drawLine(formatStatus(stats, this.rates));
    }
  }

  private measure(stats: BridgeStats): void {
    const now = Date.now();
    const lines = stats.boards.map((b) => b.decoder.lines);
    const seconds = Math.max(0.001, (now - this.lastAt) / 1000);
    this.rates = lines.map((n, i) => (n - (this.lastLines[i] ?? 0)) / seconds);
    this.lastLines = lines;
    this.lastAt = now;
  }

  private log(record: LogRecord): void {
    if (this.options.mode === 'json') {
      const { level, event, message, ...fields } = record;
      this.json.log(level, event, message, fields);
      return;
    }
    this.clearLine();
    // Whatever a record quotes from a board, no control byte reaches the terminal.
    this.write(`${timestamp()} ${record.level === 'info' ? '' : `${record.level}: `}${escapeControl(record.message)}\n`);
    if (this.options.mode === 'tty' && this.line) this.drawLine(this.line);
  }

  private drawLine(text: string): void {
    const width = (this.out.columns ?? 120) - 1;
    this.line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.write(`\r\x1b[2K${this.line}`);
  }

  private clearLine(): void {
    if (this.options.mode === 'tty' && this.line) this.write('\r\x1b[2K');
  }

  private write(text: string): void {
    this.out.write(text);
  }
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}
