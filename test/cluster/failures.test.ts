/**
 * The cluster when parts of it fail, with the project's own stream client (the bridge's) as the
 * writer: a node killed with -9 behind HAProxy, Redis crashed and restarted, PostgreSQL stopped
 * and started. Nothing a writer was told is stored is lost, nothing is doubled, and service comes
 * back by itself.
 */
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HELD_BYTES } from '../../server/ingest/stream-session.js';
import { StreamClient } from '../../bridge/stream-client.js';
import type { LogRecord } from '../../shared/log.js';
import { openEvents, type EventStream, type SseEvent } from '../helpers/sse.js';
import { sleep, until } from '../helpers/wait.js';
import { nodeApi, startCluster, type Cluster, type Node } from './fixture.js';

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ haproxy: true });
}, 90_000);
afterAll(() => c?.close());

async function plotOn(node: { url: string }, token: string): Promise<Record<string, unknown>> {
  const res = await nodeApi(c, node, 'POST', '/api/v1/plots', { title: 'failures', traces: [{ token, maxpoints: 10_000 }] });
  if (res.status !== 201) throw new Error(`plot not made: ${res.status} ${res.text}`);
  return res.json;
}

const eventsOn = (node: Node, plot: Record<string, unknown>): string => `${node.url}${new URL(plot.url as string).pathname}/events`;

