/** What every plotwire subcommand provides, so main.ts can list, describe and run it. */
import { parseArgs } from 'node:util';
import { PlotwireError } from '../shared/errors.js';

export interface Command {
  readonly name: string;
  /** One line for `plotwire --help`. */
  readonly summary: string;
  /** Full help text for `plotwire NAME --help`. */
  readonly usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for a bad command line: main prints the message and the command's usage, exits 2. */
export class UsageError extends PlotwireError {
  readonly code = 'PW_ERR_USAGE';
}

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
/** The option values parseArgs gives for these options. */
export type OptionValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values'];

export interface CommandSpec<O extends Options> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: O;
  /** How many words may follow the options (default 0: a stray word is a usage error). */
  readonly positionals?: number;
}

/** A command whose options are parsed (a bad option or a stray word is a usage error) before it runs. */
export function defineCommand<const O extends Options>(
  spec: CommandSpec<O>,
  run: (values: OptionValues<O>, positionals: string[]) => Promise<number> | number,
): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run(argv) {
      const { values, positionals } = parseArgs({ args: argv, options: spec.options, allowPositionals: true });
      if (positionals.length > (spec.positionals ?? 0)) throw new UsageError(`unexpected argument "${positionals[spec.positionals ?? 0]}"`);
      return run(values as OptionValues<O>, positionals);
    },
  };
}
