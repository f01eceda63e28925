/**
 * Every change to a plot or to a token's points is one operation here that stores it and tells
 * the viewers, the way centrifuge's Broker makes "save to history and publish" one call per
 * channel: no request handler pairs a store call with a notification by hand, and the engines
 * under it (SQLite and the in-process fan-out today) can be swapped behind it.
 */
import type { Applied, PointStore } from './data/point-store.js';
import type { Columns, DataChange } from './data/columns.js';
import type { Plot, PlotInput, Plots, TraceSpec } from './store/plots.js';
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
    private readonly plots: Plots,
    private readonly store: PointStore,
    private readonly fanout: Fanout,
  ) {}

  /** A token's new points (an append, a replace or both); with `seq`, points it already has are skipped. */
  points(tokenId: number, change: DataChange, seq?: number): Applied {
    const applied = this.store.apply(this.store.token(tokenId), change, seq);
    this.fanout.points(tokenId, applied);
    return applied;
  }

  /** A layout change sent on a token's stream: every plot the token feeds gets it. */
  relayoutToken(tokenId: number, layout: Record<string, unknown>): void {
    for (const { plot } of this.plots.forToken(tokenId)) this.edit(plot.id, { layout });
  }

  create(userId: number, input: PlotInput, initial: InitialData = []): Plot {
    const plot = this.plots.create(userId, input);
    this.setInitial(initial);
    return plot;
  }

  /**
   * Edits a plot: new traces start every viewer over, a layout alone is sent as a layout, and any
   * edit checks again who may still see the plot (it may have become private).
   */
  edit(id: number, edit: PlotEdit, initial: InitialData = []): Plot {
    const plot = this.plots.update(id, edit);
    this.setInitial(initial);
    if (edit.traces) this.fanout.reload(plot);
    else if (edit.layout) this.fanout.layout(plot);
    else this.fanout.changed(plot);
    return plot;
  }

  delete(id: number): void {
    this.plots.delete(id);
    this.fanout.deleted(id);
  }

  private setInitial(initial: InitialData): void {
    for (const { tokenId, columns } of initial) this.points(tokenId, { replace: columns, appendCount: 0 });
  }
}
