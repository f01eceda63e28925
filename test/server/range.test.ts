/** GET /~owner/ID/range: a plot's stored points for an x range, for viewers looking at the past. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { createPlot, testServer, type TestServer } from './helpers.js';
import { TestWriter } from '../e2e/writer.js';
import { m4 } from '../../server/web/m4.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(() => s?.close());

/** A plot of 5,000 points at x = seq / 100, far more than its maxpoints of 100, all stored. */
async function streamed(extra: Record<string, unknown> = {}): Promise<{ plot: Record<string, unknown>; writer: TestWriter; tokenId: number }> {
  const token = s.newToken();
  const plot = await createPlot(s, [token], extra, 100);
  const writer = new TestWriter(s.server.url, token, (seq) => seq / 100);
  await writer.open();
  for (let i = 0; i < 50; i++) writer.push(100);
  await writer.end();
  const tokenId = s.server.core.accounts.tokenBySecret(token)?.id as number;
  await until('all points stored', () => s.server.core.store.token(tokenId).committedNext === 5000);
  return { plot, writer, tokenId };
}

const range = async (url: string, query: string) => {
  const res = await fetch(`${url}/range${query}`);
  return { status: res.status, body: (await res.json()) as { traces?: { columns: Record<string, unknown[]>; reduced: boolean }[]; error?: string } };
};

describe('GET /~owner/ID/range', () => {
  it('answers every stored point with x in the range, older than maxpoints, all columns', async () => {
    const { plot, writer } = await streamed();
    const { status, body } = await range(plot.url as string, '?from=12.5&to=14');
    expect(status).toBe(200);
    const want = writer.points.filter((p) => p.x >= 12.5 && p.x <= 14);
    expect(want).toHaveLength(151);
    expect(body.traces?.[0]).toEqual({ reduced: false, columns: { x: want.map((p) => p.x), y: want.map((p) => p.y) } });
    // A range outside the stream is empty, not an error.
    expect((await range(plot.url as string, '?from=900&to=1000')).body.traces?.[0]?.columns.x).toEqual([]);
  });

  it('reduces a range of more than the limit to min and max per pixel column, the line unchanged', async () => {
    const { writer, tokenId } = await streamed();
    const answer = s.server.core.store.range(tokenId, { from: 0, to: 49.99, limit: 1000, columns: 50 });
    expect(answer.reduced).toBe(true);
    const xs = writer.xs;
    const ys = writer.points.map((p) => p.y);
    const keep = m4(xs, ys, 0, 49.99, 50);
    expect(answer.columns).toEqual({ x: keep.map((i) => xs[i]), y: keep.map((i) => ys[i]) });
    expect(keep.length).toBeLessThanOrEqual(200);
  });

  it('is as private as the plot: 404 without the share link, 200 with it', async () => {
    const { plot } = await streamed({ world_readable: false });
    expect((await range(plot.url as string, '?from=0&to=1')).status).toBe(404);
    const share = new URL(plot.share_url as string);
    const res = await fetch(`${share.origin}${share.pathname}/range?from=0&to=1&${share.search.slice(1)}`);
    expect(res.status).toBe(200);
  });

  it('refuses a range it cannot read with 400 and the reason', async () => {
    const { plot } = await streamed();
    for (const [query, reason] of [
      ['?to=1', /needs from=/],
      ['?from=apples&to=1', /from is not a number or a date/],
      ['?from=5&to=1', /from \(5\) is after to \(1\)/],
    ] as const) {
      const { status, body } = await range(plot.url as string, query);
      expect(status).toBe(400);
      expect(body.error).toMatch(reason);
    }
  });
});
