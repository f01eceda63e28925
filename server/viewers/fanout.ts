/**
 * Live viewers over Server-Sent Events. Each message is serialized once per plot, and the
 * messages of one turn of the event loop (of several, while the server is held back, below) leave
 * in one write to each viewer: a node behind on its feed, or a store committing several batches
 * at once, then costs one syscall per viewer, not one per message. Event ids say what a viewer has: "layoutVersion.shape-index0-index1...",
 * the plot's layout version, a fingerprint of its traces, and each trace's point index; a viewer
 * that reconnects with Last-Event-ID gets exactly what it missed, or the whole figure when what
 * it has no longer matches (layout or traces edited, points no longer kept).
 */
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync } from 'node:fs';
import type { Applied } from '../data/point-store.js';
import type { PlotsEngine, PointsEngine } from '../engine.js';
import { traceUpdate } from '../data/columns.js';
import { figure } from '../data/figure.js';
import type { Plot } from '../store/plots.js';

/** A viewer that lets this much pile up unread is cut off; it reconnects and resumes. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;
/** The longest messages wait for a busy server's next round of writes. */
const MAX_HOLD_MS = 250;

/** Linux's account of this thread: its second field is the time it was runnable but waiting for a CPU (ns). */
const SCHEDSTAT = '/proc/thread-self/schedstat';
const schedstat = existsSync(SCHEDSTAT) ? openSync(SCHEDSTAT, 'r') : undefined;
const statBuffer = Buffer.alloc(96);

/** How long this thread has waited for a CPU while it had work, in ms; 0 where the kernel does not say. */
export function cpuWaitMs(): number {
  if (schedstat === undefined) return 0;
  const n = readSync(schedstat, statBuffer, 0, statBuffer.length, 0);
  return Number(statBuffer.toString('latin1', 0, n).split(' ')[1] ?? 0) / 1e6;
}

/** Whether the viewer behind a response may still see a plot (checked again whenever the plot changes). */
export type MayView = (plot: Plot) => boolean;

interface Audience {
  /** The plot as the viewers' access was last checked; plots are replaced, never mutated, on change. */
  plot: Plot;
  readonly viewers: Map<ServerResponse, MayView>;
  /** The last init message; its id says what it holds, so it serves every joiner until the plot changes. */
  init?: { readonly id: string; readonly bytes: Buffer };
  /** Messages not yet written; a join, a plot change or a deletion writes them first. */
  pending: Buffer[];
}

/** Point indices by token, where an event id must not say what the current state says. */
type Indices = ReadonlyMap<number, number>;

/** Plots are immutable, so each one's fingerprint is computed once. */
const shapes = new WeakMap<Plot, string>();

/** A short fingerprint of a plot's traces: which token feeds each, its maxpoints and attributes. */
function shapeOf(plot: Plot): string {
  let shape = shapes.get(plot);
  if (shape === undefined) {
    const traces = plot.traces.map((t) => [t.tokenId ?? null, t.maxpoints, t.props, t.tokenId === undefined ? t.data : null]);
    shape = createHash('sha256').update(JSON.stringify(traces)).digest('base64url').slice(0, 8);
    shapes.set(plot, shape);
  }
  return shape;
}

export class Fanout {
  private readonly audiences = new Map<number, Audience>();
  private readonly keepalive: NodeJS.Timeout;
  private readonly due = new Set<Audience>();
  private flushing: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** When the last round of writes ended, and how long of it the thread waited for a CPU (ms). */
  private lastEnded = 0;
  private lastWaited = 0;

