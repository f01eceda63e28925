/** One structured log record: words for people (`message`), fields for programs (--json). */
export interface LogRecord {
  readonly level: 'info' | 'warn' | 'error';
  /** A stable name for programs ("connected", "takeover", "bad-line", ...). */
  readonly event: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export type Logger = (record: LogRecord) => void;
