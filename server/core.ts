/** Everything a request handler may need, built once by startServer. */
import type { Logger } from '../shared/log.js';
import type { PointStore } from './data/point-store.js';
import type { Accounts } from './store/accounts.js';
import type { Db } from './store/database.js';
import type { Plots } from './store/plots.js';
import type { AccountsEngine, PlotsEngine, PointsEngine } from './engine.js';
import type { Ingest } from './ingest/ingest.js';
import type { PlotService } from './plot-service.js';
import type { Plot } from './store/plots.js';
import type { Fanout } from './viewers/fanout.js';

export interface Core {
  readonly accounts: AccountsEngine;
  readonly plots: PlotsEngine;
  readonly store: PointsEngine;
  /** Viewers' event streams; every change that viewers must see goes through `service`. */
  readonly fanout: Fanout;
  /** Creates, edits and deletes plots and adds points: stores and tells viewers in one call. */
  readonly service: PlotService;
  readonly ingest: Ingest;
  readonly log: Logger;
  /** Base URL of the web listener as clients see it (http://host:port). */
  publicUrl: string;
  /** Base URL streams go to (the stream port when there is one). */
  streamUrl: string;
}

/** The embedded default's core: its engines are SQLite's, which tests and tools may use directly. */
export interface EmbeddedCore extends Core {
  readonly db: Db;
  readonly accounts: Accounts;
  readonly plots: Plots;
  readonly store: PointStore;
}

export const shareUrl = (core: Core, plot: Plot): string => `${core.publicUrl}/~${plot.owner}/${plot.fileId}`;
export const embedUrl = (core: Core, plot: Plot): string => `${shareUrl(core, plot)}.embed`;