  constructor(
    private readonly plots: PlotsEngine,
    private readonly store: PointsEngine,
  ) {
    this.keepalive = setInterval(() => {
      for (const { viewers } of this.audiences.values()) for (const res of viewers.keys()) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
  }

  get count(): number {
    let n = 0;
    for (const { viewers } of this.audiences.values()) n += viewers.size;
    return n;
  }

  /** Starts an event stream for a plot: the whole figure, or only what a reconnecting viewer missed. */
  attach(plot: Plot, res: ServerResponse, lastEventId: string | undefined, mayView: MayView): void {
    // A body that runs until the connection closes rather than chunked: each event is then one plain
    // socket write, about half the work of a chunk (bench/server-fanout.ts). EventSource needs no framing.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // HEAD: the head alone (the events are written to the socket, past node:http's HEAD rule).
    if (res.req.method === 'HEAD') return void res.end();
    // Events are small and must leave at once: no Nagle delay (the main listener's sockets come from node:net, which keeps it on).
    res.socket?.setNoDelay(true);
    res.write('retry: 1000\n\n');
    // The cluster first makes the plot's streams current on this node (a viewer moved here from another node resumes from there).
    const loading = this.store.load?.(plot.traces.flatMap((t) => (t.tokenId === undefined ? [] : [t.tokenId])));
    if (loading) {
      loading.then(
        () => {
          const current = this.plots.get(plot.id);
          if (res.destroyed) return;
          if (current) this.join(current, res, lastEventId, mayView);
          else res.end('event: deleted\ndata: {}\n\n');
        },
        () => res.destroy(),
      );
    } else this.join(plot, res, lastEventId, mayView);
  }

  private join(plot: Plot, res: ServerResponse, lastEventId: string | undefined, mayView: MayView): void {
    let audience = this.audiences.get(plot.id);
    if (!audience) this.audiences.set(plot.id, (audience = { plot, viewers: new Map(), pending: [] }));
    // What the others have yet to get is in the figure or the resume this viewer gets.
    this.deliver(audience);
    const { viewers } = audience;
    viewers.set(res, mayView);
    res.on('close', () => {
      viewers.delete(res);
      if (viewers.size === 0 && this.audiences.get(plot.id)?.viewers === viewers) this.audiences.delete(plot.id);
    });
    const resumed = lastEventId !== undefined && this.resume(plot, res, lastEventId);
    if (!resumed) res.write(this.initFor(audience, plot));
  }

  /** New points of a token, to the viewers of every plot it feeds. */
  points(tokenId: number, applied: Applied): void {
    for (const { plot, traces } of this.plots.forToken(tokenId)) {
      if (!this.audiences.has(plot.id)) continue;
      // A replace's id counts only the points up to it: a viewer cut off right after it must still get the append.
      if (applied.replaced) this.send(plot, 'replace', { traces, update: traceUpdate(applied.replaced) }, new Map([[tokenId, applied.appendedAt]]));
      if (applied.appended) this.send(plot, 'append', { traces, start: applied.appendedAt, update: traceUpdate(applied.appended) });
    }
  }

  layout(plot: Plot): void {
    this.send(plot, 'layout', { layout: plot.layout });
  }

  /** The plot changed beyond points and layout (traces edited): viewers start over. */
  reload(plot: Plot): void {
    if (this.audiences.has(plot.id)) this.send(plot, 'init', figure(plot, this.store));
  }

  /** The plot changed without a layout or trace edit (renamed, made private): its access is checked again. */
  changed(plot: Plot): void {
    const audience = this.audiences.get(plot.id);
    if (audience) this.recheck(audience, plot);
  }

  deleted(plotId: number): void {
    const audience = this.audiences.get(plotId);
    if (!audience) return;
    this.deliver(audience);
    for (const res of audience.viewers.keys()) res.end('event: deleted\ndata: {}\n\n');
    this.audiences.delete(plotId);
  }

  close(): void {
    clearInterval(this.keepalive);
    clearTimeout(this.flushing as NodeJS.Timeout);
    clearImmediate(this.flushing as NodeJS.Immediate);
    this.writeDue();
    for (const { viewers } of this.audiences.values()) for (const res of viewers.keys()) res.end();
    this.audiences.clear();
  }

  private send(plot: Plot, event: string, data: Record<string, unknown>, at?: Indices): void {
    const audience = this.audiences.get(plot.id);
    if (!audience) return;
    this.recheck(audience, plot);
    // Encoded once for every viewer.
    audience.pending.push(Buffer.from(this.message(plot, event, data, at)));
    this.due.add(audience);
    if (this.flushing) return;
    // At once (after this turn), unless the last round of writes waited for a CPU, taken by other
    // processes, for longer than it has been since: what comes meanwhile then leaves together,
    // one write per viewer for several messages. On a machine of its own a node never waits; on
    // a saturated one (10,000 viewers over 3 nodes and their clients on 2 cores, bench/cluster.ts)
    // it sends fewer, larger writes instead of falling seconds behind.
    const hold = Math.min(MAX_HOLD_MS, this.lastEnded + this.lastWaited - performance.now());
    this.flushing = hold > 0 ? setTimeout(() => this.writeDue(), hold) : setImmediate(() => this.writeDue());
  }

  private writeDue(): void {
    this.flushing = undefined;
    const waited = this.cpuWaitMs();
    for (const due of this.due) this.deliver(due);
    this.due.clear();
    this.lastEnded = performance.now();
    this.lastWaited = this.cpuWaitMs() - waited;
  }

  /** The thread's CPU wait so far (a method, so a test can say the machine was busy). */
  private cpuWaitMs(): number {
    return cpuWaitMs();
  }

  /** Writes an audience's pending messages, in one write to each viewer. */
  private deliver(audience: Audience): void {
    const { pending } = audience;
    if (pending.length === 0) return;
    const bytes = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    audience.pending = [];
    for (const res of audience.viewers.keys()) {
      if (res.writableEnded) continue;
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        continue;
      }
      // Straight to the socket (attach wrote the head): the same bytes, as the body runs to the
      // close, without node:http's cork and uncork of each response on the next tick. A response
      // behind another on its connection (pipelined) has no socket yet: node:http keeps it.
      const socket = res.socket;
      if (!socket) res.write(bytes);
      else if (socket.writable) socket.write(bytes);
    }
  }

  /** The plot changed (it may have become private): viewers who may no longer see it are let go. */
  private recheck(audience: Audience, plot: Plot): void {
    if (audience.plot === plot) return;
    // Messages from before the change were for everyone then.
    this.deliver(audience);
    audience.plot = plot;
    for (const [res, mayView] of audience.viewers) if (!mayView(plot)) res.end();
  }

  /** The whole figure as an init message, built once for all who join while the plot stays the same. */
  private initFor(audience: Audience, plot: Plot): Buffer {
    const id = this.eventId(plot);
    if (audience.init?.id !== id) audience.init = { id, bytes: Buffer.from(this.message(plot, 'init', figure(plot, this.store))) };
    return audience.init.bytes;
  }

  /** "layoutVersion.shape-index0-index1..." (the index of a trace without a token is 0). */
  private eventId(plot: Plot, at?: Indices): string {
    const indices = plot.traces.map((t) => (t.tokenId === undefined ? 0 : (at?.get(t.tokenId) ?? this.store.endIndex(t.tokenId))));
    return [this.version(plot), ...indices].join('-');
  }

  /** "layoutVersion.shape", and in the cluster the epoch of the plot's streams (a lost stream starts viewers over). */
  private version(plot: Plot): string {
    const epochs = this.store.epochTag?.(plot.traces.flatMap((t) => (t.tokenId === undefined ? [] : [t.tokenId]))) ?? '';
    return `${plot.layoutVersion}.${shapeOf(plot)}${epochs}`;
  }

  private message(plot: Plot, event: string, data: Record<string, unknown>, at?: Indices): string {
    return `id: ${this.eventId(plot, at)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** Writes what a viewer missed since its last event; false when it must start over. */
  private resume(plot: Plot, res: ServerResponse, lastEventId: string): boolean {
    // The positions are the last fields: the version before them may hold "-" itself (the shape is base64url).
    const fields = lastEventId.split('-');
    const rest = fields.splice(Math.max(1, fields.length - plot.traces.length));
    if (fields.join('-') !== this.version(plot)) return false;
    const parts = rest.map(Number);
    if (parts.length !== plot.traces.length || parts.some((n) => !Number.isSafeInteger(n) || n < 0)) return false;
    const missed = new Map<number, { traces: number[]; start: number }>();
    for (const [i, t] of plot.traces.entries()) {
      if (t.tokenId === undefined) continue;
      const seen = parts[i] as number;
      const entry = missed.get(t.tokenId);
      if (entry) {
        if (entry.start !== seen) return false;
        entry.traces.push(i);
      } else missed.set(t.tokenId, { traces: [i], start: seen });
    }
    // Each message's id counts only what it and the ones before it carry, in case the line drops between them.
    const at = new Map([...missed].map(([tokenId, { start }]) => [tokenId, start]));
    const updates: string[] = [];
    for (const [tokenId, { traces, start }] of missed) {
      const end = this.store.endIndex(tokenId);
      if (start === end) continue;
      const cols = this.store.since(tokenId, start);
      if (!cols) return false;
      at.set(tokenId, end);
      updates.push(this.message(plot, 'append', { traces, start, update: traceUpdate(cols) }, at));
    }
    for (const u of updates) res.write(u);
    return true;
  }
}
