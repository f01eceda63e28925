/**
 * The bridge: boards (serial, standard input or TCP in) and stream clients (HTTP out), one client
 * per token: the tokens of the config's channel maps, and those the Yún library's messages name,
 * each opened on first sight, at most maxTokens per port. Logs from every part come out of one
 * 'log' event. When no token can stream any more (each refused: 404, 403...), 'fatal' says why,
 * so the process can exit with a status systemd acts on; when every source has ended (standard
 * input's EOF), 'ended'.
 */
import { EventEmitter } from 'node:events';
import type { AutoDetectTypes } from '@serialport/bindings-cpp';
import type { HelloLine } from '../shared/index.js';
import type { LogRecord } from '../shared/log.js';
import { Board, type BoardStats } from './board.js';
import { defaults, type BridgeConfig } from './config.js';
import type { PointSink } from './point-router.js';
import type { ListPorts } from './ports.js';
import { StreamClient, type StreamClientOptions, type StreamClientStats } from './stream-client.js';

export interface BridgeStats {
  readonly boards: BoardStats[];
  readonly streams: StreamClientStats[];
}

/** What tests (and embedders) may swap: the serial binding, the port lister, standard input. */
export interface BridgeHooks {
  readonly binding?: AutoDetectTypes;
  readonly list?: ListPorts;
  readonly stdin?: NodeJS.ReadableStream;
  /** Reconnect backoff floor in ms (tests shorten it). */
  readonly minBackoffMs?: number;
  /** How often streams confirm what the server stored, in ms. */
  readonly ackIntervalMs?: number;
}

export interface BridgeEvents {
  log: [LogRecord];
  /** No token can stream any more: why, in words. */
  fatal: [reason: string];
  /** Every source ended (standard input closed): nothing more will come. */
  ended: [];
}

export class Bridge extends EventEmitter<BridgeEvents> {
  readonly boards: Board[] = [];
  readonly clients = new Map<string, StreamClient>();
  private readonly clientOptions: Omit<StreamClientOptions, 'token'>;
  /** Tokens opened for Yún messages, per board. */
  private readonly legacyTokens: Array<Set<string>> = [];
  private streaming = false;
  private ended = 0;

  constructor(
    readonly config: BridgeConfig,
    hooks: BridgeHooks = {},
  ) {
    super();
    const mapped = config.boards.flatMap((b) => Object.values(b.map ?? {}));
    const slots = mapped.length + config.boards.reduce((n, b) => n + (b.maxTokens ?? defaults.maxTokens), 0);
    this.clientOptions = {
      server: config.server,
      heartbeatMs: config.heartbeatSeconds !== undefined ? config.heartbeatSeconds * 1000 : defaults.heartbeatMs,
      // Every token the bridge may open shares the budget: memory stays bounded however many appear.
      bufferBytes: ((config.bufferMb ?? defaults.bufferMb) * 1024 * 1024) / Math.max(1, slots),
      maxBackoffMs: (config.maxBackoffSeconds ?? defaults.maxBackoffSeconds) * 1000,
      minBackoffMs: hooks.minBackoffMs,
      ackIntervalMs: hooks.ackIntervalMs,
      decimate: config.legacy,
    };
    const dateX = (config.x ?? 'date') === 'date' ? (config.utc ? 'utc' : 'local') : undefined;
    for (const token of mapped) this.addClient(token, dateX);
    config.boards.forEach((board, i) => {
      const sinks = new Map<string, PointSink>();
      for (const [channel, token] of Object.entries(board.map ?? {})) {
        const client = this.clients.get(token) as StreamClient;
        sinks.set(channel, (xs, ys, from, to) => client.pushMany(xs, ys, from, to));
      }
      this.legacyTokens.push(new Set());
      const b = new Board(
        {
          source: {
            port: board.serial,
            baudRate: board.baud,
            binding: hooks.binding,
            list: hooks.list,
            stdin: hooks.stdin,
            watchdogMs: (board.watchdogSeconds ?? defaults.watchdogSeconds) * 1000,
            readIntervalMs: board.readIntervalMs ?? defaults.readIntervalMs,
          },
          resetWaitMs: board.resetWaitMs ?? defaults.resetWaitMs,
          xMode: config.x ?? 'date',
          legacy: (token, x, y) => this.legacyPoint(i, token, x, y),
        },
        sinks,
      );
      b.on('log', (r) => this.emit('log', r));
      b.on('end', () => {
        if (++this.ended === this.boards.length) this.emit('ended');
      });
      this.boards.push(b);
    });
  }

