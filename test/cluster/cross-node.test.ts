/**
 * Three plotwire nodes on one real PostgreSQL and one real Redis: what one node does, every node
 * shows, in the same order with the same event ids; Plotly's rules hold across nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestWriter } from '../e2e/writer.js';
import { openEvents, type EventStream, type SseEvent } from '../helpers/sse.js';
import { nodeApi, startCluster, type Cluster, type Node } from './fixture.js';

let c: Cluster;
let a: Node;
let b: Node;
let cc: Node;
beforeAll(async () => {
  c = await startCluster();
  [a, b, cc] = c.nodes as [Node, Node, Node];
}, 60_000);
afterAll(() => c?.close());

/** A plot made on `node` whose one trace streams from `token`. */
async function plotOn(node: Node, token: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await nodeApi(c, node, 'POST', '/api/v1/plots', { title: 'cluster plot', traces: [{ token, maxpoints: 1000 }], ...extra });
  if (res.status !== 201) throw new Error(`plot not made: ${res.status} ${res.text}`);
  return res.json;
}

/** The plot's events URL on another node. */
const eventsOn = (node: Node, plot: Record<string, unknown>, query = ''): string => `${node.url}${new URL(plot.url as string).pathname}/events${query}`;

/** Reads appends until the viewer has `count` points; returns every event read. */
async function readUntil(stream: EventStream, count: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  let have = 0;
  while (have < count) {
    const e = await stream.next();
    events.push(e);
    if (e.event === 'init') have = ((e.data.data as { x: number[] }[])[0]?.x ?? []).length;
    if (e.event === 'append') have += ((e.data.update as { x: number[] }).x ?? []).length;
  }
  return events;
}

const xsOf = (events: SseEvent[]): number[] =>
  events.flatMap((e) => (e.event === 'init' ? ((e.data.data as { x: number[] }[])[0]?.x ?? []) : e.event === 'append' ? (e.data.update as { x: number[] }).x : []));

describe('streams across nodes', () => {
  it('a writer on A, viewers on B and C: every point, in the same order, with the same event ids', async () => {
    const token = await c.newToken(a);
    const plot = await plotOn(a, token);
    const onB = await openEvents(eventsOn(b, plot));
    const onC = await openEvents(eventsOn(cc, plot));
    expect((await onB.next()).event).toBe('init');
    expect((await onC.next()).event).toBe('init');
    const writer = new TestWriter(a.url, token);
    await writer.open();
    for (let i = 0; i < 20; i++) writer.push(25);
    const [seenB, seenC] = await Promise.all([readUntil(onB, 500), readUntil(onC, 500)]);
    expect(xsOf(seenB)).toEqual(writer.xs);
    expect(xsOf(seenC)).toEqual(writer.xs);
    expect(seenB.map((e) => e.id)).toEqual(seenC.map((e) => e.id));
    const answer = await writer.end();
    expect(answer).toMatchObject({ status: 200, next: 500 });
    onB.close();
    onC.close();
  });
});
