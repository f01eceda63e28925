/** Each example, run as a user runs it, for a few seconds against a real server: its plot gets its points. */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, testServer, type TestServer } from './server/helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s.close());

/** Runs an example to its end; returns its plot's figure. */
async function run(name: string, seconds = 3): Promise<{ data: Record<string, unknown[] | unknown>[] }> {
  // Not spawnSync: the server answering the example lives in this process.
  const ran = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `../examples/${name}.ts`), '--server', s.server.url, '--api-key', s.apiKey, '--seconds', String(seconds)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const url = /streaming to (\S+)/.exec(ran.stdout)?.[1] as string;
  const plot = ((await api(s, 'GET', '/api/v1/plots')).json.plots as { id: number; url: string }[]).find((p) => p.url === url);
  return (await api(s, 'GET', `/api/v1/plots/${plot?.id}`)).json.figure as { data: Record<string, unknown[] | unknown>[] };
}

describe('examples', () => {
  it('mock-signal: 100 samples a second of a noisy sine', async () => {
    const [trace] = (await run('mock-signal')).data;
    const y = trace!.y as number[];
    expect(y.length).toBeGreaterThanOrEqual(250);
    expect(Math.max(...y)).toBeLessThan(1.2);
    expect(Math.max(...y)).toBeGreaterThan(0.8);
    expect((trace!.x as number[]).slice(0, 3)).toEqual([0, 0.01, 0.02]);
  });

  it('double-pendulum: both bobs trail, each on its circle of reach', async () => {
    const [inner, outer] = (await run('double-pendulum')).data;
    expect((inner!.x as number[]).length).toBe(50);
    expect((outer!.x as number[]).length).toBeGreaterThan(100);
    (inner!.x as number[]).forEach((x, i) => expect(Math.hypot(x, (inner!.y as number[])[i]!)).toBeCloseTo(1, 6));
    (outer!.x as number[]).forEach((x, i) => expect(Math.hypot(x, (outer!.y as number[])[i]!)).toBeLessThanOrEqual(2 + 1e-9));
  });

  it('bubble-chart: every region streams its countries with sizes and names', async () => {
    const data = (await run('bubble-chart')).data;
    expect(data.map((t) => t.name)).toEqual(['Asia', 'Europe', 'Africa', 'Americas']);
    for (const trace of data) {
      expect((trace.x as number[]).length).toBe(3);
      expect((trace.marker as { size: number[] }).size.every((v) => v > 0)).toBe(true);
      expect((trace.text as string[]).every((t) => /^[A-Z][\w ]+ \d{4}$/.test(t))).toBe(true);
      // The names are drawn beside the bubbles, not only on hover.
      expect(trace).toMatchObject({ mode: 'markers+text', textposition: 'top center' });
    }
  });

  it.each([
    ['a bad key', (url: string) => ['--server', url, '--api-key', 'wrong'], /^mock-signal: POST \/api\/v1\/tokens: the server answered 401: .+\n$/],
    ['a server that is down', () => ['--server', 'http://127.0.0.1:9', '--api-key', 'k'], /^mock-signal: cannot reach http:\/\/127\.0\.0\.1:9: .+\n$/],
  ])('says %s in one line', async (_what, args, message) => {
    const ran = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../examples/mock-signal.ts'), ...args(s.server.url), '--seconds', '1'], { encoding: 'utf8' }).catch((e: { code: number; stderr: string }) => e);
    expect((ran as { code: number }).code).toBe(1);
    expect((ran as { stderr: string }).stderr).toMatch(message);
  });

  it('says what is missing', () => {
    const ran = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../examples/mock-signal.ts')], { encoding: 'utf8', env: { ...process.env, PLOTWIRE_API_KEY: '' } });
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain('an API key is needed');
  });
});
