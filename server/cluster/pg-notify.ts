/**
 * Changes between nodes through PostgreSQL's LISTEN/NOTIFY: every write to accounts or plots
 * sends a notification in its own transaction, so each node hears of it exactly when it
 * commits, in commit order, and updates its replica (plot edits and deletions reach its viewers,
 * a revoked token ends its stream there).
 *
 * The read barrier: a node sends a notification on a channel of its own and waits until it has
 * handled it. Notifications arrive in commit order, so by then it has handled every change
 * committed before the barrier was sent: a token made on node A streams on node B at once.
 * Requests that arrive while one is not yet sent share it; it is bounded in time (SYNC_MS), so a
 * slow database delays requests, never stops them.
 */
import type pg from 'pg';
import type { Logger } from '../../shared/log.js';
import { openClient } from './pg.js';

export const CHANNEL = 'plotwire';
/** Longest a request waits for the read barrier. */
export const SYNC_MS = 1000;
const RECONNECT_MS = [100, 250, 500, 1000, 2000] as const;

export type Change =
  | { readonly k: 'user' | 'token' | 'plot'; readonly id: number; readonly how?: string; readonly node?: string }
  | { readonly k: 'session'; readonly hash: string }
  | { readonly k: 'barrier'; readonly n: number };

type Handler = (change: Change) => Promise<void>;

export class PgNotify {
  private client: pg.Client | undefined;
  private connected = false;
  private closed = false;
  private attempt = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly handlers: Handler[] = [];
  private readonly reloads: (() => Promise<void>)[] = [];
  private barriers = 0;
  private readonly waiting = new Map<number, () => void>();
  private next: Promise<void> | undefined;
  private readonly own: string;

  constructor(
    private readonly url: string,
    nodeId: string,
    private readonly log: Logger,
  ) {
    this.own = `${CHANNEL}_${nodeId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  }

  /** Called for each change, one at a time, in commit order. */
  onChange(handler: Handler): void {
    this.handlers.push(handler);
  }

  /** Called after the listening connection came back: changes may have been missed, everything is read again. */
  onReconnect(reload: () => Promise<void>): void {
    this.reloads.push(reload);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  /** The notification for a change, sent with the transaction it belongs to. */
  static async send(client: pg.ClientBase, change: Change): Promise<void> {
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]);
  }

  /** Resolves once every change committed before the call is handled here, or after SYNC_MS. */
  sync(): Promise<void> {
    if (!this.connected) return Promise.resolve();
    this.next ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.next = undefined;
        const n = ++this.barriers;
        const timer = setTimeout(() => this.release(n), SYNC_MS);
        this.waiting.set(n, () => {
          clearTimeout(timer);
          resolve();
        });
        this.client?.query('SELECT pg_notify($1, $2)', [this.own, JSON.stringify({ k: 'barrier', n })]).catch(() => this.release(n));
      });
    });
    return this.next;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const n of [...this.waiting.keys()]) this.release(n);
    await this.client?.end().catch(() => undefined);
    await this.queue;
  }

  private release(n: number): void {
    const done = this.waiting.get(n);
    this.waiting.delete(n);
    done?.();
  }

  private async connect(): Promise<void> {
    const client = openClient(this.url);
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      const change = JSON.parse(msg.payload) as Change;
      this.enqueue(async () => {
        if (change.k === 'barrier') return this.release(change.n);
        for (const handle of this.handlers) await handle(change);
      });
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    await client.query(`LISTEN ${this.own}`);
    this.client = client;
    this.connected = true;
    this.attempt = 0;
  }

  private enqueue(run: () => Promise<void>): void {
    this.queue = this.queue.then(run).catch((err: unknown) => {
      // A change could not be read (the database went away meanwhile): read everything again once it is back.
      this.log.warn('replica-stale', `a change from another node could not be read (${(err as Error).message}); reading everything again`);
      this.reloadSoon();
    });
  }

  private reloadSoon(): void {
    setTimeout(() => this.enqueue(async () => {
      for (const reload of this.reloads) await reload();
    }), RECONNECT_MS[2]).unref();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.connected = false;
    for (const n of [...this.waiting.keys()]) this.release(n);
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    this.log.warn('notify-lost', 'lost the PostgreSQL connection that hears other nodes\' changes; reconnecting');
    const retry = (): void => {
      if (this.closed) return;
      const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)];
      setTimeout(() => {
        this.connect().then(
          () => {
            this.log.info('notify-back', 'hearing other nodes\' changes again; reading accounts and plots again');
            this.enqueue(async () => {
              for (const reload of this.reloads) await reload();
            });
          },
          () => retry(),
        );
      }, delay).unref();
    };
    retry();
  }
}
