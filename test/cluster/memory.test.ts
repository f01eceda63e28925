/**
 * A cluster node's memory for recent points is bounded over all tokens (--memory-mib), as the
 * embedded server's is: the least recently used tokens' points are dropped from memory and read
 * again from Redis when a viewer needs them, and viewers of a dropped token still get its points.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterServer, type PlotwireServer } from '../../server/index.js';
import type { Core } from '../../server/core.js';
import { createLogger } from '../../shared/log.js';
import { chunk, rawExchange, streamHead } from '../server/helpers.js';
import { openEvents } from '../helpers/sse.js';
import { nodeApi, startCluster, type Cluster, type Node } from './fixture.js';

let c: Cluster;
let server: PlotwireServer<Core>;
let node: Node;
beforeAll(async () => {
  c = await startCluster({ nodes: 1 });
  server = await startClusterServer({ port: 0, host: '127.0.0.1', postgres: c.postgres.url, redis: c.redis.url, nodeId: 'small', memoryMiB: 2, log: createLogger({ quiet: true }) });
  node = { name: 'small', port: server.port, url: server.url, process: undefined };
}, 60_000);
afterAll(async () => {
  await server?.close();
  await c?.close();
});

const bigText = (n: number): string => 'x'.repeat(n);

/** 2,000 points with 200 characters of text each (about 1 MB of recent points, estimated) on `token`, written to the node on `port`. */
async function fill(token: string, from = 0, port = server.port): Promise<void> {
  const text = bigText(200);
  const lines = Array.from({ length: 4 }, (_, b) => `${JSON.stringify({ append: { y: Array.from({ length: 500 }, (_, i) => from + b * 500 + i), text: Array.from({ length: 500 }, () => text) } })}\n`);
  const res = await rawExchange(port, [streamHead(token), ...lines.map(chunk), '0\r\n\r\n']);
  expect(res.status).toBe(200);
}

describe('a cluster node within --memory-mib', () => {
  it('keeps all tokens together within the budget, reads a dropped one back whole, and still streams it to its viewers', async () => {
    const tokens: string[] = [];
    const plots: Record<string, unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      const token = await c.newToken(node);
      tokens.push(token);
      plots.push((await nodeApi(c, node, 'POST', '/api/v1/plots', { title: `memory ${i}`, traces: [{ token, maxpoints: 10_000 }] })).json);
    }
    // A viewer of the first plot, before its token is pushed out of memory by the others.
    const viewer = await openEvents(`${plots[0]?.url as string}/events`);
    expect((await viewer.next()).event).toBe('init');
    for (const token of tokens) await fill(token);
    // About 8 MB of recent points in all, four times the budget.
    const memory = server.core.store.memory;
    expect(memory.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(memory.tokens).toBeLessThan(8);
    // The first token's points were dropped from this node's memory; written again on the other node, its viewer here gets them all the same.
    await fill(tokens[0] as string, 2000, c.nodes[0]?.port);
    const seen: number[] = [];
    while (seen.length < 4000) {
      const e = await viewer.next();
      if (e.event === 'append') seen.push(...(e.data.update as { y: number[] }).y);
    }
    expect(seen).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    viewer.close();
    // Read back whole from Redis for a new viewer: the last 4,000 of the first token, in order.
    const fig = (await nodeApi(c, node, 'GET', `/api/v1/plots/${plots[0]?.id as number}`)).json.figure as { data: { y: number[] }[] };
    expect(fig.data[0]?.y).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    expect(server.core.store.memory.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
