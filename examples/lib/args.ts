/** What every example takes: the server, an API key, and how long to run. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PlotwireError } from 'plotwire';

export interface ExampleArgs {
  /** The example's own options, as parseArgs gives them. */
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly server: string;
  readonly apiKey: string;
  /** Seconds to run; Infinity until Ctrl-C. */
  readonly seconds: number;
}

/** Own options of an example: their parseArgs form, the usage's first line, and a line each for the help. */
export interface ExampleOptions {
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly synopsis: string;
  readonly help: string;
}

export function exampleArgs(name: string, about: string, own?: ExampleOptions): ExampleArgs {
  const usage = `usage: npx tsx examples/${name}.ts ${own ? `${own.synopsis} ` : ''}[--server URL] [--api-key KEY] [--seconds N]

${about}

${own ? `${own.help}\n` : ''}  --server URL    the plotwire server (default $PLOTWIRE_SERVER or http://127.0.0.1:8080)
  --api-key KEY   your API key (default $PLOTWIRE_API_KEY; plotwire user add NAME prints one)
  --seconds N     stop after N seconds (default: run until Ctrl-C)`;
  let values: ExampleArgs['values'];
  try {
    ({ values } = parseArgs({
      options: { ...own?.options, server: { type: 'string' }, 'api-key': { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const apiKey = (values['api-key'] as string | undefined) ?? process.env.PLOTWIRE_API_KEY;
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
  return { values, server: (values.server as string | undefined) ?? process.env.PLOTWIRE_SERVER ?? 'http://127.0.0.1:8080', apiKey, seconds };
}

/** Resolves after `seconds`, or at Ctrl-C / SIGTERM, whichever comes first. */
export function runFor(seconds: number): Promise<void> {
  return new Promise((resolve) => {
    // Unref'd: an example whose work ends first (its input closed) exits then.
    if (Number.isFinite(seconds)) setTimeout(resolve, seconds * 1000).unref();
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
