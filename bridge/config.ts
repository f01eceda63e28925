/**
 * The bridge's configuration: a JSON file (--config) for several boards, command-line flags for
 * one, or both (flags add a board and override the file's top-level settings).
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { HEARTBEAT_INTERVAL_MS, IDLE_TIMEOUT_MS, MAXPOINTS_MAX, ProtocolError, WRITE_INTERVAL_MS, parseJson } from '../shared/index.js';
import { compile } from '../shared/validate.js';
import { decimateModes } from './decimate.js';
import { PORT_FORMS, PortSpecError, parsePortSpec } from './port-spec.js';

const Token = Type.String({ minLength: 1, maxLength: 256, description: 'a stream token' });

export const BoardConfig = Type.Object(
  {
    serial: Type.String({ minLength: 1, description: PORT_FORMS }),
    baud: Type.Optional(Type.Integer({ minimum: 50, maximum: 4_000_000, description: 'the baud rate: an integer from 50 to 4000000' })),
    map: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Token, {
        description: 'an object of CHANNEL: TOKEN (a channel of the sample lines, or EVENT.KEY such as "beat.bpm")',
      }),
    ),
    maxTokens: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 64, description: 'most stream tokens Yún library messages may open on this port: an integer from 0 to 64' }),
    ),
    resetWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'ms to wait for the board reset after an open: 0 to 60000' })),
    watchdogSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400, description: 'seconds of silence before a reopen: 0 (off) to 86400' })),
    readIntervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000, description: 'ms between serial reads: 0 (read as bytes arrive) to 1000' })),
  },
  { additionalProperties: false },
);

export const BridgeConfig = Type.Object(
  {
    server: Type.String({ minLength: 1, description: 'the server URL, e.g. "http://localhost:8080"' }),
    boards: Type.Array(BoardConfig, { minItems: 1, description: 'the boards: an array of at least one {serial, map, ...}' }),
    x: Type.Optional(Type.Union([Type.Literal('date'), Type.Literal('seconds')], { description: 'x values: "date" or "seconds"' })),
    utc: Type.Optional(Type.Boolean({ description: 'true or false: dates in UTC instead of local time' })),
    legacy: Type.Optional(
      Type.Union(
        decimateModes.map((m) => Type.Literal(m)),
        { description: `legacy decimation (loses points): one of ${decimateModes.join(', ')}` },
      ),
    ),
    bufferMb: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 65_536, description: 'the memory budget for buffered points, in MiB: above 0' })),
    heartbeatSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: IDLE_TIMEOUT_MS / 1000,
        description: `seconds of quiet before a heartbeat: above 0 and below ${IDLE_TIMEOUT_MS / 1000}`,
      }),
    ),
    maxBackoffSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3_600, description: 'the longest wait between reconnects, in seconds' })),
    createPlot: Type.Optional(
      Type.Object(
        {
          title: Type.String({ minLength: 1, description: 'the plot title' }),
          apiKey: Type.Optional(Type.String({ minLength: 1, description: 'the API key (or PLOTWIRE_API_KEY)' })),
          maxpoints: Type.Optional(Type.Integer({ minimum: 1, maximum: MAXPOINTS_MAX, description: `points each trace keeps: 1 to ${MAXPOINTS_MAX}` })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type BoardConfig = Static<typeof BoardConfig>;
export type BridgeConfig = Static<typeof BridgeConfig>;

const check = compile(BridgeConfig);

/** Validates a parsed config; the error names the field and the rule. Tokens must not repeat. */
export function validateBridgeConfig(value: unknown): BridgeConfig {
  const config = check.parse('bridge config', value);
  const url = parseUrl(config.server);
  if (!url) throw new ProtocolError('bridge config', 'server', 'must be an http:// or https:// URL', config.server);
  const seen = new Map<string, string>();
  let stdin: string | undefined;
  config.boards.forEach((board, i) => {
    let kind: string;
    try {
      kind = parsePortSpec(board.serial).kind;
    } catch (err) {
      if (!(err instanceof PortSpecError)) throw err;
      throw new ProtocolError('bridge config', `boards[${i}].serial`, err.message);
    }
    if (kind === 'stdin') {
      if (stdin) throw new ProtocolError('bridge config', `boards[${i}].serial`, `reads standard input ("-"), as ${stdin} does already: only one board can`);
      stdin = `boards[${i}]`;
    }
    for (const [channel, token] of Object.entries(board.map ?? {})) {
      const where = `boards[${i}].map.${channel}`;
      const other = seen.get(token);
      if (other) throw new ProtocolError('bridge config', where, `uses the token of ${other}: one token feeds one trace, so give each channel its own`);
      seen.set(token, where);
    }
  });
  return config;
}

export function readBridgeConfig(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProtocolError('bridge config', '', `cannot be read from ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseJson('bridge config', text);
}

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export const defaults = {
  heartbeatMs: HEARTBEAT_INTERVAL_MS,
  bufferMb: 64,
  maxBackoffSeconds: 15,
  watchdogSeconds: 15,
  /** Yún library tokens a port may open. */
  maxTokens: 8,
  resetWaitMs: 2_000,
  /**
   * Serial reads a little slower than the send window: each read's lines can then go at once
   * (the window since the last object has passed), so a point waits at most about one interval,
   * and the lag between reads and sends cannot creep (bench/bridge-latency.ts, bridge-load.ts).
   */
  readIntervalMs: WRITE_INTERVAL_MS + 2,
} as const;
