/**
 * The cluster's PostgreSQL: a pool, the schema (migrated once by whichever node gets the advisory
 * lock first) and the test of whether an error means "the database is away" (writers get 503) or a
 * bug. Accounts, plots and the long history of points live here; Redis has the recent points.
 */
import pg from 'pg';
import { PlotwireError } from '../../shared/errors.js';
import { plotwireCommand } from '../../shared/self-command.js';

/** 64-bit integers as numbers: ids, indices and millisecond times all fit in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

export type Pool = pg.Pool;

export class PostgresError extends PlotwireError {
  readonly code = 'PW_ERR_POSTGRES';
}

const migrations: string[] = [
  `CREATE TABLE users (
     id bigserial PRIMARY KEY,
     name text NOT NULL UNIQUE,
     key_hash bytea NOT NULL UNIQUE,
     created_at bigint NOT NULL
   );
   CREATE TABLE tokens (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     hash bytea NOT NULL UNIQUE,
     hint text NOT NULL,
     created_at bigint NOT NULL,
     revoked_at bigint
   );
   CREATE TABLE plots (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     file_id integer NOT NULL,
     filename text NOT NULL,
     layout text NOT NULL,
     traces text NOT NULL,
     world_readable boolean NOT NULL,
     share_key text NOT NULL,
     layout_version integer NOT NULL DEFAULT 0,
     created_at bigint NOT NULL,
     updated_at bigint NOT NULL,
     UNIQUE (user_id, file_id),
     UNIQUE (user_id, filename)
   );
   CREATE TABLE sessions (
     hash bytea PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     expires_at bigint NOT NULL
   );
   -- Points in the batches they were written in, partitioned by day: retention drops whole partitions.
   CREATE TABLE points (
     token_id bigint NOT NULL,
     end_index bigint NOT NULL,
     count integer NOT NULL,
     replace boolean NOT NULL,
     next bigint NOT NULL,
     columns text NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (token_id, end_index, received_at)
   ) PARTITION BY RANGE (received_at);`,
  // The first and last x of each batch as numbers: a viewer's history range finds its batches by them.
  `ALTER TABLE points ADD COLUMN first_x float8, ADD COLUMN last_x float8;
   CREATE INDEX points_token_last_x ON points (token_id, last_x);`,
];

/** Errors that mean the database cannot be reached or cannot take writes now (not a bug): 503, try later. */
export function isPgUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|53|57P|58)/.test(code)) return true;
  if (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND)$/.test(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/.test(err.message);
}

/** A URL without its password, for the log (Redis URLs too). */
export const redactUrl = (url: string): string => url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');

/**
 * A hint's command with --postgres URL: without the URL's password, since hints end up in logs
 * and scrollback. Such a command then reads the password as psql does, from PGPASSWORD or
 * ~/.pgpass (node-postgres falls back to both), and the hint says so.
 */
export function postgresHint(args: readonly string[], url: string): string {
  const bare = url.replace(/(\/\/[^:/@]*):[^@]*@/, '$1@');
  const command = plotwireCommand([...args, '--postgres', bare]);
  return bare === url ? command : `${command} (with the password in PGPASSWORD or ~/.pgpass)`;
}

export function openPool(url: string): Pool {
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, types });
  // An idle connection the server closed (a restart): the pool drops it and makes another when needed.
  pool.on('error', () => undefined);
  return pool;
}

/** A client outside the pool (LISTEN needs one connection of its own). */
export function openClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, types });
}

/** Brings the schema up to date; nodes starting together wait for each other on an advisory lock. */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('plotwire-schema'))");
    await client.query('CREATE TABLE IF NOT EXISTS plotwire_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM plotwire_schema');
    const version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO plotwire_schema VALUES (0)');
    for (let v = version; v < migrations.length; v++) await client.query(migrations[v] as string);
    await client.query('UPDATE plotwire_schema SET version = $1', [Math.max(version, migrations.length)]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Runs statements in one transaction (a change and its notification commit together). */
export async function transaction<T>(pool: Pool, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await run(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The PostgreSQL code of a unique violation, which some writes turn into a clear refusal. */
export const isUniqueViolation = (err: unknown): boolean => err instanceof Error && (err as { code?: unknown }).code === '23505';
