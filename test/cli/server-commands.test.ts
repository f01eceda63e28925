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

  it('says what is missing', () => {
    expect(plotwire(['token', 'create', '--data', data.dir]).stderr).toContain('--user NAME is required');
    expect(plotwire(['token', 'create', '--user', 'nobody', '--data', data.dir]).stderr).toContain('plotwire user add nobody');
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
    } finally {
      await server.stop();
    }
    const again = await serverProcess(fresh.dir);
    expect(again.logs.some((l) => l.event === 'default-user')).toBe(false);
    await again.stop();
    fresh.remove();
  });

  it('refuses bad options clearly', () => {
    expect(plotwire(['server', '--port', 'eighty']).stderr).toContain('--port must be a whole number from 0 to 65535 (got "eighty")');
    expect(plotwire(['server', '--tls-cert', 'x.pem']).stderr).toContain('--tls-cert and --tls-key go together');
    expect(plotwire(['server', '--help']).stdout).toContain('--stream-port N');
  });
});
