/** Users with their API keys, stream tokens and browser sessions. */
import type { Db } from './database.js';
import { hashSecret, newSecret, secretMatches } from './secrets.js';
import { PlotwireError } from '../../shared/errors.js';

export interface User {
  readonly id: number;
  readonly name: string;
}

export interface TokenRow {
  readonly id: number;
  readonly userId: number;
  readonly hint: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly nextSeq: number;
  readonly endIndex: number;
}

export const USER_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Lengths of new secrets. Plotly's format is what its Arduino libraries need: they compute
 * their request and chunk sizes assuming 10-character API keys and stream tokens.
 */
export const SECRET_LENGTHS = { apiKey: 24, token: 20, plotly: 10 } as const;

export interface SecretFormat {
  /** Plotly's 10 lowercase letters and digits, for the Arduino libraries. */
  readonly plotlyFormat?: boolean;
}
const SESSION_MS = 30 * 24 * 3600 * 1000;

export class AccountError extends PlotwireError {
  readonly code = 'PW_ERR_ACCOUNT';
}

const tokenColumns = 'id, user_id AS userId, hint, created_at AS createdAt, revoked_at AS revokedAt, next_seq AS nextSeq, end_index AS endIndex';

export class Accounts {
  constructor(private readonly db: Db) {}

  addUser(name: string, format: SecretFormat = {}): { user: User; apiKey: string } {
    if (!USER_NAME.test(name)) throw new AccountError(`user name "${name}" must be 1 to 32 letters, digits, "_", "." or "-"`);
    if (this.userByName(name)) throw new AccountError(`user "${name}" already exists`);
    const apiKey = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.apiKey);
    const id = Number(this.db.prepare('INSERT INTO users (name, key_hash, created_at) VALUES (?, ?, ?)').run(name, hashSecret(apiKey), Date.now()).lastInsertRowid);
    return { user: { id, name }, apiKey };
  }

  /** Every user, with when it was made and how many active stream tokens it has. */
  listUsers(): Array<User & { readonly createdAt: number; readonly tokens: number }> {
    return this.db
      .prepare('SELECT u.id, u.name, u.created_at AS createdAt, (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) AS tokens FROM users u ORDER BY u.id')
      .all() as Array<User & { createdAt: number; tokens: number }>;
  }

  /** A new API key for the user: the old one stops working, and so do the sessions made with it. */
  resetKey(userId: number, format: SecretFormat = {}): string {
    const apiKey = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.apiKey);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET key_hash = ? WHERE id = ?').run(hashSecret(apiKey), userId);
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
    })();
    return apiKey;
  }

  userByName(name: string): User | undefined {
    return this.db.prepare('SELECT id, name FROM users WHERE name = ?').get(name) as User | undefined;
  }

  userById(id: number): User | undefined {
    return this.db.prepare('SELECT id, name FROM users WHERE id = ?').get(id) as User | undefined;
  }

  userCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** The user when name and key match (Plotly's un/key, plotly-username/plotly-apikey). */
  authenticate(name: string, apiKey: string): User | undefined {
    const row = this.db.prepare('SELECT id, name, key_hash AS hash FROM users WHERE name = ?').get(name) as (User & { hash: Buffer }) | undefined;
    return row && secretMatches(apiKey, row.hash) ? { id: row.id, name: row.name } : undefined;
  }

  /** The user owning an API key alone (Authorization: Bearer). */
  userByKey(apiKey: string): User | undefined {
    const row = this.db.prepare('SELECT id, name, key_hash AS hash FROM users WHERE key_hash = ?').get(hashSecret(apiKey)) as (User & { hash: Buffer }) | undefined;
    return row && secretMatches(apiKey, row.hash) ? { id: row.id, name: row.name } : undefined;
  }

  createToken(userId: number, format: SecretFormat = {}): { token: string; row: TokenRow } {
    const token = newSecret(format.plotlyFormat ? SECRET_LENGTHS.plotly : SECRET_LENGTHS.token);
    const id = Number(
      this.db.prepare('INSERT INTO tokens (user_id, hash, hint, created_at) VALUES (?, ?, ?, ?)').run(userId, hashSecret(token), token.slice(0, 4), Date.now()).lastInsertRowid,
    );
    return { token, row: this.tokenById(id) as TokenRow };
  }

  /** The token row for a presented stream token, revoked ones included. */
  tokenBySecret(token: string): TokenRow | undefined {
    const row = this.db.prepare(`SELECT ${tokenColumns}, hash FROM tokens WHERE hash = ?`).get(hashSecret(token)) as (TokenRow & { hash: Buffer }) | undefined;
    if (!row || !secretMatches(token, row.hash)) return undefined;
    const { hash: _hash, ...tokenRow } = row;
    return tokenRow;
  }

  tokenById(id: number): TokenRow | undefined {
    return this.db.prepare(`SELECT ${tokenColumns} FROM tokens WHERE id = ?`).get(id) as TokenRow | undefined;
  }

  listTokens(userId: number): TokenRow[] {
    return this.db.prepare(`SELECT ${tokenColumns} FROM tokens WHERE user_id = ? ORDER BY id`).all(userId) as TokenRow[];
  }

  /** Revokes one of the user's tokens; false when the user has no such token. */
  revokeToken(userId: number, tokenId: number): boolean {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(Date.now(), tokenId, userId).changes > 0;
  }

  createSession(userId: number): string {
    const session = newSecret(32);
    const now = Date.now();
    this.db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(now);
    this.db.prepare('INSERT INTO sessions (hash, user_id, expires_at) VALUES (?, ?, ?)').run(hashSecret(session), userId, now + SESSION_MS);
    return session;
  }

  userBySession(session: string): User | undefined {
    return this.db
      .prepare('SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ? AND s.expires_at > ?')
      .get(hashSecret(session), Date.now()) as User | undefined;
  }

  endSession(session: string): void {
    this.db.prepare('DELETE FROM sessions WHERE hash = ?').run(hashSecret(session));
  }
}
