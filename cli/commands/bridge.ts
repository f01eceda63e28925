/** plotwire bridge: serial NDJSON from boards to live streams on a plotwire server. */
import { MAXPOINTS_MAX, ProtocolError } from '../../shared/index.js';
import { createLogger } from '../../shared/log.js';
import { Bridge } from '../../bridge/bridge.js';
import { readBridgeConfig, validateBridgeConfig, type BridgeConfig } from '../../bridge/config.js';
import { createPlot, CreatePlotError } from '../../bridge/create-plot.js';
import { StatusReporter, type StatusMode } from '../../bridge/status.js';
import { UsageError, defineCommand, type OptionValues } from '../command.js';
import { optionSpec } from '../options.js';

const usage = `usage: plotwire bridge --serial PORT --server URL --map CHANNEL=TOKEN [--map ...] [options]
       plotwire bridge --config FILE [options]

Reads NDJSON lines from a board's serial port, validates them, and streams each mapped channel to
the server as a live stream (Plotly's streaming protocol with plotwire's lossless batch append):
at most one object per token per 50 ms carrying every sample of the window, a heartbeat when
quiet, reconnects with backoff, and resume without loss or doubles after any break.

  --serial PORT        a device path (/dev/ttyACM0), "auto" (the first likely board, see
                       "plotwire ports"), or usb:VID:PID[:SERIAL] (found again after a replug
                       whatever its path)
  --baud N             serial speed (default 115200)
  --server URL         the plotwire server, e.g. http://localhost:8080
  --map CHANNEL=TOKEN  send a channel of the sample lines (or EVENT.KEY, e.g. beat.bpm) to a
                       stream token; repeat for each channel
  --config FILE        a JSON file: {"server", "boards": [{"serial", "baud", "map": {...},
                       "resetWaitMs", "watchdogSeconds", "readIntervalMs"}], "x", "utc", "legacy", "bufferMb",
                       "heartbeatSeconds", "maxBackoffSeconds", "createPlot"}; flags add a board
                       and override its settings
  --x date|seconds     x values: wall-clock dates from the device clock (default), or seconds
                       since start
  --utc                dates in UTC instead of local time
  --legacy MODE        for a Plotly endpoint without batch append: one point per 50 ms, by
                       MODE last, mean or minmax. LOSES points; without it nothing is dropped
  --buffer-mb N        memory for points while the server is away (default 64); when full the
                       oldest are dropped and counted
  --heartbeat SECONDS  a bare newline after this long without data (default 30, below 60)
  --max-backoff SECONDS  longest wait between reconnects (default 15)
  --reset-wait MS      after opening the port, wait this long for the board's reset hello
                       (default 2000; lines before a hello are stale and dropped)
  --watchdog SECONDS   reopen the port after this long without a byte (default 15; 0 = off)
  --read-interval MS   read the serial port every MS ms (default 52, just over the 50 ms send
                       window, so each read goes out at once); 0 reads bytes as they arrive,
                       for less latency within the window and more CPU
  --create-plot TITLE  create a plot with one trace per token and print its share URL
                       (needs --api-key or PLOTWIRE_API_KEY)
  --api-key KEY        your API key, for --create-plot
  --maxpoints N        points each created trace keeps (default ${MAXPOINTS_MAX})
  --json               JSON log records on stdout (one per line), and stats records
  --stats SECONDS      how often stats are logged without a terminal (default 10)

On a terminal a live status line shows lines/s, bad lines and serial gaps per port, and points
sent, buffered and dropped, reconnects and errors per token. Ctrl-C (or SIGTERM) flushes and ends
every stream cleanly.`;

interface Parsed {
  config: BridgeConfig;
  json: boolean;
  apiKey: string | undefined;
  statsIntervalMs: number;
}

const options = optionSpec(
  ['serial', 'baud', 'server', 'config', 'x', 'legacy', 'buffer-mb', 'heartbeat', 'max-backoff', 'reset-wait', 'watchdog', 'read-interval', 'create-plot', 'api-key', 'maxpoints', 'stats'],
  ['utc', 'json'],
  ['map'],
);

