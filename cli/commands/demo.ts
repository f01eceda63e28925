/** plotwire demo: the heart-rate demo (server + simulated Uno + bridge) until Ctrl-C. */
import { createLogger } from '../../shared/log.js';
import { defaultDataDir } from '../../server/data-dir.js';
import { DEFAULT_PORT } from '../../server/index.js';
import { DEMO_RECORDING, startHeartDemo } from '../../demo/heart.js';
import { UsageError, defineCommand } from '../command.js';
import { intOption, optionSpec } from '../options.js';

const usage = `usage: plotwire demo [--port N] [--host ADDR] [--data DIR] [--recording FILE] [--json]

The heart-rate demo: starts the stream server, runs the real Uno firmware image in a simulated
ATmega328P fed by a recorded ECG, bridges its serial port to the server and prints the link of
the live plot (raw ECG, heart rate, a marker at every beat). Ctrl-C stops everything.

  --port N          server port (default ${DEFAULT_PORT})
  --host ADDR       address to listen on (default 127.0.0.1; 0.0.0.0 to show it on the LAN)
  --data DIR        the server's data folder (default ${defaultDataDir()})
  --recording FILE  an MIT-BIH .adc.csv(.gz) recording (default ${DEMO_RECORDING})
  --json            log JSON objects, one a line`;

export const demoCommand = defineCommand(
  { name: 'demo', summary: 'run the heart-rate demo: server, simulated board, bridge, live plot', usage, options: optionSpec(['port', 'host', 'data', 'recording'], ['json']) },
  async (values) => {
    const log = createLogger({ json: values.json ?? false });
    const port = intOption('--port', values.port, DEFAULT_PORT, 0, 65535);
    const demo = await startHeartDemo({
      dataDir: values.data ?? defaultDataDir(),
      port,
      host: values.host ?? '127.0.0.1',
      ...(values.recording && { recording: values.recording }),
      log,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use (another plotwire?): pick another with --port`);
      throw err;
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info('stopping', `${signal}: stopping the demo`, { signal });
        void demo.stop().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    log.info('stopped', 'demo stopped');
    return 0;
  },
);
