/**
 * The embedded default: one process, SQLite for accounts, plots and points, the in-process
 * fan-out. The classes are today's, unchanged; this only builds them as the engines the plot
 * service runs on (the cluster's are in server/cluster/engines.ts).
 */
import type { Logger } from '../shared/log.js';
import { plotwireCommand } from '../shared/self-command.js';
import { defaultDataDir } from './data-dir.js';
import { PointStore } from './data/point-store.js';
import type { Engines } from './engine.js';
import { Accounts } from './store/accounts.js';
import { openDatabase, type Db } from './store/database.js';
import { StoreHealth } from './store/health.js';
import { Plots } from './store/plots.js';

export interface EmbeddedOptions {
  readonly dataDir: string;
  /** Points kept on disk per token (default 1,000,000). */
  readonly retentionPoints?: number;
  /** Bytes kept on disk per token, in MiB (default 64). */
  readonly retentionMiB?: number;
  /** Memory for all tokens' recent points, in MiB (default 64); past it idle tokens' are dropped and reloaded when needed. */
  readonly memoryMiB?: number;
  /** Memory for one token's recent points, in KiB (default 4096). */
  readonly tokenMemoryKiB?: number;
  readonly maxDatabaseMiB?: number;
}

export interface EmbeddedEngines extends Engines {
  readonly db: Db;
  readonly accounts: Accounts;
  readonly plots: Plots;
  readonly store: PointStore;
}

export function embeddedEngines(options: EmbeddedOptions, log: Logger): EmbeddedEngines {
  const db = openDatabase(options.dataDir, { maxSizeMiB: options.maxDatabaseMiB ?? 0 });
  const accounts = new Accounts(db);
  const plots = new Plots(db);
  const health = new StoreHealth(log);
  const store = new PointStore(db, {
    retentionPoints: options.retentionPoints ?? 1_000_000,
    ...(options.retentionMiB !== undefined && { retentionBytes: options.retentionMiB * 1024 * 1024 }),
    ...(options.memoryMiB !== undefined && { budgetBytes: options.memoryMiB * 1024 * 1024 }),
    ...(options.tokenMemoryKiB !== undefined && { tokenBytes: options.tokenMemoryKiB * 1024 }),
    capacityOf: (tokenId) => plots.capacityOf(tokenId),
    health,
  });
  return {
    db,
    accounts,
    plots,
    store,
    health,
    where: `data in ${options.dataDir}`,
    command: (args) => plotwireCommand(args, { dir: options.dataDir, defaultDir: defaultDataDir() }),
    async close() {
      store.close();
      db.close();
    },
  };
}
