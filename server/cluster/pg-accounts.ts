/**
 * Users, API keys, stream tokens and browser sessions in PostgreSQL, with a replica in every
 * node's memory so the checks on each request stay synchronous and cost no round trip. Each write
 * commits with a notification (pg-notify.ts) that every node's replica follows; the writing node
 * applies its own change before answering, so what it answers it already reads.
 */
import { AccountError, SECRET_LENGTHS, USER_NAME, type SecretFormat, type TokenRow, type User } from '../store/accounts.js';
import { hashSecret, newSecret, secretMatches } from '../store/secrets.js';
import type { AccountsEngine } from '../engine.js';
import type { StoreHealth } from '../store/health.js';
import { isPgUnavailable, isUniqueViolation, transaction, type Pool } from './pg.js';
import { PgNotify, type Change } from './pg-notify.js';

const SESSION_MS = 30 * 24 * 3600 * 1000;

interface UserRow {
  id: number;
  name: string;
  key_hash: Buffer;
  created_at: number;
}
interface TokenDbRow {
  id: number;
  user_id: number;
  hash: Buffer;
  hint: string;
  created_at: number;
  revoked_at: number | null;
}
interface SessionRow {
  hash: Buffer;
  user_id: number;
  expires_at: number;
}

/** Where a token's writer is, from the points engine (its rows here do not follow every point). */
export type TokenPosition = (tokenId: number) => { readonly next: number; readonly end: number };

export class PgAccounts implements AccountsEngine {
  private readonly users = new Map<number, UserRow>();
  private readonly byName = new Map<string, UserRow>();
  private readonly byKey = new Map<string, UserRow>();
  private readonly tokens = new Map<number, TokenDbRow>();
  private readonly byTokenHash = new Map<string, TokenDbRow>();
  private readonly sessions = new Map<string, SessionRow>();
  private readonly revokedListeners: ((tokenId: number) => void)[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly health: StoreHealth,
    private readonly position: TokenPosition,
  ) {}

  /** A token revoked on another node: its stream here ends. */
  onRevoked(listener: (tokenId: number) => void): void {
    this.revokedListeners.push(listener);
  }

  async load(): Promise<void> {
    const [users, tokens, sessions] = await Promise.all([
      this.pool.query<UserRow>('SELECT id, name, key_hash, created_at FROM users'),
      this.pool.query<TokenDbRow>('SELECT id, user_id, hash, hint, created_at, revoked_at FROM tokens'),
      this.pool.query<SessionRow>('SELECT hash, user_id, expires_at FROM sessions WHERE expires_at > $1', [Date.now()]),
    ]);
    for (const m of [this.users, this.byName, this.byKey, this.tokens, this.byTokenHash, this.sessions]) m.clear();
    for (const u of users.rows) this.putUser(u);
    for (const t of tokens.rows) this.putToken(t);
    for (const s of sessions.rows) this.sessions.set(s.hash.toString('hex'), s);
  }

  /** A change committed by any node (its own included: applying one twice changes nothing). */
  async changed(change: Change): Promise<void> {
    if (change.k === 'user') {
      const { rows } = await this.pool.query<UserRow>('SELECT id, name, key_hash, created_at FROM users WHERE id = $1', [change.id]);
      this.dropUser(change.id);
      if (rows[0]) this.putUser(rows[0]);
      // A new key ends the user's sessions.
      const sessions = await this.pool.query<SessionRow>('SELECT hash, user_id, expires_at FROM sessions WHERE user_id = $1', [change.id]);
      for (const [hash, s] of this.sessions) if (s.user_id === change.id) this.sessions.delete(hash);
      for (const s of sessions.rows) this.sessions.set(s.hash.toString('hex'), s);
    } else if (change.k === 'token') {
      const { rows } = await this.pool.query<TokenDbRow>('SELECT id, user_id, hash, hint, created_at, revoked_at FROM tokens WHERE id = $1', [change.id]);
      const before = this.tokens.get(change.id);
      if (rows[0]) this.putToken(rows[0]);
      if (rows[0]?.revoked_at != null && before?.revoked_at == null) for (const l of this.revokedListeners) l(change.id);
    } else if (change.k === 'session') {
      const { rows } = await this.pool.query<SessionRow>('SELECT hash, user_id, expires_at FROM sessions WHERE hash = $1', [Buffer.from(change.hash, 'hex')]);
      if (rows[0]) this.sessions.set(change.hash, rows[0]);
      else this.sessions.delete(change.hash);
    }
  }

