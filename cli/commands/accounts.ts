/** plotwire user add / plotwire token create|list|revoke: accounts, straight in the server's database. */
import { defaultDataDir } from '../../server/data-dir.js';
import type { AccountsEngine } from '../../server/engine.js';
import { migrate, openPool, postgresHint } from '../../server/cluster/pg.js';
import { PgAccounts } from '../../server/cluster/pg-accounts.js';
import { createLogger } from '../../shared/log.js';
import { AccountError, Accounts } from '../../server/store/accounts.js';
import { StoreHealth } from '../../server/store/health.js';
import { openDatabase } from '../../server/store/database.js';
import { plotwireCommand } from '../../shared/self-command.js';
import { UsageError, defineCommand } from '../command.js';
import { optionSpec } from '../options.js';

const dataHelp = `  --data DIR   the server's data folder (default ${defaultDataDir()}; env PLOTWIRE_DATA)
  --postgres URL  a cluster's accounts, in this PostgreSQL (as given to plotwire server --postgres)
  --json       print JSON`;

/** Where the accounts are: the embedded server's folder, or a cluster's PostgreSQL. */
interface Where {
  readonly data?: string | undefined;
  readonly postgres?: string | undefined;
}

async function withAccounts<T>(where: Where, fn: (accounts: AccountsEngine) => T | Promise<T>): Promise<T> {
  const fail = (err: unknown): never => {
    if (err instanceof AccountError) throw new UsageError(err.message);
    throw err;
  };
  if (where.postgres) {
    if (where.data) throw new UsageError('say --data DIR or --postgres URL, not both');
    const pool = openPool(where.postgres);
    try {
      await migrate(pool).catch((err: unknown) => {
        throw new UsageError(`cannot reach PostgreSQL at --postgres: ${(err as Error).message}`);
      });
      // Token positions as the history has them (the live ones are the servers').
      const { rows } = await pool.query<{ token_id: number; next: number; end_index: number }>('SELECT DISTINCT ON (token_id) token_id, next, end_index FROM points ORDER BY token_id, end_index DESC');
      const at = new Map(rows.map((r) => [r.token_id, { next: r.next, end: r.end_index }]));
      const accounts = new PgAccounts(pool, new StoreHealth(createLogger({ quiet: true })), (id) => at.get(id) ?? { next: 0, end: 0 });
      await accounts.load();
      return await Promise.resolve().then(() => fn(accounts)).catch(fail);
    } finally {
      await pool.end();
    }
  }
  const db = openDatabase(where.data ?? defaultDataDir());
  try {
    return await Promise.resolve().then(() => fn(new Accounts(db))).catch(fail);
  } finally {
    db.close();
  }
}

const print = (json: boolean | undefined, value: Record<string, unknown>, text: string): void => console.log(json ? JSON.stringify(value) : text);

const plotlyHelp = `  --plotly-format  Plotly's format: 10 lowercase letters and digits. Plotly's Arduino
               libraries need it for both the API key and the stream tokens (they compute
               their request sizes assuming 10 characters); see docs/legacy-clients.md`;

const userUsage = `usage: plotwire user add NAME [--plotly-format] [--data DIR | --postgres URL] [--json]
       plotwire user list [--data DIR | --postgres URL] [--json]
       plotwire user key NAME --reset [--plotly-format] [--data DIR | --postgres URL] [--json]

add prints a new user's API key, once: keys are stored only as hashes. A lost key cannot be
shown again; key NAME --reset makes a new one (printed once) and the old one stops working, along
with the browser sessions made with it.
  --reset      with key: replace the user's API key
${plotlyHelp}
${dataHelp}`;

