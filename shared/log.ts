/**
 * Logs for people and for machines: one line each, in words on a terminal, or (json) one JSON
 * object a line with a stable `event` name and the fields a program needs.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * One structured record, as the bridge's parts emit them on their 'log' events: words for people
 * (`message`), fields for programs (--json writes them through a Logger).
 */
export interface LogRecord {
  readonly level: 'info' | 'warn' | 'error';
  /** A stable name for programs ("connected", "takeover", "bad-line", ...). */
  readonly event: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface Logger {
  log(level: Level, event: string, message: string, fields?: Record<string, unknown>): void;
  info(event: string, message: string, fields?: Record<string, unknown>): void;
  warn(event: string, message: string, fields?: Record<string, unknown>): void;
  error(event: string, message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  readonly json?: boolean;
  /** Where lines go; stderr for warnings and errors, stdout otherwise, by default. */
  readonly write?: (level: Level, line: string) => void;
  readonly quiet?: boolean;
}

/**
 * Text that came from a device, made safe for a terminal: control characters (ESC, BEL, a C1
 * CSI...) written as \xNN, so a board's bytes can never move the cursor or ring the bell.
 */
export function escapeControl(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const defaultWrite = (level: Level, line: string): void => {
  (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? defaultWrite;
  const log = (level: Level, event: string, message: string, fields: Record<string, unknown> = {}): void => {
    if (options.quiet && level !== 'error') return;
    if (options.json) write(level, JSON.stringify({ time: new Date().toISOString(), level, event, msg: message, ...fields }));
    else write(level, escapeControl(level === 'info' || level === 'debug' ? message : `${level}: ${message}`, true));
  };
  return {
    log,
    info: (e, m, f) => log('info', e, m, f),
    warn: (e, m, f) => log('warn', e, m, f),
    error: (e, m, f) => log('error', e, m, f),
  };
}
