/** What every example takes: the server, an API key, and how long to run. */
import { parseArgs } from 'node:util';
import { PlotwireError } from 'plotwire';

export interface ExampleArgs {
  readonly server: string;
  readonly apiKey: string;
  /** Seconds to run; Infinity until Ctrl-C. */
  readonly seconds: number;
}

export function exampleArgs(name: string, about: string): ExampleArgs {
  const { values } = parseArgs({
    options: { server: { type: 'string' }, 'api-key': { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const usage = `usage: npx tsx examples/${name}.ts [--server URL] [--api-key KEY] [--seconds N]

${about}

  --server URL    the plotwire server (default $PLOTWIRE_SERVER or http://127.0.0.1:8080)
  --api-key KEY   your API key (default $PLOTWIRE_API_KEY; plotwire user add NAME prints one)
  --seconds N     stop after N seconds (default: run until Ctrl-C)`;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const apiKey = values['api-key'] ?? process.env.PLOTWIRE_API_KEY;
  const seconds = values.seconds === undefined ? Infinity : Number(values.seconds);
  if (!apiKey || !(seconds > 0)) {
    console.error(`${!apiKey ? 'an API key is needed (--api-key or PLOTWIRE_API_KEY)' : '--seconds must be a number above 0'}\n\n${usage}`);
    process.exit(2);
  }
  // A bad key or a server that is down is one line, not a stack trace.
  process.on('uncaughtException', (err) => {
    console.error(`${name}: ${err instanceof PlotwireError ? err.message : String(err)}`);
    process.exit(1);
  });
  return { server: values.server ?? process.env.PLOTWIRE_SERVER ?? 'http://127.0.0.1:8080', apiKey, seconds };
}

/** Resolves after `seconds`, or at Ctrl-C / SIGTERM, whichever comes first. */
export function runFor(seconds: number): Promise<void> {
  return new Promise((resolve) => {
    if (Number.isFinite(seconds)) setTimeout(resolve, seconds * 1000);
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
