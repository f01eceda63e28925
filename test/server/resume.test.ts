/** plotwire's extension: batch append with seq, the stored-position query, resume with nothing lost or doubled. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, chunk, createPlot, rawExchange, streamHead, testServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s.close());

const batch = (from: number, to: number): string =>
  `${JSON.stringify({ append: { x: range(from, to), y: range(from, to).map((i) => i * 2) }, seq: from })}\n`;
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function stored(token: string): Promise<number> {
  const res = await fetch(`${s.server.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { next: number }).next;
}

async function history(plot: Record<string, unknown>): Promise<{ x: number; y: number }[]> {
  const res = await api(s, 'GET', `/api/v1/plots/${plot.id}/traces/0/data?format=ndjson`);
  return res.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { x: number; y: number });
}

describe('resume', () => {
  it('a new token has stored nothing', async () => {
    expect(await stored(s.newToken())).toBe(0);
  });

  it('after a broken connection the writer resends from what the server stored: nothing lost, nothing doubled', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    // The connection drops mid-object: the half line is not stored.
    const cut = await rawExchange(s.port, [streamHead(token), chunk(batch(0, 100)), chunk(batch(100, 150)), `${batch(150, 200).slice(0, 40).length.toString(16)}\r\n${batch(150, 200).slice(0, 40)}`]);
    expect(cut.status).toBe(0);
    const next = await stored(token);
    expect(next).toBe(150);
    // A cautious writer resends more than needed; the overlap is skipped.
    const res = await rawExchange(s.port, [streamHead(token), chunk(batch(100, 200)), chunk(batch(200, 250)), '0\r\n\r\n']);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ points: 100, next: 250 });
    const points = await history(plot);
    expect(points.map((p) => p.x)).toEqual(range(0, 250));
    expect(points.every((p) => p.y === p.x * 2)).toBe(true);
  });

  it('the state answer names the writer whose stream holds the token: null before, after, and for a stream without a name', async () => {
    const token = s.newToken();
    const state = async (): Promise<unknown> => (await fetch(`${s.server.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } })).json();
    expect(await state()).toEqual({ next: 0, writer: null });
    // Two writers, each holding its stream open (a pause) while the state is asked.
    const named = rawExchange(s.port, [streamHead(token, 'plotwire-writer: bridge-7\r\n'), chunk(batch(0, 10)), 400, '0\r\n\r\n']);
    await expect.poll(state, { timeout: 5000, interval: 20 }).toEqual({ next: 10, writer: 'bridge-7' });
    await named;
    expect(await state()).toEqual({ next: 10, writer: null });
    const anonymous = rawExchange(s.port, [streamHead(token), chunk(batch(10, 20)), 400, '0\r\n\r\n']);
    await expect.poll(state, { timeout: 5000, interval: 20 }).toEqual({ next: 20, writer: null });
    await anonymous;
  });

  it('an object resent whole is skipped whole', async () => {
    const token = s.newToken();
    const plot = await createPlot(s, [token]);
    const res = await rawExchange(s.port, [streamHead(token), chunk(batch(0, 10)), chunk(batch(0, 10)), chunk(batch(10, 20)), '0\r\n\r\n']);
    expect(res.json).toMatchObject({ points: 20, next: 20 });
    expect((await history(plot)).map((p) => p.x)).toEqual(range(0, 20));
  });

  it("a gap in the writer's numbering (points it lost) moves next past it", async () => {
    const token = s.newToken();
    await rawExchange(s.port, [streamHead(token), chunk(batch(0, 10)), chunk(batch(15, 20)), '0\r\n\r\n']);
    expect(await stored(token)).toBe(20);
  });

  it('scalar objects with seq count one point each', async () => {
    const token = s.newToken();
    const lines = [0, 1, 1, 2].map((seq) => chunk(`{"x":${seq},"y":${seq},"seq":${seq}}\n`));
    const res = await rawExchange(s.port, [streamHead(token), ...lines, '0\r\n\r\n']);
    expect(res.json).toMatchObject({ points: 3, next: 3 });
  });

  it('the state query names what is wrong', async () => {
    const missing = await fetch(`${s.server.url}/api/v1/streams/state`);
    expect(missing.status).toBe(406);
    const unknown = await fetch(`${s.server.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': 'nope' } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain('not registered');
  });
});
