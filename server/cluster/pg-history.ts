/**
 * The long history of every token's points in PostgreSQL: the batches as they were written, in a
 * table partitioned by day, so retention is dropping whole partitions (no DELETE scans). Exports
 * read it; Redis keeps only what viewers need (about a trace's maxpoints).
 *
 * Rows are written in batches: everything added while one INSERT runs goes in the next, so
 * batches grow with the load by themselves. A row is keyed by its token, its point index and its
 * time, so writing one again (a new owner catching up from Redis) changes nothing.
 */
import type { Logger } from '../../shared/log.js';
import type { Columns } from '../data/columns.js';
import { sortColumnKeys } from '../data/chunk-table.js';
import { RangeCollector, type RangeAnswer, type RangeQuery } from '../data/x-range.js';
import type { Pool } from './pg.js';

export interface HistoryRow {
  readonly tokenId: number;
  /** Cumulative index after the batch's last point. */
  readonly endIndex: number;
  readonly count: number;
  readonly replace: boolean;
  /** The writer's next seq after the batch. */
  readonly next: number;
  /** The batch's columns as JSON. */
  readonly columns: string;
  /** When it was received (ms): the partition it goes to. */
  readonly at: number;
  /** The batch's first and last x as numbers (xSpan), null when they are neither numbers nor dates. */
  readonly firstX: number | null;
  readonly lastX: number | null;
}

const DAY_MS = 86_400_000;
/** Rows read at a time for an export. */
const PAGE = 500;
/** Rows in one INSERT at most (the rest wait for the next). */
const MAX_BATCH = 2000;