  async addUser(name: string, format: SecretFormat = {}): Promise<{ user: User; apiKey: string }> {
    if (!USER_NAME.test(name)) throw new AccountError(`user name "${name}" must be 1 to 32 letters, digits, "_", "." or "-"`);
    if (this.byName.has(name)) throw new AccountError(`user "${name}" already exists`);
    const apiKey = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.apiKey);
    const row = await this.write('a new user', async (c) => {
      const { rows } = await c.query<UserRow>('INSERT INTO users (name, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id, name, key_hash, created_at', [name, hashSecret(apiKey), Date.now()]);
      await PgNotify.send(c, { k: 'user', id: (rows[0] as UserRow).id });
      return rows[0] as UserRow;
    }, () => new AccountError(`user "${name}" already exists`));
    this.putUser(row);
    return { user: { id: row.id, name: row.name }, apiKey };
  }

  listUsers(): Array<User & { readonly createdAt: number; readonly tokens: number }> {
    return [...this.users.values()]
      .sort((a, b) => a.id - b.id)
      .map((u) => ({ id: u.id, name: u.name, createdAt: u.created_at, tokens: [...this.tokens.values()].filter((t) => t.user_id === u.id && t.revoked_at === null).length }));
  }

  async resetKey(userId: number, format: SecretFormat = {}): Promise<string> {
    const apiKey = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.apiKey);
    await this.write('a new API key', async (c) => {
      await c.query('UPDATE users SET key_hash = $1 WHERE id = $2', [hashSecret(apiKey), userId]);
      await c.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
      await PgNotify.send(c, { k: 'user', id: userId });
    });
    await this.changed({ k: 'user', id: userId });
    return apiKey;
  }

  userByName(name: string): User | undefined {
    return this.userOf(this.byName.get(name));
  }

  userById(id: number): User | undefined {
    return this.userOf(this.users.get(id));
  }

  userCount(): number {
    return this.users.size;
  }

  authenticate(name: string, apiKey: string): User | undefined {
    const row = this.byName.get(name);
    return row && secretMatches(apiKey, row.key_hash) ? this.userOf(row) : undefined;
  }

  userByKey(apiKey: string): User | undefined {
    const row = this.byKey.get(hashSecret(apiKey).toString('hex'));
    return row && secretMatches(apiKey, row.key_hash) ? this.userOf(row) : undefined;
  }

  async createToken(userId: number, format: SecretFormat = {}): Promise<{ token: string; row: TokenRow }> {
    const token = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.token);
    const row = await this.write('a new stream token', async (c) => {
      const { rows } = await c.query<TokenDbRow>('INSERT INTO tokens (user_id, hash, hint, created_at) VALUES ($1, $2, $3, $4) RETURNING id, user_id, hash, hint, created_at, revoked_at', [
        userId,
        hashSecret(token),
        token.slice(0, 4),
        Date.now(),
      ]);
      await PgNotify.send(c, { k: 'token', id: (rows[0] as TokenDbRow).id });
      return rows[0] as TokenDbRow;
    });
    this.putToken(row);
    return { token, row: this.tokenRow(row) };
  }

  tokenBySecret(token: string): TokenRow | undefined {
    const row = this.byTokenHash.get(hashSecret(token).toString('hex'));
    return row && secretMatches(token, row.hash) ? this.tokenRow(row) : undefined;
  }

  tokenById(id: number): TokenRow | undefined {
    const row = this.tokens.get(id);
    return row && this.tokenRow(row);
  }

  listTokens(userId: number): TokenRow[] {
    return [...this.tokens.values()]
      .filter((t) => t.user_id === userId)
      .sort((a, b) => a.id - b.id)
      .map((t) => this.tokenRow(t));
  }

  async revokeToken(userId: number, tokenId: number): Promise<boolean> {
    const revoked = await this.write('a token revocation', async (c) => {
      const { rowCount } = await c.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL', [Date.now(), tokenId, userId]);
      if (rowCount) await PgNotify.send(c, { k: 'token', id: tokenId });
      return (rowCount ?? 0) > 0;
    });
    if (revoked) await this.changed({ k: 'token', id: tokenId });
    return revoked;
  }

  async createSession(userId: number): Promise<string> {
    const session = newSecret(32);
    const now = Date.now();
    const row = { hash: hashSecret(session), user_id: userId, expires_at: now + SESSION_MS };
    await this.write('a new session', async (c) => {
      await c.query('DELETE FROM sessions WHERE expires_at < $1', [now]);
      await c.query('INSERT INTO sessions (hash, user_id, expires_at) VALUES ($1, $2, $3)', [row.hash, row.user_id, row.expires_at]);
      await PgNotify.send(c, { k: 'session', hash: row.hash.toString('hex') });
    });
    this.sessions.set(row.hash.toString('hex'), row);
    return session;
  }

  userBySession(session: string): User | undefined {
    const hash = hashSecret(session).toString('hex');
    const row = this.sessions.get(hash);
    if (!row) return undefined;
    if (row.expires_at <= Date.now()) {
      this.sessions.delete(hash);
      return undefined;
    }
    return this.userById(row.user_id);
  }

  async endSession(session: string): Promise<void> {
    const hash = hashSecret(session);
    await this.write('the end of a session', async (c) => {
      await c.query('DELETE FROM sessions WHERE hash = $1', [hash]);
      await PgNotify.send(c, { k: 'session', hash: hash.toString('hex') });
    });
    this.sessions.delete(hash.toString('hex'));
  }

  /** A write in one transaction with its notification; the database away is a 503 for the client, a unique violation `duplicate`'s error. */
  private async write<T>(what: string, run: Parameters<typeof transaction<T>>[1], duplicate?: () => Error): Promise<T> {
    const refusal = this.health.refusal();
    if (refusal) throw refusal;
    try {
      const result = await transaction(this.pool, run);
      this.health.ok();
      return result;
    } catch (err) {
      if (duplicate && isUniqueViolation(err)) throw duplicate();
      if (isPgUnavailable(err)) throw this.health.failed(what, err);
      throw err;
    }
  }

  private userOf(row: UserRow | undefined): User | undefined {
    return row && { id: row.id, name: row.name };
  }

  private tokenRow(t: TokenDbRow): TokenRow {
    const { next, end } = this.position(t.id);
    return { id: t.id, userId: t.user_id, hint: t.hint, createdAt: t.created_at, revokedAt: t.revoked_at, nextSeq: next, endIndex: end };
  }

  private putUser(u: UserRow): void {
    this.users.set(u.id, u);
    this.byName.set(u.name, u);
    this.byKey.set(u.key_hash.toString('hex'), u);
  }

  private dropUser(id: number): void {
    const u = this.users.get(id);
    if (!u) return;
    this.users.delete(id);
    this.byName.delete(u.name);
    this.byKey.delete(u.key_hash.toString('hex'));
  }

  private putToken(t: TokenDbRow): void {
    const old = this.tokens.get(t.id);
    if (old) this.byTokenHash.delete(old.hash.toString('hex'));
    this.tokens.set(t.id, t);
    this.byTokenHash.set(t.hash.toString('hex'), t);
  }
}
