/**
 * The engines under the plot service, as the request handlers see them. Two sets implement them:
 * the embedded default (server/embedded.ts: SQLite and the in-process fan-out, one machine) and
 * the cluster (server/cluster/engines.ts: PostgreSQL and Redis Streams, any number of nodes).
 *
 * Reads are synchronous: the embedded engines read SQLite or memory, the cluster keeps a replica
 * of accounts and plots on every node, kept current by PostgreSQL notifications (with `sync()`
 * as the read barrier a request passes first). Writes may return a promise (the cluster's are
 * round trips); callers await them, which costs the embedded engines nothing.
 */
import type { Accepted, Applied, CommitListener, FailureListener, TokenLive } from './data/point-store.js';
import type { Columns, DataChange } from './data/columns.js';
import type { RangeAnswer, RangeQuery } from './data/x-range.js';
import type { SecretFormat, TokenRow, User } from './store/accounts.js';
import type { Plot, PlotInput, TraceSpec } from './store/plots.js';
import type { StoreHealth } from './store/health.js';

export type MaybePromise<T> = T | Promise<T>;

export interface AccountsEngine {
  addUser(name: string, format?: SecretFormat): MaybePromise<{ user: User; apiKey: string }>;
  listUsers(): Array<User & { readonly createdAt: number; readonly tokens: number }>;
  resetKey(userId: number, format?: SecretFormat): MaybePromise<string>;
  userByName(name: string): User | undefined;
  userById(id: number): User | undefined;
  userCount(): number;
  authenticate(name: string, apiKey: string): User | undefined;
  userByKey(apiKey: string): User | undefined;
  createToken(userId: number, format?: SecretFormat): MaybePromise<{ token: string; row: TokenRow }>;
  tokenBySecret(token: string): TokenRow | undefined;
  tokenById(id: number): TokenRow | undefined;
  listTokens(userId: number): TokenRow[];
  revokeToken(userId: number, tokenId: number): MaybePromise<boolean>;
  createSession(userId: number): MaybePromise<string>;
  userBySession(session: string): User | undefined;
  endSession(session: string): MaybePromise<void>;
}

export interface PlotsEngine {
  get(id: number): Plot | undefined;
  byFile(owner: string, fileId: number): Plot | undefined;
  byFilename(userId: number, filename: string): Plot | undefined;
  uniqueFilename(userId: number, base: string): string;
  list(userId: number): Plot[];
  forToken(tokenId: number): { plot: Plot; traces: number[] }[];
  capacityOf(tokenId: number): number;
  tokensOf(id: number): number[];
  create(userId: number, input: PlotInput): MaybePromise<Plot>;
  update(id: number, change: { layout?: Record<string, unknown>; traces?: readonly TraceSpec[]; filename?: string; worldReadable?: boolean }): MaybePromise<Plot>;
  delete(id: number): MaybePromise<void>;
}

/** A token's points: accepted, made durable, then told to the commit listeners (the fan-out), in order. */
export interface PointsEngine {
  onCommit(listener: CommitListener): void;
  onFailure(listener: FailureListener): void;
  token(id: number): TokenLive;
  endIndex(tokenId: number): number;
  tail(tokenId: number, n: number): Columns;
  since(tokenId: number, index: number): Columns | undefined;
  readonly memory: { readonly bytes: number; readonly tokens: number };
  reshape(tokenIds: Iterable<number>): void;
  apply(live: TokenLive, change: DataChange, seq?: number, options?: { readonly sequenced?: boolean }): Accepted;
  /** Starts writing what is pending; true when nothing failed so far. */
  flush(): boolean;
  /** Resolves (or returns) once everything pending is durable; throws StoreUnavailableError when it could not be. */
  commit(): MaybePromise<void>;
  history(tokenId: number): Iterable<{ replace: boolean; columns: Columns }> | AsyncIterable<{ replace: boolean; columns: Columns }>;
  historyKeys(tokenId: number): MaybePromise<string[]>;
  /** Stored points of a token with x in a range, thinned to columns (the viewer's history beyond its window). */
  range(tokenId: number, query: RangeQuery): MaybePromise<RangeAnswer>;
  close(): MaybePromise<void>;
  /** Tokens' state made current on this node before a request reads it (the cluster loads it from Redis). */
  load?(tokenIds: readonly number[]): Promise<void>;
  /** Resolves once what these tokens' writers sent so far is durable or refused (their final answer waits for it). */
  settle?(tokenIds: readonly number[]): Promise<void>;
  /** Part of viewers' event ids naming the streams their positions count in: a new one after a stream was lost. */
  epochTag?(tokenIds: readonly number[]): string;
}

/** Who holds a token's stream, across nodes: a second writer ends the oldest wherever it is (449 there). */
export interface OwnershipEngine {
  /**
   * Makes `owner` (whose writer calls itself `writer`) the token's writer; resolves once every node
   * will refuse the older one. Rejects with TooManyConnectsError, taking nothing, when the token
   * had `connectsPerMinute` connections in the last minute on all nodes together.
   */
  claim(tokenId: number, owner: string, writer: string | null, connectsPerMinute: number): Promise<void>;
  /** The name the token's writer gave, wherever it streams (null: none, or it gave no name). */
  writerOf(tokenId: number): Promise<string | null>;
  /** The owner's stream ended: let go of the token once its last points settled. */
  release(tokenId: number, owner: string): void;
  /** Called when another writer took a token over from an owner of this node. */
  onTaken(listener: (tokenId: number, owner: string) => void): void;
}

/** A change other nodes made, as this node's viewers must hear it. */
export type RemoteChange =
  | { readonly kind: 'plot'; readonly plot: Plot; readonly how: 'layout' | 'reload' | 'changed'; readonly tokens: readonly number[] }
  | { readonly kind: 'deleted'; readonly plotId: number; readonly tokens: readonly number[] }
  | { readonly kind: 'revoked'; readonly tokenId: number };

export interface Engines {
  readonly accounts: AccountsEngine;
  readonly plots: PlotsEngine;
  readonly store: PointsEngine;
  readonly health: StoreHealth;
  readonly ownership?: OwnershipEngine;
  /** Read barrier: resolves once this node has seen every change committed before it was called (bounded in time). */
  sync?(): Promise<void>;
  /** Changes made on other nodes, for this node's viewers and streams. */
  onRemote?(listener: (change: RemoteChange) => void): void;
  /** Where the data lives, for the log ("data in DIR"). */
  readonly where: string;
  /** A plotwire command that works on this data as typed (with --data DIR or --postgres URL). */
  command(args: readonly string[]): string;
  close(): Promise<void>;
}

export type { Accepted, Applied, TokenLive };