/** The trace's stored points as the history in PostgreSQL exports them (x values, in order). */
async function exported(node: { url: string }, plot: Record<string, unknown>): Promise<number[]> {
  const res = await fetch(`${node.url}/api/v1/plots/${plot.id}/traces/0/data?format=ndjson`, { headers: { authorization: `Bearer ${c.apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { x: number }).x);
}

/** Every x a viewer has been sent, in order, read until it has `count`. */
async function viewerXs(stream: EventStream, count: number, seen: number[] = []): Promise<number[]> {
  while (seen.length < count) {
    const e: SseEvent = await stream.next();
    if (e.event === 'init') seen.splice(0, seen.length, ...((e.data.data as { x: number[] }[])[0]?.x ?? []));
    if (e.event === 'append') seen.push(...(e.data.update as { x: number[] }).x);
  }
  return seen;
}

/** The bridge's stream client, pushing point i with x = i every few ms until stopped. */
function writer(server: string, token: string): { client: StreamClient; logs: LogRecord[]; pushed(): number; stop(): Promise<void> } {
  const client = new StreamClient({ server, token, minBackoffMs: 100, maxBackoffMs: 500, ackIntervalMs: 300 });
  const logs: LogRecord[] = [];
  client.on('log', (r) => logs.push(r));
  client.start();
  let n = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 5; i++, n++) client.push(n, n % 97);
  }, 10);
  return {
    client,
    logs,
    pushed: () => n,
    async stop() {
      clearInterval(timer);
      await until('every point stored', () => client.stats.stored === n, 30_000);
      await client.close();
    },
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const health = async (node: Node): Promise<{ streams: number } | undefined> => (await fetch(`${node.url}/api/v1/health`).catch(() => undefined))?.json() as Promise<{ streams: number }> | undefined;

describe('failures', () => {
  it('a bridge writing through HAProxy while its node is killed with -9: every point once, in order; viewers elsewhere never stall', async () => {
    const token = await c.newToken(c.nodes[0] as Node);
    const plot = await plotOn(c.haproxy as { url: string }, token);
    const w = writer((c.haproxy as { url: string }).url, token);
    const victim = await until('the stream to land on a node', async () => {
      for (const node of c.nodes) if ((await health(node))?.streams === 1) return node;
      return undefined;
    });
    const others = c.nodes.filter((n) => n !== victim);
    const viewers = await Promise.all(others.map((n) => openEvents(eventsOn(n, plot))));
    await until('points flowing', () => w.client.stats.stored > 200);
    victim.process?.child.kill('SIGKILL');
    await until('the writer on another node', async () => {
      for (const node of others) if ((await health(node))?.streams === 1) return true;
      return false;
    }, 20_000);
    await until('more points after the move', () => w.client.stats.stored > w.pushed() - 50 && w.pushed() > 600, 20_000);
    await w.stop();
    const total = w.pushed();
    expect(await exported(others[0] as Node, plot)).toEqual(range(total));
    for (const v of viewers) expect(await viewerXs(v, total)).toEqual(range(total));
    for (const v of viewers) v.close();
    await c.startNode(victim);
  });

  it('Redis crashes and restarts mid-stream: the writer gets 503, backs off, and nothing it was told is stored is lost', async () => {
    const node = c.nodes[1] as Node;
    const token = await c.newToken(node);
    const plot = await plotOn(node, token);
    const viewer = await openEvents(eventsOn(c.nodes[2] as Node, plot));
    const w = writer(node.url, token);
    await until('points flowing', () => w.client.stats.stored > 200);
    await c.redis.stop('SIGKILL');
    await until('the writer to be refused', () => w.logs.some((r) => r.status === 503), 10_000);
    const storedBefore = w.client.stats.stored;
    await sleep(300);
    await c.redis.start();
    await until('the writer back', () => w.client.stats.stored > storedBefore + 100, 20_000);
    await w.stop();
    const total = w.pushed();
    expect(await exported(node, plot)).toEqual(range(total));
    // The viewer may have started over (its node lost the feed a moment): what it shows is every point once.
    const seen = await viewerXs(viewer, total);
    expect(seen.slice(-total)).toEqual(range(total));
    viewer.close();
  });

  it('PostgreSQL stops and starts mid-stream: writers get 503 and back off, then the service returns by itself', async () => {
    const node = c.nodes[2] as Node;
    const token = await c.newToken(node);
    const plot = await plotOn(node, token);
    const w = writer(node.url, token);
    await until('points flowing', () => w.client.stats.stored > 200);
    await c.postgres.stop('SIGINT');
    await until('the writer to be refused', () => w.logs.some((r) => r.status === 503), 10_000);
    const refused = await nodeApi(c, node, 'POST', '/api/v1/tokens');
    expect(refused.status).toBe(503);
    await c.postgres.start();
    await until('the writer back', () => w.client.stats.stored > w.pushed() - 50 && w.client.stats.state === 'streaming', 30_000);
    await w.stop();
    expect(await exported(node, plot)).toEqual(range(w.pushed()));
    expect((await nodeApi(c, c.nodes[0] as Node, 'POST', '/api/v1/tokens')).status).toBe(201);
  });
});

describe('bounds', () => {
  it('a stream that sends more than 4 MiB while its token is being claimed gets 503, and nothing of it is kept', async () => {
    const node = c.nodes[0] as Node;
    const token = await c.newToken(node);
    // Redis holds writes (the claim is one) for a moment, as under a failover.
    const control = new Redis(c.redis.url);
    await control.call('CLIENT', 'PAUSE', '3000', 'WRITE');
    try {
      const socket = connect(node.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const received: Buffer[] = [];
      socket.on('data', (d) => received.push(d));
      socket.on('error', () => undefined);
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nplotly-streamtoken: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const line = `${JSON.stringify({ append: { x: Array.from({ length: 5000 }, (_, i) => i), y: Array.from({ length: 5000 }, () => 1) }, seq: 0 })}\n`;
      const body = `${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`;
      for (let sent = 0; sent <= MAX_HELD_BYTES + body.length && !socket.destroyed; sent += body.length) socket.write(body);
      await new Promise((r) => socket.once('close', r));
      const text = Buffer.concat(received).toString();
      expect(Number(text.slice(9, 12))).toBe(503);
      expect(text).toContain(`more than ${MAX_HELD_BYTES} bytes before its token was claimed`);
    } finally {
      await control.call('CLIENT', 'UNPAUSE');
      control.disconnect();
    }
    const state = (await (await fetch(`${node.url}/api/v1/streams/state`, { headers: { 'plotly-streamtoken': token } })).json()) as { next: number };
    expect(state.next).toBe(0);
  });
});
