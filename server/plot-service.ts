/**
 * Every change to a plot or to a token's points is one operation here that stores it and tells
 * the viewers, the way centrifuge's Broker makes "save to history and publish" one call per
 * channel: no request handler pairs a store call with a notification by hand, and the engines
 * under it (SQLite and the in-process fan-out today) can be swapped behind it.
 *
 * Viewers hear of a change only once it is durable: points when their transaction commits (the
 * store's commit listener), plots and layouts after their UPDATE returned. A write the database
 * refuses is a StoreUnavailableError (503 for the writer), never a change that viewers saw and
 * a restart forgets.
 */
import type { Accepted } from './data/point-store.js';
import type { Columns, DataChange } from './data/columns.js';
import type { MaybePromise, PlotsEngine, PointsEngine, RemoteChange } from './engine.js';
import { layoutJson, mergeLayout } from './data/layout.js';
import { figure, type Figure } from './data/figure.js';
import { isStorageFault, type StoreHealth } from './store/health.js';
import type { Plot, PlotInput, TraceSpec } from './store/plots.js';
import type { Fanout } from './viewers/fanout.js';

/** Data sent with streamed traces: it becomes each token's data (a replace). */
export type InitialData = readonly { readonly tokenId: number; readonly columns: Columns }[];

export interface PlotEdit {
  /** Merged into the layout (plotly.js relayout: objects merge, null removes). */
  readonly layout?: Record<string, unknown>;
  /** Replace the traces whole. */
  readonly traces?: readonly TraceSpec[];
  readonly filename?: string;
  readonly worldReadable?: boolean;
}

export class PlotService {
  constructor(
    private readonly plots: PlotsEngine,
    private readonly store: PointsEngine,
    private readonly fanout: Fanout,
    private readonly health: StoreHealth,
  ) {
    store.onCommit((tokenId, applied) => fanout.points(tokenId, applied));
  }

  /** A change another node made (cluster): this node's recent points and viewers follow it as if it were made here. */
  remote(change: RemoteChange): void {
    if (change.kind === 'revoked') return;
    this.store.reshape(change.tokens);
    if (change.kind === 'deleted') return this.fanout.deleted(change.plotId);
    if (change.how === 'reload') this.fanout.reload(change.plot);
    else if (change.how === 'layout') this.fanout.layout(change.plot);
    else this.fanout.changed(change.plot);
  }

  /**
   * A token's new points (an append, a replace or both); with `seq`, points it already has are
   * skipped. They reach the viewers when they are committed (within the store's flush interval).
   */
  points(tokenId: number, change: DataChange, seq?: number, options?: { readonly sequenced?: boolean }): Accepted {
    return this.store.apply(this.store.token(tokenId), change, seq, options);
  }

  /** Points appended from outside the token's writer (Plotly's fileopt=extend): stored before this returns, its `next` untouched. */
  async extend(tokenId: number, columns: Columns, count: number): Promise<void> {
    await this.store.load?.([tokenId]);
    this.points(tokenId, { append: columns, appendCount: count }, undefined, { sequenced: false });
    await this.store.commit();
  }

  /**
   * A layout change sent on a token's stream: every plot the token feeds gets it. A layout too
   * deep or too large, or a database refusing writes, throws here, for the stream to end with it;
   * the write itself completes in the background (in order with the stream's points).
   */
  relayoutToken(tokenId: number, layout: Record<string, unknown>, onError: (err: unknown) => void): void {
    const refusal = this.health.refusal();
    if (refusal) throw refusal;
    for (const { plot } of this.plots.forToken(tokenId)) {
      layoutJson(mergeLayout(plot.layout, layout));
      this.edit(plot.id, { layout }).catch(onError);
    }
  }

  /** A plot's figure with its points, read once its tokens' points are current on this node (a cluster node may have dropped them from memory). */
  async figure(plot: Plot): Promise<Figure> {
    await this.store.load?.(this.plots.tokensOf(plot.id));
    return figure(plot, this.store);
  }

  async create(userId: number, input: PlotInput, initial: InitialData = []): Promise<Plot> {
    const plot = await this.write('a new plot', () => this.plots.create(userId, input));
    await this.store.load?.(this.plots.tokensOf(plot.id));
    this.store.reshape(this.plots.tokensOf(plot.id));
    await this.setInitial(initial);
    return plot;
  }

  /**
   * Edits a plot: new traces start every viewer over, a layout alone is sent as a layout, and any
   * edit checks again who may still see the plot (it may have become private).
   */
  async edit(id: number, edit: PlotEdit, initial: InitialData = []): Promise<Plot> {
    const before = this.plots.tokensOf(id);
    const plot = await this.write('a plot edit', () => this.plots.update(id, edit));
    if (edit.traces) {
      await this.store.load?.(this.plots.tokensOf(id));
      this.store.reshape(new Set([...before, ...this.plots.tokensOf(id)]));
    }
    await this.setInitial(initial);
    if (edit.traces) this.fanout.reload(plot);
    else if (edit.layout) this.fanout.layout(plot);
    else this.fanout.changed(plot);
    return plot;
  }

  async delete(id: number): Promise<void> {
    const before = this.plots.tokensOf(id);
    await this.write('a plot deletion', () => this.plots.delete(id));
    this.store.reshape(before);
    this.fanout.deleted(id);
  }

  /** Data given with a plot's traces, stored before the answer (it is the plot's content, not a stream's). */
  private async setInitial(initial: InitialData): Promise<void> {
    if (initial.length === 0) return;
    for (const { tokenId, columns } of initial) this.points(tokenId, { replace: columns, appendCount: 0 });
    await this.store.commit();
  }

  /** A plot write, refused while the database refuses writes and reported as they are. */
  private async write<T>(what: string, run: () => MaybePromise<T>): Promise<T> {
    const refusal = this.health.refusal();
    if (refusal) throw refusal;
    try {
      const result = await run();
      this.health.ok();
      return result;
    } catch (err) {
      if (isStorageFault(err)) throw this.health.failed(what, err);
      throw err;
    }
  }
}
