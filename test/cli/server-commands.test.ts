import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, serverProcess, tempDir } from '../server/helpers.js';

const data = tempDir();
afterAll(() => data.remove());
const plotwire = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('plotwire user / token', () => {
  it('adds a user and prints its key once', () => {
    const run = plotwire(['user', 'add', 'bob', '--data', data.dir, '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: 'bob', apiKey: expect.stringMatching(/^[a-z2-9]{24}$/) });
    const again = plotwire(['user', 'add', 'bob', '--data', data.dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('user "bob" already exists');
    expect(plotwire(['user', 'add', 'no spaces', '--data', data.dir]).stderr).toContain('must be 1 to 32 letters');
  });

  it('creates, lists and revokes tokens', () => {
    const created = JSON.parse(plotwire(['token', 'create', '--user', 'bob', '--data', data.dir, '--json']).stdout) as { token: string; id: number };
    expect(created.token).toMatch(/^[a-z2-9]{20}$/);
    const text = plotwire(['token', 'create', '--user', 'bob', '--data', data.dir]).stdout;
    expect(text).toMatch(/^stream token for bob \(shown once\): [a-z2-9]{20}$/m);
    const list = JSON.parse(plotwire(['token', 'list', '--user', 'bob', '--data', data.dir, '--json']).stdout) as { tokens: { id: number; revoked: boolean }[] };
    expect(list.tokens).toHaveLength(2);
    expect(plotwire(['token', 'revoke', String(created.id), '--user', 'bob', '--data', data.dir]).status).toBe(0);
    const after = JSON.parse(plotwire(['token', 'list', '--user', 'bob', '--data', data.dir, '--json']).stdout) as { tokens: { id: number; revoked: boolean }[] };
    expect(after.tokens.find((t) => t.id === created.id)?.revoked).toBe(true);
  });

  it('lists users, and replaces a lost key: the old one stops working, the new one works', async () => {
    const list = JSON.parse(plotwire(['user', 'list', '--data', data.dir, '--json']).stdout) as { users: Array<{ user: string; tokens: number }> };
    expect(list.users.map((u) => u.user)).toEqual(['bob']);
    expect(plotwire(['user', 'list', '--data', data.dir]).stdout).toMatch(/^bob\t\d{4}-\d\d-\d\dT.*\t\d+ active token\(s\)$/m);
    const old = JSON.parse(plotwire(['user', 'add', 'carol', '--data', data.dir, '--json']).stdout) as { apiKey: string };
    const shown = plotwire(['user', 'key', 'carol', '--data', data.dir]);
    expect(shown.status).toBe(2);
    expect(shown.stderr).toContain(`make a new one with: npx plotwire user key carol --reset --data ${data.dir}`);
    const reset = JSON.parse(plotwire(['user', 'key', 'carol', '--reset', '--data', data.dir, '--json']).stdout) as { apiKey: string };
    expect(reset.apiKey).not.toBe(old.apiKey);
    const server = await serverProcess(data.dir);
    try {
      const as = (key: string) => fetch(`${server.url}/api/v1/plots`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
      expect(await as(old.apiKey)).toBe(401);
      expect(await as(reset.apiKey)).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('says what is missing', () => {
    expect(plotwire(['token', 'create', '--data', data.dir]).stderr).toContain('--user NAME is required');
    expect(plotwire(['token', 'create', '--user', 'nobody', '--data', data.dir]).stderr).toContain(`npx plotwire user add nobody --data ${data.dir}`);
  });
});

describe('plotwire server', () => {
  it('prints its URLs and, on the first start, the default user and how to log in', async () => {
    const fresh = tempDir();
    const server = await serverProcess(fresh.dir);
    try {
      const listening = server.logs.find((l) => l.event === 'listening');
      expect(listening?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const first = server.logs.find((l) => l.event === 'default-user');
      expect(first).toMatchObject({ user: 'plotwire', apiKey: expect.any(String), loginUrl: `${server.url}/login` });
      const res = await fetch(`${server.url}/api/v1/health`);
      expect(await res.json()).toMatchObject({ ok: true });
      // Each hint works as typed here (a clone: npx), on this server's data, not an empty one elsewhere.
      const tokenHint = /create stream tokens with: (.+)$/.exec(String(first?.msg))?.[1] as string;
      expect(tokenHint).toBe(`npx plotwire token create --user plotwire --data ${fresh.dir}`);
      const made = spawnSync('sh', ['-c', tokenHint], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/^stream token for plotwire \(shown once\): [a-z2-9]{20}$/m);
      const resetHint = /a lost key is replaced with: ([^)]+)\)/.exec(String(first?.msg))?.[1] as string;
      const reset = spawnSync('sh', ['-c', resetHint], { encoding: 'utf8' });
      expect(reset.stdout).toMatch(/^new API key for plotwire/m);
    } finally {
      await server.stop();
    }
    const again = await serverProcess(fresh.dir);
    expect(again.logs.some((l) => l.event === 'default-user')).toBe(false);
    await again.stop();
    fresh.remove();
  }, 90_000); // two servers and two npx runs: slow on a busy machine, not hung

  it('refuses bad options clearly', () => {
    expect(plotwire(['server', '--port', 'eighty']).stderr).toContain('--port must be a whole number from 0 to 65535 (got "eighty")');
    expect(plotwire(['server', '--tls-cert', 'x.pem']).stderr).toContain('--tls-cert and --tls-key go together');
    expect(plotwire(['server', '--help']).stdout).toContain('--stream-port N');
  });
});
