/**
 * Live viewers over Server-Sent Events. Each message is serialized once per plot and written to
 * every viewer of it. Event ids carry the plot's layout version and each trace's point index, so
 * a viewer that reconnects with Last-Event-ID gets exactly what it missed.
 */
import type { ServerResponse } from 'node:http';
import type { Applied, PointStore } from '../data/point-store.js';
import { traceUpdate } from '../data/columns.js';
import { figure } from '../data/figure.js';
import type { Plot, Plots } from '../store/plots.js';

/** A viewer that lets this much pile up unread is cut off; it reconnects and resumes. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

export class Fanout {
  private readonly viewers = new Map<number, Set<ServerResponse>>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly plots: Plots,
    private readonly store: PointStore,
  ) {
    this.keepalive = setInterval(() => {
      for (const set of this.viewers.values()) for (const res of set) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
  }

  get count(): number {
    let n = 0;
    for (const set of this.viewers.values()) n += set.size;
    return n;
  }

  /** Starts an event stream for a plot: the whole figure, or only what a reconnecting viewer missed. */
  attach(plot: Plot, res: ServerResponse, lastEventId: string | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const resumed = lastEventId !== undefined && this.resume(plot, res, lastEventId);
    if (!resumed) res.write(this.message(plot, 'init', { ...figure(plot, this.store) }));
    let set = this.viewers.get(plot.id);
    if (!set) this.viewers.set(plot.id, (set = new Set()));
    set.add(res);
    res.on('close', () => {
      set.delete(res);
      if (set.size === 0 && this.viewers.get(plot.id) === set) this.viewers.delete(plot.id);
    });
  }

  /** New points of a token, to the viewers of every plot it feeds. */
  points(tokenId: number, applied: Applied): void {
    for (const { plot, traces } of this.plots.forToken(tokenId)) {
      if (!this.viewers.has(plot.id)) continue;
      if (applied.replaced) this.send(plot, 'replace', { traces, update: traceUpdate(applied.replaced) });
      if (applied.appended) this.send(plot, 'append', { traces, start: applied.appendedAt, update: traceUpdate(applied.appended) });
    }
  }

  layout(plot: Plot): void {
    this.send(plot, 'layout', { layout: plot.layout });
  }

  /** The plot changed beyond points and layout (traces edited): viewers start over. */
  reload(plot: Plot): void {
    this.send(plot, 'init', figure(plot, this.store));
  }

  deleted(plotId: number): void {
    for (const res of this.viewers.get(plotId) ?? []) res.end('event: deleted\ndata: {}\n\n');
    this.viewers.delete(plotId);
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const set of this.viewers.values()) for (const res of set) res.end();
    this.viewers.clear();
  }

  private send(plot: Plot, event: string, data: Record<string, unknown>): void {
    const set = this.viewers.get(plot.id);
    if (!set) return;
    const text = this.message(plot, event, data);
    for (const res of set) {
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(text);
    }
  }

  /** "layoutVersion-index0-index1..." (the index of a trace without a token is 0). */
  private eventId(plot: Plot): string {
    return [plot.layoutVersion, ...plot.traces.map((t) => (t.tokenId === undefined ? 0 : this.store.token(t.tokenId).recent.endIndex))].join('-');
  }

  private message(plot: Plot, event: string, data: Record<string, unknown>): string {
    return `id: ${this.eventId(plot)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** Writes what a viewer missed since its last event; false when it must start over. */
  private resume(plot: Plot, res: ServerResponse, lastEventId: string): boolean {
    const parts = lastEventId.split('-').map(Number);
    if (parts.length !== plot.traces.length + 1 || parts.some((n) => !Number.isSafeInteger(n) || n < 0)) return false;
    if (parts[0] !== plot.layoutVersion) return false;
    const missed = new Map<number, { traces: number[]; start: number }>();
    for (const [i, t] of plot.traces.entries()) {
      if (t.tokenId === undefined) continue;
      const seen = parts[i + 1] as number;
      const entry = missed.get(t.tokenId);
      if (entry) {
        if (entry.start !== seen) return false;
        entry.traces.push(i);
      } else missed.set(t.tokenId, { traces: [i], start: seen });
    }
    const updates: string[] = [];
    for (const [tokenId, { traces, start }] of missed) {
      const recent = this.store.token(tokenId).recent;
      const cols = recent.since(start);
      if (!cols) return false;
      if (start < recent.endIndex) updates.push(this.message(plot, 'append', { traces, start, update: traceUpdate(cols) }));
    }
    for (const u of updates) res.write(u);
    return true;
  }
}
