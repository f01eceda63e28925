/** plotwire bridge: serial NDJSON from boards to live streams on a plotwire server. */
import { ProtocolError } from '../../shared/index.js';
import { createLogger } from '../../shared/log.js';
import { Bridge } from '../../bridge/bridge.js';
import { defaults, readBridgeConfig, validateBridgeConfig, type BridgeConfig } from '../../bridge/config.js';
import { plotLayout } from '../../bridge/plot-layout.js';
import { PortSpecError, parsePortSpec } from '../../bridge/port-spec.js';
import { createPlot, CreatePlotError } from '../../bridge/create-plot.js';
import { StatusReporter, type StatusMode } from '../../bridge/status.js';
import { UsageError, defineCommand, type OptionValues } from '../command.js';
import { optionSpec } from '../options.js';
import { EXIT_NO_TOKEN } from '../exit-codes.js';

const usage = `usage: plotwire bridge --serial PORT --server URL [--map CHANNEL=TOKEN ...] [options]
       plotwire bridge --config FILE [options]

Reads a board's lines (a serial port, standard input or TCP), validates them, and streams each
mapped channel to the server as a live stream (Plotly's streaming protocol with plotwire's
lossless batch append): at most one object per token per 50 ms carrying every sample of the
window, a heartbeat when quiet, reconnects with backoff, and resume without loss or doubles after
any break. Messages of Plotly's Yún library (plotly_yun) on the same port go to the tokens they
name, with no --map.

  --serial PORT        a device path (/dev/ttyACM0); "auto" (the first likely board, see
                       "plotwire ports"); usb:VID:PID[:SERIAL] (found again after a replug
                       whatever its path); tcp://HOST:PORT (a Yún's Console on port 6571,
                       ser2net, an ESP32 over Wi-Fi); or - (standard input: a script's lines;
                       the bridge ends when it does)
  --baud N             serial speed (default 115200)
  --server URL         the plotwire server, e.g. http://localhost:8080
  --map CHANNEL=TOKEN  send a channel of the sample lines (or EVENT.KEY, e.g. beat.bpm) to a
                       stream token; repeat for each channel
  --max-tokens N       most tokens the Yún library's messages may open on the port (default 8)
  --config FILE        a JSON file: {"server", "boards": [{"serial", "baud", "map": {...},
                       "maxTokens", "resetWaitMs", "watchdogSeconds", "readIntervalMs"}], "x",
                       "utc", "legacy", "bufferMb", "heartbeatSeconds", "maxBackoffSeconds",
                       "createPlot"}; flags add a board and override its settings
  --x date|seconds     x values: wall-clock dates (default), or seconds since start
  --utc                dates in UTC instead of local time
  --legacy MODE        for a Plotly endpoint without batch append: one point per 50 ms, by
                       MODE last, mean or minmax. LOSES points; without it nothing is dropped
  --buffer-mb N        memory for points while the server is away (default 64); when full the
                       oldest are dropped and counted
  --heartbeat SECONDS  a bare newline after this long without data (default 30, below 60)
  --max-backoff SECONDS  longest wait between reconnects (default 15)
  --reset-wait MS      after opening the port, wait this long for the board's reset hello
                       (default 2000; lines before a hello are stale and dropped)
  --watchdog SECONDS   the shortest silence that reopens the port (default 15; 0 = off); the
                       bridge learns the board's pace and never reopens a board that is merely slow
  --read-interval MS   read the serial port at most every MS ms (default 52, just over the 50 ms
                       send window, so each read goes out at once); 0 reads bytes as they arrive,
                       for less latency within the window and more CPU
  --create-plot TITLE  create a plot laid out from the board's hello (one panel per kind of
                       channel, units, heart rate with a marker at each beat) and print its
                       share URL (needs --api-key or PLOTWIRE_API_KEY)
  --api-key KEY        your API key, for --create-plot
  --maxpoints N        points each created trace keeps (default: 20 s of each channel)
  --json               JSON log records on stdout (one per line), and stats records
  --stats SECONDS      how often stats are logged without a terminal (default 10)

Device time ("t") and sequence ("n") are used only when the board's hello declared them; for any
other sketch every numeric key is a channel. On a terminal a live status line shows lines/s,
discarded lines and serial gaps per port, and points sent, buffered and dropped, reconnects and
errors per token. Ctrl-C (or SIGTERM) flushes and ends every stream cleanly.

Exit status: 0 after Ctrl-C, SIGTERM or the end of standard input; 3 when no token can stream any
more (each refused by the server: 404, 403), with the reason; 2 for a bad command line.`;

