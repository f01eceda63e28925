/** What every plotwire subcommand provides, so main.ts can list, describe and run it. */
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
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
