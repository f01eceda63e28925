/**
 * The bridge: boards (serial in) and stream clients (HTTP out), one client per token, wired by
 * the config's channel maps. Logs from every part come out of one 'log' event.
 */
import { EventEmitter } from 'node:events';
import { Board, type BoardStats } from './board.js';
import { defaults, type BridgeConfig } from './config.js';
import type { AutoDetectTypes } from '@serialport/bindings-cpp';
import type { LogRecord } from '../shared/log.js';
import type { ListPorts } from './ports.js';
import type { PointSink } from './point-router.js';
import { StreamClient, type StreamClientStats } from './stream-client.js';

export interface BridgeStats {
  readonly boards: BoardStats[];
  readonly streams: StreamClientStats[];
}

/** What tests (and embedders) may swap: the serial binding and the port lister. */
export interface BridgeHooks {
  readonly binding?: AutoDetectTypes;
  readonly list?: ListPorts;
  /** Reconnect backoff floor in ms (tests shorten it). */
  readonly minBackoffMs?: number;
  /** How often streams confirm what the server stored, in ms. */
  readonly ackIntervalMs?: number;
}

export class Bridge extends EventEmitter<{ log: [LogRecord] }> {
  readonly boards: Board[] = [];
  readonly clients = new Map<string, StreamClient>();

  constructor(
    readonly config: BridgeConfig,
    hooks: BridgeHooks = {},
  ) {
    super();
    const tokens = config.boards.flatMap((b) => Object.values(b.map));
    const budget = ((config.bufferMb ?? defaults.bufferMb) * 1024 * 1024) / Math.max(1, tokens.length);
    for (const token of tokens) {
      const client = new StreamClient({
        server: config.server,
        token,
        heartbeatMs: config.heartbeatSeconds !== undefined ? config.heartbeatSeconds * 1000 : defaults.heartbeatMs,
        bufferBytes: budget,
        maxBackoffMs: (config.maxBackoffSeconds ?? defaults.maxBackoffSeconds) * 1000,
        minBackoffMs: hooks.minBackoffMs,
        ackIntervalMs: hooks.ackIntervalMs,
        decimate: config.legacy,
        dateX: (config.x ?? 'date') === 'date' ? (config.utc ? 'utc' : 'local') : undefined,
      });
      client.on('log', (r) => this.emit('log', r));
      this.clients.set(token, client);
    }
    for (const board of config.boards) {
      const sinks = new Map<string, PointSink>();
      for (const [channel, token] of Object.entries(board.map)) {
        const client = this.clients.get(token) as StreamClient;
        sinks.set(channel, (xs, ys, from, to) => client.pushMany(xs, ys, from, to));
      }
      const b = new Board(
        {
          serial: {
            port: board.serial,
            baudRate: board.baud,
            binding: hooks.binding,
            list: hooks.list,
            watchdogMs: (board.watchdogSeconds ?? defaults.watchdogSeconds) * 1000,
            readIntervalMs: board.readIntervalMs ?? defaults.readIntervalMs,
          },
          resetWaitMs: board.resetWaitMs ?? defaults.resetWaitMs,
          xMode: config.x ?? 'date',
        },
        sinks,
      );
      b.on('log', (r) => this.emit('log', r));
      this.boards.push(b);
    }
  }

  get stats(): BridgeStats {
    return { boards: this.boards.map((b) => b.stats), streams: [...this.clients.values()].map((c) => c.stats) };
  }

  start(): this {
    for (const client of this.clients.values()) client.start();
    for (const board of this.boards) board.start();
    return this;
  }

  /** Stops reading, flushes every stream and ends it cleanly. */
  async close(timeoutMs = 5_000): Promise<BridgeStats> {
    await Promise.all(this.boards.map((b) => b.close()));
    await Promise.all([...this.clients.values()].map((c) => c.close(timeoutMs)));
    return this.stats;
  }
}