/** How long --create-plot waits for the boards' hellos before laying out from the maps alone. */
const HELLO_WAIT_MS = 3_000;

interface Parsed {
  config: BridgeConfig;
  json: boolean;
  apiKey: string | undefined;
  statsIntervalMs: number;
}

const options = optionSpec(
  ['serial', 'baud', 'server', 'config', 'x', 'legacy', 'buffer-mb', 'heartbeat', 'max-backoff', 'reset-wait', 'watchdog', 'read-interval', 'create-plot', 'api-key', 'maxpoints', 'stats', 'max-tokens'],
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
    try {
      parsePortSpec(values.serial);
    } catch (err) {
      if (err instanceof PortSpecError) throw new UsageError(`--serial: ${err.message}`);
      throw err;
    }
    const map: Record<string, string> = {};
    for (const m of values.map ?? []) {
      const eq = m.indexOf('=');
      if (eq <= 0 || eq === m.length - 1) throw new UsageError(`--map must be CHANNEL=TOKEN (got "${m}")`);
      map[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const board: Record<string, unknown> = { serial: values.serial, map };
    if (values.baud !== undefined) board.baud = num('baud', values.baud);
    if (values['reset-wait'] !== undefined) board.resetWaitMs = num('reset-wait', values['reset-wait']);
    if (values.watchdog !== undefined) board.watchdogSeconds = num('watchdog', values.watchdog);
    if (values['read-interval'] !== undefined) board.readIntervalMs = num('read-interval', values['read-interval']);
    if (values['max-tokens'] !== undefined) board.maxTokens = num('max-tokens', values['max-tokens']);
    boards.push(board);
  }
  if (boards.length === 0) throw new UsageError('give --serial PORT (with --map CHANNEL=TOKEN for its channels), or --config FILE');
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

    const bridge = new Bridge(config);
    const status = new StatusReporter(bridge, { mode, statsIntervalMs }).start();
    // With --create-plot, read first: the plot is laid out from the boards' hellos.
    bridge.start({ streams: !config.createPlot });
    say('started', `bridge: ${config.boards.map((b) => b.serial).join(', ')} -> ${config.server} (Ctrl-C to stop)`, {
      boards: config.boards.map((b) => b.serial),
      server: config.server,
    });

    if (config.createPlot && apiKey) {
      const hellos = await bridge.hellos((config.boards[0]?.resetWaitMs ?? defaults.resetWaitMs) + HELLO_WAIT_MS);
      const { layout, traces } = plotLayout(
        config.boards.map((b, i) => ({ hello: hellos[i], map: b.map ?? {} })),
        { title: config.createPlot.title, maxpoints: config.createPlot.maxpoints, x: config.x },
      );
      try {
        const plot = await createPlot(config.server, apiKey, { title: config.createPlot.title, layout, traces: traces.map((t) => ({ token: t.token, maxpoints: t.maxpoints, ...t.props })) });
        say('plot-created', `plot created: ${plot.url}`, { ...plot });
      } catch (err) {
        if (!(err instanceof CreatePlotError)) throw err;
        log.error('plot-failed', `plotwire bridge: ${err.message}`);
        status.stop(await bridge.close());
        return 1;
      }
      bridge.startStreams();
    }

    const outcome = await new Promise<{ fatal?: string }>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // A second Ctrl-C while flushing quits at once.
        process.once('SIGINT', () => process.exit(130));
        say('stopping', `${signal}: flushing and closing the streams`, { signal });
        resolve({});
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      bridge.once('ended', () => {
        say('input-ended', 'every source ended: flushing and closing the streams');
        resolve({});
      });
      bridge.once('fatal', (reason) => resolve({ fatal: reason }));
    });
    const final = await bridge.close();
    status.stop(final);
    if (outcome.fatal) {
      log.error('no-token', `plotwire bridge: ${outcome.fatal}`, { exitCode: EXIT_NO_TOKEN });
      return EXIT_NO_TOKEN;
    }
    return 0;
  },
);
