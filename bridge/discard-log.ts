/**
 * Every line or message the bridge throws away is shown, with its reason, and never floods the
 * log: the first few in full, then a summary at most every intervalMs of how many and why, with
 * the latest as an example. The text shown has its control bytes escaped (a board's ESC or BEL
 * never reaches the terminal).
 */
import { ProtocolError } from '../shared/errors.js';
import { escapeControl, type LogRecord } from '../shared/log.js';
import type { DiscardKind } from './device-line-framer.js';

export type DiscardReason = 'overlong' | 'framing' | 'json' | 'invalid' | 'cut' | 'legacy';

const words: Record<DiscardReason, string> = {
  overlong: 'too long',
  framing: 'not text lines',
  json: 'bad JSON',
  invalid: 'invalid',
  cut: 'cut off',
  legacy: 'Yún message refused',
};

/** Characters of a discarded frame shown. */
const SHOWN = 120;

export interface DiscardLogOptions {
  /** Shown in full before only summaries (default 5). */
  readonly showFirst?: number;
  /** Shortest time between summaries (default 10 s). */
  readonly intervalMs?: number;
}

export class DiscardLog {
  readonly counts: Record<DiscardReason, number> = { overlong: 0, framing: 0, json: 0, invalid: 0, cut: 0, legacy: 0 };
  private shown = 0;
  private pending: Partial<Record<DiscardReason, number>> = {};
  private latest: { reason: DiscardReason; why: string; text: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly showFirst: number;
  private readonly intervalMs: number;

  constructor(
    private readonly port: () => string,
    private readonly emit: (record: LogRecord) => void,
    options: DiscardLogOptions = {},
  ) {
    this.showFirst = options.showFirst ?? 5;
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** One frame thrown away: why, in words, and its text (raw, escaped here). */
  add(reason: DiscardReason, why: string, text: string): void {
    this.counts[reason]++;
    const shown = escapeControl(text.length > SHOWN ? `${text.slice(0, SHOWN - 3)}...` : text);
    if (this.shown < this.showFirst) {
      this.shown++;
      const last = this.shown === this.showFirst ? ' (further ones are summarised every ' + Math.round(this.intervalMs / 1000) + ' s)' : '';
      this.emit({ level: 'warn', event: 'bad-line', message: `${this.port()}: discarded (${words[reason]}): ${escapeControl(why)}: ${shown}${last}`, port: this.port(), kind: reason, reason: why, line: text });
      return;
    }
    this.pending[reason] = (this.pending[reason] ?? 0) + 1;
    this.latest = { reason, why, text: shown };
    this.timer ??= setTimeout(() => this.summary(), this.intervalMs).unref();
  }

  /** Says what is pending now (also at close). */
  summary(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = Object.entries(this.pending) as Array<[DiscardReason, number]>;
    if (entries.length === 0 || !this.latest) return;
    const n = entries.reduce((a, [, k]) => a + k, 0);
    const latest = this.latest;
    this.emit({
      level: 'warn',
      event: 'discards',
      message: `${this.port()}: ${n} more discarded (${entries.map(([r, k]) => `${k} ${words[r]}`).join(', ')}); latest: ${escapeControl(latest.why)}: ${latest.text}`,
      port: this.port(),
      discarded: Object.fromEntries(entries),
      total: { ...this.counts },
    });
    this.pending = {};
    this.latest = undefined;
  }

  close(): void {
    this.summary();
  }
}

/** Mostly not text: control bytes, or bytes that are not UTF-8. */
export function looksBinary(text: string): boolean {
  if (text.length === 0) return false;
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f || c === 0xfffd) odd++;
  }
  return odd / text.length > 0.25;
}

/** Why a line that failed to decode was thrown away. */
export function lineReason(err: ProtocolError, text: string, baud: number | undefined): { reason: DiscardReason; why: string } {
  if (looksBinary(text)) {
    return { reason: 'framing', why: `not text: another framing, or the wrong baud rate${baud ? ` (the port is read at ${baud} baud: --baud)` : ''}` };
  }
  return { reason: err.code === 'PW_ERR_NOT_JSON' ? 'json' : 'invalid', why: err.message };
}

/** Why the framer threw bytes away. */
export function framerReason(kind: DiscardKind, text: string, maxLine: number): { reason: DiscardReason; why: string } {
  if (kind === 'cut') return { reason: 'cut', why: 'a Yún message cut off by the start of another (a reset mid-message?)' };
  if (looksBinary(text)) return { reason: 'framing', why: `no newline within ${maxLine} bytes and not text: another framing, or the wrong baud rate` };
  if (text.includes('\r')) return { reason: 'overlong', why: `no newline within ${maxLine} bytes; the lines seem to end with "\\r" alone: end them with "\\n" (Serial.println)` };
  return { reason: 'overlong', why: `longer than ${maxLine} bytes (MAX_LINE): discarded up to its end` };
}
