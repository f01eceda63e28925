/**
 * Limits on open connections, per client address and in total, so a flood of sockets is refused
 * with 503 and Retry-After while the server still has descriptors, instead of running out of
 * them (EMFILE, when it could no longer open its own database or answer anyone). The total is
 * kept below the process's descriptor limit, whatever it is set to.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../shared/log.js';
import { statusOf } from '../shared/status.js';
import { refuse } from './listener.js';

export interface ConnectionLimitOptions {
  /** Open connections in total (default 2048, and always 128 below the descriptor limit). */
  readonly total?: number;
  /** Open connections from one address (default 256). */
  readonly perAddress?: number;
  /** Seconds a refused client is told to wait (Retry-After). */
  readonly retryAfterS?: number;
}

const DEFAULT_TOTAL = 2048;
const DEFAULT_PER_ADDRESS = 256;
/** Descriptors kept for the server's own files (database, WAL, static files) and its listeners. */
const RESERVED_FDS = 128;
const REPORT_EVERY_MS = 10_000;

/** The soft limit on open descriptors (Linux), or undefined where it cannot be read. */
function descriptorLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class ConnectionLimits {
  readonly total: number;
  readonly perAddress: number;
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  private refused = { total: 0, perAddress: 0, since: 0 };
  private report: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly options: ConnectionLimitOptions = {},
  ) {
    const fds = descriptorLimit();
    this.total = Math.max(1, Math.min(options.total ?? DEFAULT_TOTAL, fds === undefined ? Number.POSITIVE_INFINITY : fds - RESERVED_FDS));
    this.perAddress = Math.max(1, options.perAddress ?? DEFAULT_PER_ADDRESS);
  }

  get count(): number {
    return this.open;
  }

  /**
   * Counts a new connection until it closes, or refuses it: true when it may go on. A refused
   * plain connection is answered 503 at once; a TLS one (`answer` false) is closed before its
   * handshake, which would cost more than the answer is worth.
   */
  admit(socket: Socket | Duplex, answer = true, address = (socket as Socket).remoteAddress ?? '?'): boolean {
    const fromAddress = this.byAddress.get(address) ?? 0;
    const over = this.open >= this.total ? 'total' : fromAddress >= this.perAddress ? 'perAddress' : undefined;
    if (over) {
      this.noteRefusal(over);
      const error =
        over === 'total'
          ? `the server has ${this.open} connections open, its limit (--max-connections ${this.total}); try again later`
          : `${fromAddress} connections are open from ${address}, the limit for one address (--max-connections-per-address ${this.perAddress}); try again later`;
      if (answer) refuse(socket, 503, 'Service Unavailable', statusOf(503)?.meaning ?? 'Service Unavailable', { error }, { 'retry-after': String(this.options.retryAfterS ?? 5) });
      else socket.destroy();
      return false;
    }
    this.open++;
    this.byAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open--;
      const n = (this.byAddress.get(address) ?? 1) - 1;
      if (n > 0) this.byAddress.set(address, n);
      else this.byAddress.delete(address);
    });
    return true;
  }

  close(): void {
    clearTimeout(this.report);
  }

  /** Refusals are logged once per REPORT_EVERY_MS with their count, not once each (a flood would flood the log too). */
  private noteRefusal(kind: 'total' | 'perAddress'): void {
    if (this.refused.total + this.refused.perAddress === 0) this.refused.since = Date.now();
    this.refused[kind]++;
    this.report ??= setTimeout(() => {
      this.report = undefined;
      const { total, perAddress, since } = this.refused;
      this.refused = { total: 0, perAddress: 0, since: 0 };
      this.log.warn(
        'connections-refused',
        `refused ${total + perAddress} connections with 503 in ${((Date.now() - since) / 1000).toFixed(0)} s (${total} over the total limit of ${this.total}, ${perAddress} over the limit of ${this.perAddress} per address)`,
        { total, perAddress, limit: this.total, perAddressLimit: this.perAddress },
      );
    }, REPORT_EVERY_MS).unref();
  }
}
