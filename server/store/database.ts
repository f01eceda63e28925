/**
 * The server's SQLite database: users, API keys, stream tokens, plots and stored points.
 * WAL with synchronous=FULL: a transaction that returned is on disk, so `kill -9` (or a power
 * cut) loses nothing the server reported as stored.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type Db = Database.Database;

const migrations: string[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     key_hash BLOB NOT NULL UNIQUE,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE tokens (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     hash BLOB NOT NULL UNIQUE,
     hint TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER,
     next_seq INTEGER NOT NULL DEFAULT 0,
     end_index INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE plots (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     file_id INTEGER NOT NULL,
     filename TEXT NOT NULL,
     layout TEXT NOT NULL,
     traces TEXT NOT NULL,
     world_readable INTEGER NOT NULL,
     share_key TEXT NOT NULL,
     layout_version INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (user_id, file_id),
     UNIQUE (user_id, filename)
   );
   CREATE TABLE chunks (
     id INTEGER PRIMARY KEY,
     token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
     replace INTEGER NOT NULL,
     end_index INTEGER NOT NULL,
     count INTEGER NOT NULL,
     columns TEXT NOT NULL,
     received_at INTEGER NOT NULL
   );
   CREATE INDEX chunks_token ON chunks (token_id, end_index);
   CREATE TABLE sessions (
     hash BLOB PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     expires_at INTEGER NOT NULL
   );`,
  // Retention in bytes: each chunk's stored size, and each token's total, kept as they are written.
  `ALTER TABLE chunks ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
   UPDATE chunks SET size = length(CAST(columns AS BLOB));
   ALTER TABLE tokens ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE tokens SET stored_bytes = (SELECT coalesce(sum(size), 0) FROM chunks WHERE token_id = tokens.id);`,
];

export interface DatabaseOptions {
  /** Largest database file in MiB; writes past it fail with SQLITE_FULL (0 = no limit). */
  readonly maxSizeMiB?: number;
}

export function openDatabase(dataDir: string, options: DatabaseOptions = {}): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, 'plotwire.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  if (options.maxSizeMiB) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(1, Math.floor((options.maxSizeMiB * 1024 * 1024) / pageSize))}`);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