  get stats(): BridgeStats {
    return { boards: this.boards.map((b) => b.stats), streams: [...this.clients.values()].map((c) => c.stats) };
  }

  /** Starts reading the boards and, unless told to wait (a plot to create first), streaming. */
  start(options: { streams?: boolean } = {}): this {
    for (const board of this.boards) board.start();
    if (options.streams !== false) this.startStreams();
    return this;
  }

  /** Starts the streams; points read before are buffered and go out now. */
  startStreams(): void {
    this.streaming = true;
    for (const client of this.clients.values()) client.start();
  }

  /** Each board's hello, or undefined for a board that said none within timeoutMs. */
  hellos(timeoutMs: number): Promise<Array<HelloLine | undefined>> {
    return Promise.all(
      this.boards.map(
        (b) =>
          new Promise<HelloLine | undefined>((resolve) => {
            if (b.stats.hello) return resolve(b.stats.hello);
            const timer = setTimeout(() => done(undefined), timeoutMs);
            const done = (hello: HelloLine | undefined): void => {
              clearTimeout(timer);
              b.off('hello', done);
              resolve(hello);
            };
            b.on('hello', done);
          }),
      ),
    );
  }

  /** Stops reading, flushes every stream and ends it cleanly. */
  async close(timeoutMs = 5_000): Promise<BridgeStats> {
    await Promise.all(this.boards.map((b) => b.close()));
    await Promise.all([...this.clients.values()].map((c) => c.close(timeoutMs)));
    return this.stats;
  }

  private addClient(token: string, dateX: StreamClientOptions['dateX']): StreamClient {
    const client = new StreamClient({ ...this.clientOptions, token, dateX });
    client.on('log', (r) => this.emit('log', r));
    client.on('stopped', () => this.stopped(client));
    this.clients.set(token, client);
    if (this.streaming) client.start();
    return client;
  }

  /** A Yún message's point: to its token's client, opened on first sight within the port's cap. */
  private legacyPoint(board: number, token: string, x: number | string, y: number): string | undefined {
    let client = this.clients.get(token);
    if (!client) {
      const opened = this.legacyTokens[board] as Set<string>;
      const cap = this.config.boards[board]?.maxTokens ?? defaults.maxTokens;
      if (opened.size >= cap) return `token ${short(token)} would be this port's token number ${cap + 1}, over its cap of ${cap} (raise "maxTokens" in the config)`;
      opened.add(token);
      // x as the library gave it: the sketch's own number, or a date already in its zone.
      client = this.addClient(token, undefined);
      this.emit('log', { level: 'info', event: 'legacy-token', message: `${this.boards[board]?.source.name}: Yún messages for token ${short(token)}: streaming them (${opened.size} of at most ${cap} on this port)`, token });
    }
    client.push(x, y);
    return undefined;
  }

  /** A client stopped for good: say which, and when none can stream any more, why (fatal). */
  private stopped(client: StreamClient): void {
    const all = [...this.clients.values()];
    const streaming = all.filter((c) => c.state !== 'stopped');
    if (streaming.length > 0) {
      this.emit('log', { level: 'warn', event: 'token-stopped', message: `token ${short(client.token)} stopped; ${streaming.length} of ${all.length} token(s) still stream`, token: client.token });
      return;
    }
    // A token taken over by another bridge is not a failure to restart on: that would be a tug of war.
    if (all.some((c) => c.stats.stopKind === 'takeover')) return;
    this.emit('fatal', `no token can stream any more: ${all.map((c) => `${short(c.token)}: ${c.stats.stopReason ?? 'stopped'}`).join('; ')}`);
  }
}

function short(token: string): string {
  return token.length > 8 ? `${token.slice(0, 6)}…` : token;
}