const dayOf = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
const partitionName = (day: number): string => `points_${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;

export class PgHistory {
  private queue: { row: HistoryRow; done: (err?: unknown) => void }[] = [];
  private writing = false;
  private readonly partitions = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    /** Days of history kept; older partitions are dropped. */
    private readonly retentionDays: number,
  ) {}

  async start(): Promise<void> {
    await this.maintain();
    this.timer = setInterval(() => void this.maintain().catch(() => undefined), 3_600_000).unref();
  }

  /** Resolves once the rows are committed (rejects with the database's error). */
  add(rows: readonly HistoryRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const all = rows.map(
      (row) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ row, done: (err) => (err === undefined ? resolve() : reject(err)) });
        }),
    );
    if (!this.writing) setImmediate(() => void this.write());
    return Promise.all(all).then(() => undefined);
  }

  /** The newest stored batch's end and next (0, 0 for a token with none). */
  async last(tokenId: number): Promise<{ end: number; next: number }> {
    const { rows } = await this.pool.query<{ end_index: number; next: number }>('SELECT end_index, next FROM points WHERE token_id = $1 ORDER BY end_index DESC LIMIT 1', [tokenId]);
    return { end: rows[0]?.end_index ?? 0, next: rows[0]?.next ?? 0 };
  }

  /** Every stored batch of a token from its last replace on, oldest first, read a page at a time. */
  async *history(tokenId: number): AsyncGenerator<{ replace: boolean; columns: Columns }> {
    yield* this.batches(tokenId, (await this.replacedAt(tokenId)) - 1, '');
  }

  /**
   * A token's stored points with x in a range (a viewer scrolled back past what Redis keeps): the
   * batches whose x span meets the range, found by the (token, last x) index and counted first, so
   * the answer is whole or reduced as the embedded store's is (RangeCollector), read a page at a time.
   */
  async range(tokenId: number, q: RangeQuery): Promise<RangeAnswer> {
    const after = (await this.replacedAt(tokenId)) - 1;
    const where = 'token_id = $1 AND end_index > $2 AND last_x >= $3 AND first_x <= $4';
    const { rows } = await this.pool.query<{ n: number | null }>(`SELECT sum(count)::float8 AS n FROM points WHERE ${where}`, [tokenId, after, q.from, q.to]);
    const collector = new RangeCollector(q, rows[0]?.n ?? 0);
    for await (const batch of this.batches(tokenId, after, ' AND last_x >= $4 AND first_x <= $5', [q.from, q.to])) collector.add(batch.columns);
    return collector.answer();
  }

  /** Where the token's points since its last replace start (0 when it never replaced them). */
  private async replacedAt(tokenId: number): Promise<number> {
    const { rows } = await this.pool.query<{ s: number | null }>('SELECT max(end_index - count) AS s FROM points WHERE token_id = $1 AND replace', [tokenId]);
    return rows[0]?.s ?? 0;
  }

  /** A token's batches after `after`, oldest first, a page at a time; `filter` narrows them with parameters from $4 on. */
  private async *batches(tokenId: number, after: number, filter: string, params: readonly unknown[] = []): AsyncGenerator<{ replace: boolean; columns: Columns }> {
    for (;;) {
      const { rows } = await this.pool.query<{ end_index: number; replace: boolean; columns: string }>(
        `SELECT end_index, replace, columns FROM points WHERE token_id = $1 AND end_index > $2${filter} ORDER BY end_index LIMIT $3`,
        [tokenId, after, PAGE, ...params],
      );
      for (const r of rows) yield { replace: r.replace, columns: JSON.parse(r.columns) as Columns };
      if (rows.length < PAGE) return;
      after = (rows.at(-1) as { end_index: number }).end_index;
    }
  }

  async keys(tokenId: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>('SELECT DISTINCT jsonb_object_keys(columns::jsonb) AS key FROM points WHERE token_id = $1', [tokenId]);
    return sortColumnKeys(rows.map((r) => r.key));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.writing || this.queue.length) await new Promise((r) => setTimeout(r, 10));
  }

  private async write(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      await this.insert(batch.map((b) => b.row));
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.done(err);
    } finally {
      this.writing = false;
      if (this.queue.length) setImmediate(() => void this.write());
    }
  }

  private async insert(rows: readonly HistoryRow[], retried = false): Promise<void> {
    for (const day of new Set(rows.map((r) => dayOf(r.at)))) if (!this.partitions.has(day)) await this.partition(day);
    try {
      await this.pool.query(
        `INSERT INTO points (token_id, end_index, count, replace, next, columns, received_at, first_x, last_x)
         SELECT t, e, n, r, q, c, to_timestamp(a / 1000.0), f, l FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bool[], $5::bigint[], $6::text[], $7::float8[], $8::float8[], $9::float8[]) AS u(t, e, n, r, q, c, a, f, l)
         ON CONFLICT DO NOTHING`,
        [rows.map((r) => r.tokenId), rows.map((r) => r.endIndex), rows.map((r) => r.count), rows.map((r) => r.replace), rows.map((r) => r.next), rows.map((r) => r.columns), rows.map((r) => r.at), rows.map((r) => r.firstX), rows.map((r) => r.lastX)],
      );
    } catch (err) {
      // Another node dropped a partition this one thought it had (retention): made again once.
      if (retried || (err as { code?: string }).code !== '23514') throw err;
      this.partitions.clear();
      await this.insert(rows, true);
    }
  }

  private async partition(day: number): Promise<void> {
    const from = new Date(day).toISOString();
    const to = new Date(day + DAY_MS).toISOString();
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF points FOR VALUES FROM ('${from}') TO ('${to}')`).catch((err: unknown) => {
      // Two nodes creating the same partition at once: one wins, the other finds it made.
      if (!['42P07', '23505'].includes((err as { code?: string }).code ?? '')) throw err;
    });
    this.partitions.add(day);
  }

  /** Today's and tomorrow's partitions exist; those past retention are dropped. */
  private async maintain(): Promise<void> {
    const today = dayOf(Date.now());
    await this.partition(today);
    await this.partition(today + DAY_MS);
    const { rows } = await this.pool.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'points'",
    );
    const oldest = partitionName(today - this.retentionDays * DAY_MS);
    for (const { name } of rows) {
      if (!/^points_\d{8}$/.test(name) || name >= oldest) continue;
      await this.pool.query(`DROP TABLE IF EXISTS ${name}`);
      this.log.info('history-dropped', `dropped the history partition ${name} (older than ${this.retentionDays} days)`, { partition: name });
      for (const day of this.partitions) if (partitionName(day) === name) this.partitions.delete(day);
    }
  }
}
