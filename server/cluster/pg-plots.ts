/**
 * Plots in PostgreSQL, every node holding them all in memory (PlotCache) as the embedded server
 * does: reads cost no round trip. Each write commits with a notification saying what changed
 * (layout, traces, access, deletion); every node reloads that plot and its viewers hear of it.
 */
import { layoutJson, mergeLayout } from '../data/layout.js';
import type { PlotsEngine, RemoteChange } from '../engine.js';
import type { StoreHealth } from '../store/health.js';
import { PlotCache } from '../store/plot-cache.js';
import { PlotError, fromRow, type Plot, type PlotInput, type PlotRow, type TraceSpec } from '../store/plots.js';
import { newSecret } from '../store/secrets.js';
import { isPgUnavailable, isUniqueViolation, transaction, type Pool } from './pg.js';
import { PgNotify, type Change } from './pg-notify.js';

const SELECT = `SELECT p.id, p.user_id AS "userId", u.name AS owner, p.file_id AS "fileId", p.filename, p.layout, p.traces,
  p.world_readable::int AS "worldReadable", p.share_key AS "shareKey", p.layout_version AS "layoutVersion",
  p.created_at AS "createdAt", p.updated_at AS "updatedAt" FROM plots p JOIN users u ON u.id = p.user_id`;

/** How a plot changed, for viewers: new traces start them over, a layout is sent as one, anything else rechecks access. */
type How = 'reload' | 'layout' | 'changed';

export class PgPlots extends PlotCache implements PlotsEngine {
  constructor(
    private readonly pool: Pool,
    private readonly health: StoreHealth,
    private readonly nodeId: string,
  ) {
    super();
  }

  async load(): Promise<void> {
    const { rows } = await this.pool.query<PlotRow>(SELECT);
    for (const id of [...this.cache.keys()]) this.forget(id);
    for (const row of rows) this.remember(fromRow(row));
  }

  /** A change committed by any node: the plot is read again; another node's change is told to the listeners. */
  async changed(change: Change): Promise<RemoteChange | undefined> {
    if (change.k !== 'plot') return undefined;
    const before = this.tokensOf(change.id);
    const { rows } = await this.pool.query<PlotRow>(`${SELECT} WHERE p.id = $1`, [change.id]);
    this.forget(change.id);
    const plot = rows[0] ? fromRow(rows[0]) : undefined;
    if (plot) this.remember(plot);
    if (change.node === this.nodeId) return undefined;
    const tokens = [...new Set([...before, ...this.tokensOf(change.id)])];
    const remote: RemoteChange = plot ? { kind: 'plot', plot, how: (change.how ?? 'changed') as How, tokens } : { kind: 'deleted', plotId: change.id, tokens };
    return remote;
  }

  /** Every token that feeds a plot (their recent points are kept on every node). */
  streamedTokens(): number[] {
    return [...new Set([...this.cache.values()].flatMap((p) => p.traces.flatMap((t) => (t.tokenId === undefined ? [] : [t.tokenId]))))];
  }

  async create(userId: number, input: PlotInput): Promise<Plot> {
    const layout = layoutJson(input.layout);
    const now = Date.now();
    const id = await this.write('a new plot', async (c) => {
      // file ids count per user; two nodes creating at once meet at the unique index, and the write is refused clearly.
      const { rows } = await c.query<{ id: number }>(
        `INSERT INTO plots (user_id, file_id, filename, layout, traces, world_readable, share_key, created_at, updated_at)
         VALUES ($1, (SELECT coalesce(max(file_id), 0) + 1 FROM plots WHERE user_id = $1), $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
        [userId, input.filename, layout, JSON.stringify(input.traces), input.worldReadable, newSecret(16), now],
      );
      const created = (rows[0] as { id: number }).id;
      await PgNotify.send(c, { k: 'plot', id: created, how: 'reload', node: this.nodeId });
      return created;
    }, () => new PlotError(`a plot named "${input.filename}" was just made by another request; choose another name`));
    return this.reload(id);
  }

  async update(id: number, change: { layout?: Record<string, unknown>; traces?: readonly TraceSpec[]; filename?: string; worldReadable?: boolean }): Promise<Plot> {
    const plot = this.cache.get(id);
    if (!plot) throw new PlotError(`no plot ${id}`);
    const layout = change.layout ? layoutJson(mergeLayout(plot.layout, change.layout)) : JSON.stringify(plot.layout);
    const how: How = change.traces ? 'reload' : change.layout ? 'layout' : 'changed';
    await this.write('a plot edit', async (c) => {
      await c.query('UPDATE plots SET layout = $1, traces = $2, filename = $3, world_readable = $4, layout_version = layout_version + $5, updated_at = $6 WHERE id = $7', [
        layout,
        JSON.stringify(change.traces ?? plot.traces),
        change.filename ?? plot.filename,
        change.worldReadable ?? plot.worldReadable,
        change.layout ? 1 : 0,
        Date.now(),
        id,
      ]);
      await PgNotify.send(c, { k: 'plot', id, how, node: this.nodeId });
    }, () => new PlotError(`user ${plot.owner} already has a plot named "${change.filename}"`));
    return this.reload(id);
  }

  async delete(id: number): Promise<void> {
    await this.write('a plot deletion', async (c) => {
      await c.query('DELETE FROM plots WHERE id = $1', [id]);
      await PgNotify.send(c, { k: 'plot', id, node: this.nodeId });
    });
    this.forget(id);
  }

  private async reload(id: number): Promise<Plot> {
    const { rows } = await this.pool.query<PlotRow>(`${SELECT} WHERE p.id = $1`, [id]);
    const plot = fromRow(rows[0] as PlotRow);
    this.forget(id);
    this.remember(plot);
    return plot;
  }

  private async write<T>(what: string, run: Parameters<typeof transaction<T>>[1], duplicate: () => Error = () => new PlotError('that plot already exists')): Promise<T> {
    try {
      return await transaction(this.pool, run);
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      if (isPgUnavailable(err)) throw this.health.failed(what, err);
      throw err;
    }
  }
}