function parse(values: OptionValues<typeof options>): Parsed {
  const num = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number (got "${text}")`);
    return n;
  };
  const raw = (values.config ? readBridgeConfig(values.config) : {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError('bridge config', '', 'must be a JSON object', raw);
  }
  const config: Record<string, unknown> = { ...raw };
  const boards = Array.isArray(raw.boards) ? [...(raw.boards as unknown[])] : [];
  if (values.serial !== undefined || values.map !== undefined) {
    if (!values.serial) throw new UsageError('--map needs --serial PORT (or put the board in --config)');
    if (!values.map?.length) throw new UsageError('--serial needs at least one --map CHANNEL=TOKEN');
    const map: Record<string, string> = {};
    for (const m of values.map) {
      const eq = m.indexOf('=');
      if (eq <= 0 || eq === m.length - 1) throw new UsageError(`--map must be CHANNEL=TOKEN (got "${m}")`);
      map[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const board: Record<string, unknown> = { serial: values.serial, map };
    if (values.baud !== undefined) board.baud = num('baud', values.baud);
    if (values['reset-wait'] !== undefined) board.resetWaitMs = num('reset-wait', values['reset-wait']);
    if (values.watchdog !== undefined) board.watchdogSeconds = num('watchdog', values.watchdog);
    if (values['read-interval'] !== undefined) board.readIntervalMs = num('read-interval', values['read-interval']);
    boards.push(board);
  }
  if (boards.length === 0) throw new UsageError('give --serial PORT with --map CHANNEL=TOKEN, or --config FILE');
  config.boards = boards;
  if (values.server !== undefined) config.server = values.server;
  if (config.server === undefined) throw new UsageError('give --server URL (or "server" in --config)');
  if (values.x !== undefined) config.x = values.x;
  if (values.utc) config.utc = true;
  if (values.legacy !== undefined) config.legacy = values.legacy;
  if (values['buffer-mb'] !== undefined) config.bufferMb = num('buffer-mb', values['buffer-mb']);
  if (values.heartbeat !== undefined) config.heartbeatSeconds = num('heartbeat', values.heartbeat);
  if (values['max-backoff'] !== undefined) config.maxBackoffSeconds = num('max-backoff', values['max-backoff']);
  if (values['create-plot'] !== undefined) {
    config.createPlot = { ...(config.createPlot as object | undefined), title: values['create-plot'] };
  }
  if (values.maxpoints !== undefined && config.createPlot) {
    config.createPlot = { ...(config.createPlot as object), maxpoints: num('maxpoints', values.maxpoints) };
  }
  const valid: BridgeConfig = validateBridgeConfig(config);
  const apiKey = values['api-key'] ?? valid.createPlot?.apiKey ?? process.env.PLOTWIRE_API_KEY;
  if (valid.createPlot && !apiKey) throw new UsageError('--create-plot needs --api-key KEY (or PLOTWIRE_API_KEY)');
  const stats = num('stats', values.stats) ?? 10;
  if (!(stats > 0)) throw new UsageError(`--stats must be above 0 seconds (got ${stats})`);
  return { config: valid, json: values.json ?? false, apiKey, statsIntervalMs: stats * 1000 };
}

export const bridgeCommand = defineCommand(
  { name: 'bridge', summary: 'stream serial NDJSON from boards to the server (batched, resumed, never silently lossy)', usage, options },
  async (values) => {
    let parsed: Parsed;
    try {
      parsed = parse(values);
    } catch (err) {
      if (err instanceof ProtocolError) throw new UsageError(err.message);
      throw err;
    }
    const { config, json, apiKey, statsIntervalMs } = parsed;
    const mode: StatusMode = json ? 'json' : process.stdout.isTTY ? 'tty' : 'text';
    // Before and after the status reporter runs, what the bridge says goes through the same format.
    const log = createLogger({ json, write: (_level, line) => console.log(line) });
    const say = (event: string, message: string, fields: Record<string, unknown> = {}): void => log.info(event, message, fields);

    if (config.createPlot && apiKey) {
      const traces = config.boards.flatMap((b) =>
        Object.entries(b.map).map(([name, token]) => ({ name, token, maxpoints: config.createPlot?.maxpoints ?? MAXPOINTS_MAX })),
      );
      try {
        const plot = await createPlot(config.server, apiKey, config.createPlot.title, traces);
        say('plot-created', `plot created: ${plot.url}`, { ...plot });
      } catch (err) {
        if (!(err instanceof CreatePlotError)) throw err;
        log.error('plot-failed', `plotwire bridge: ${err.message}`);
        return 1;
      }
    }

    const bridge = new Bridge(config);
    const status = new StatusReporter(bridge, { mode, statsIntervalMs }).start();
    bridge.start();
    say('started', `bridge: ${config.boards.map((b) => b.serial).join(', ')} -> ${config.server} (Ctrl-C to stop)`, {
      boards: config.boards.map((b) => b.serial),
      server: config.server,
    });

    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // A second Ctrl-C while flushing quits at once.
        process.once('SIGINT', () => process.exit(130));
        say('stopping', `${signal}: flushing and closing the streams`, { signal });
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    const final = await bridge.close();
    status.stop(final);
    return 0;
  },
);