export const userCommand = defineCommand(
  { name: 'user', summary: 'add, list users, or reset a lost API key (user add NAME, user list, user key NAME --reset)', usage: userUsage, options: optionSpec(['data', 'postgres'], ['json', 'reset', 'plotly-format']), positionals: 2 },
  async (values, positionals) => {
    const [action, name] = positionals;
    if (action === 'list') {
      if (name) throw new UsageError(`unexpected argument "${name}"`);
      const users = await withAccounts(values, (a) => a.listUsers());
      if (values.json) console.log(JSON.stringify({ users: users.map((u) => ({ user: u.name, createdAt: new Date(u.createdAt).toISOString(), tokens: u.tokens })) }));
      else if (users.length === 0) console.log(`no users yet (add one with: ${hint(['user', 'add', 'NAME'], values)})`);
      else for (const u of users) console.log(`${u.name}\t${new Date(u.createdAt).toISOString()}\t${u.tokens} active token(s)`);
      return 0;
    }
    if (action === 'key') {
      if (!name) throw new UsageError('say whose key: plotwire user key NAME --reset');
      if (!values.reset) throw new UsageError(`keys are stored only as hashes, so a key cannot be shown again; make a new one with: ${hint(['user', 'key', name, '--reset'], values)}`);
      const apiKey = await withAccounts(values, (a) => {
        const user = a.userByName(name);
        if (!user) throw new UsageError(`no user "${name}" (see them with: ${hint(['user', 'list'], values)})`);
        return a.resetKey(user.id, { plotlyFormat: values['plotly-format'] });
      });
      print(values.json, { user: name, apiKey }, `new API key for ${name} (shown once; the old one no longer works): ${apiKey}`);
      return 0;
    }
    if (action !== 'add' || !name) throw new UsageError('say: plotwire user add NAME, plotwire user list, or plotwire user key NAME --reset');
    const { user, apiKey } = await withAccounts(values, (a) => a.addUser(name, { plotlyFormat: values['plotly-format'] }));
    print(values.json, { user: user.name, apiKey }, `user ${user.name} created; API key (shown once): ${apiKey}`);
    return 0;
  },
);

/** A hint's command, with --data (when it is not the default) or --postgres as this one had them. */
const hint = (args: string[], where: Where): string =>
  where.postgres ? postgresHint(args, where.postgres) : plotwireCommand(args, { dir: where.data ?? defaultDataDir(), defaultDir: defaultDataDir() });

const tokenUsage = `usage: plotwire token create --user NAME [--plotly-format] [--data DIR | --postgres URL] [--json]
       plotwire token list --user NAME [--data DIR | --postgres URL] [--json]
       plotwire token revoke ID --user NAME [--data DIR | --postgres URL] [--json]

Stream tokens let a writer (the bridge, a Plotly script) stream to the server. A new token is
printed once; the server keeps only its hash.
  --user NAME  the token's owner
${plotlyHelp}
${dataHelp}`;

export const tokenCommand = defineCommand(
  { name: 'token', summary: 'create, list or revoke stream tokens (token create --user NAME)', usage: tokenUsage, options: optionSpec(['user', 'data', 'postgres'], ['json', 'plotly-format']), positionals: 2 },
  async (values, positionals) => {
    const [action, id] = positionals;
    if (!values.user) throw new UsageError('--user NAME is required');
    const userName = values.user;
    return withAccounts(values, async (accounts) => {
      const user = accounts.userByName(userName);
      if (!user) throw new UsageError(`no user "${userName}" (create one with: ${hint(['user', 'add', userName], values)})`);
      if (action === 'create') {
        const { token, row } = await accounts.createToken(user.id, { plotlyFormat: values['plotly-format'] });
        print(values.json, { user: user.name, token, id: row.id }, `stream token for ${user.name} (shown once): ${token}`);
      } else if (action === 'list') {
        const rows = accounts.listTokens(user.id);
        if (values.json) console.log(JSON.stringify({ user: user.name, tokens: rows.map((r) => ({ id: r.id, hint: r.hint, createdAt: new Date(r.createdAt).toISOString(), revoked: r.revokedAt !== null, next: r.nextSeq })) }));
        else for (const r of rows) console.log(`${r.id}\t${r.hint}…\t${new Date(r.createdAt).toISOString()}\t${r.revokedAt !== null ? 'revoked' : `active, ${r.nextSeq} points`}`);
      } else if (action === 'revoke') {
        if (!id || !/^\d+$/.test(id)) throw new UsageError('say which token: plotwire token revoke ID --user NAME');
        if (!(await accounts.revokeToken(user.id, Number(id)))) throw new UsageError(`${user.name} has no active token ${id}`);
        print(values.json, { user: user.name, revoked: Number(id) }, `token ${id} revoked; streams using it get 403 from their next connection`);
      } else throw new UsageError('say create, list or revoke');
      return 0;
    });
  },
);
