/**
 * Plots: a layout and traces, each trace fed by a stream token or holding its own data. Kept in
 * SQLite and cached in memory, with an index from token to the plots (and traces) it feeds.
 */
import { MAXPOINTS_DEFAULT, MAXPOINTS_MAX, dataKeys } from '../../shared/index.js';
import type { Columns } from '../data/columns.js';
import { layoutJson, mergeLayout } from '../data/layout.js';
import type { Db } from './database.js';
import { newSecret } from './secrets.js';
import { PlotCache } from './plot-cache.js';
import { PlotwireError } from '../../shared/errors.js';

export interface TraceSpec {
  /** plotly.js trace attributes other than the data arrays and `stream` (type, mode, name, styles). */
  readonly props: Record<string, unknown>;
  readonly tokenId?: number;
  readonly maxpoints: number;
  /** The trace's own data, for a trace with no token. */
  readonly data?: Columns;
}

export interface Plot {
  readonly id: number;
  readonly userId: number;
  readonly owner: string;
  readonly fileId: number;
  readonly filename: string;
  readonly layout: Record<string, unknown>;
  readonly traces: readonly TraceSpec[];
  readonly worldReadable: boolean;
  readonly shareKey: string;
  /** Bumped by every layout change, so reconnecting viewers know whether theirs is current. */
  readonly layoutVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface PlotInput {
  readonly filename: string;
  readonly layout: Record<string, unknown>;
  readonly traces: readonly TraceSpec[];
  readonly worldReadable: boolean;
}

export class PlotError extends PlotwireError {
  readonly code = 'PW_ERR_PLOT';
}

/** A plot as its database row has it (JSON text, world_readable as 0 or 1). */
export interface PlotRow {
  id: number;
  userId: number;
  owner: string;
  fileId: number;
  filename: string;
  layout: string;
  traces: string;
  worldReadable: number;
  shareKey: string;
  layoutVersion: number;
  createdAt: number;
  updatedAt: number;
}

const SELECT = `SELECT p.id, p.user_id AS userId, u.name AS owner, p.file_id AS fileId, p.filename, p.layout, p.traces,
  p.world_readable AS worldReadable, p.share_key AS shareKey, p.layout_version AS layoutVersion,
  p.created_at AS createdAt, p.updated_at AS updatedAt FROM plots p JOIN users u ON u.id = p.user_id`;

export const fromRow = (r: PlotRow): Plot => ({
  ...r,
  layout: JSON.parse(r.layout) as Record<string, unknown>,
  traces: JSON.parse(r.traces) as TraceSpec[],
  worldReadable: r.worldReadable === 1,
});

/** Checks a trace's maxpoints against Plotly's schema (default 500, at most 10000). */
export function checkMaxpoints(value: unknown): number {
  if (value === undefined || value === null) return MAXPOINTS_DEFAULT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAXPOINTS_MAX) {
    throw new PlotError(`stream.maxpoints must be an integer from 1 to ${MAXPOINTS_MAX} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Splits a plotly.js trace into its attributes and its data columns (arrays under x, y, marker.size...). */
export function splitTrace(trace: Record<string, unknown>): { props: Record<string, unknown>; data: Columns } {
  const props: Record<string, unknown> = {};
  const data: Columns = {};
  for (const [key, value] of Object.entries(trace)) {
    if (key === 'stream' || key === 'token' || key === 'maxpoints') continue;
    if ((dataKeys as readonly string[]).includes(key) && Array.isArray(value)) data[key] = value;
    else if ((key === 'marker' || key === 'line') && typeof value === 'object' && value !== null) {
      const style: Record<string, unknown> = {};
      for (const [sub, v] of Object.entries(value)) {
        if (Array.isArray(v)) data[`${key}.${sub}`] = v;
        else style[sub] = v;
      }
      props[key] = style;
    } else props[key] = value;
  }
  return { props, data };
}

export class Plots extends PlotCache {
  constructor(private readonly db: Db) {
    super();
    for (const row of db.prepare(SELECT).all() as PlotRow[]) this.remember(fromRow(row));
  }

  /** Throws LayoutError or LayoutTooLargeError for a layout too deep or too large to store. */
  create(userId: number, input: PlotInput): Plot {
    const layout = layoutJson(input.layout);
    const now = Date.now();
    const fileId = ((this.db.prepare('SELECT max(file_id) AS m FROM plots WHERE user_id = ?').get(userId) as { m: number | null }).m ?? 0) + 1;
    const id = Number(
      this.db
        .prepare('INSERT INTO plots (user_id, file_id, filename, layout, traces, world_readable, share_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(userId, fileId, input.filename, layout, JSON.stringify(input.traces), input.worldReadable ? 1 : 0, newSecret(16), now, now).lastInsertRowid,
    );
    return this.reload(id);
  }

  /** Replaces what is given; a layout is merged (relayout), traces are replaced whole. Throws as create does. */
  update(id: number, change: { layout?: Record<string, unknown>; traces?: readonly TraceSpec[]; filename?: string; worldReadable?: boolean }): Plot {
    const plot = this.cache.get(id);
    if (!plot) throw new PlotError(`no plot ${id}`);
    const layout = change.layout ? layoutJson(mergeLayout(plot.layout, change.layout)) : JSON.stringify(plot.layout);
    this.db
      .prepare('UPDATE plots SET layout = ?, traces = ?, filename = ?, world_readable = ?, layout_version = layout_version + ?, updated_at = ? WHERE id = ?')
      .run(
        layout,
        JSON.stringify(change.traces ?? plot.traces),
        change.filename ?? plot.filename,
        (change.worldReadable ?? plot.worldReadable) ? 1 : 0,
        change.layout ? 1 : 0,
        Date.now(),
        id,
      );
    return this.reload(id);
  }

  delete(id: number): void {
    this.forget(id);
    this.db.prepare('DELETE FROM plots WHERE id = ?').run(id);
  }

  private reload(id: number): Plot {
    const plot = fromRow(this.db.prepare(`${SELECT} WHERE p.id = ?`).get(id) as PlotRow);
    this.forget(id);
    this.remember(plot);
    return plot;
  }
}
